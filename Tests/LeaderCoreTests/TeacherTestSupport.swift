import Foundation
import Testing
@testable import LeaderCore

/// Paths shared by the teacher / tokenizer / model-file tests.
enum TeacherFixtures {
    /// The test bundle's `Fixtures` folder.
    static var root: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    static func json(_ relative: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent(relative)))
    }

    /// SmolLM2-135M-Instruct GGUF: `$LEADER_TEACHER_GGUF`, else `<repo>/models/…` (tools/fetch_model.sh).
    static let smolLM: String? = {
        if let p = ProcessInfo.processInfo.environment["LEADER_TEACHER_GGUF"],
           FileManager.default.fileExists(atPath: p) { return p }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let p = repo.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }()

    static let skipMessage: Comment = "needs models/SmolLM2-135M-Instruct.Q4_1.gguf: run make model"

    /// Whether the tests of the real model run: when it is present, and always under CI (`CI` set; `make test`
    /// fetches it first), where its absence fails their `#require(smolLM)` instead of skipping them by name.
    static var runsModelTests: Bool { smolLM != nil || ProcessInfo.processInfo.environment["CI"] != nil }

    /// The SmolLM2 file and tokenizer, read once for all tests.
    static let smolLMFile: GGUFFile? = smolLM.flatMap { try? GGUFFile(path: $0) }
    static let smolLMTokenizer: BPETokenizer? = smolLMFile.flatMap { try? BPETokenizer(gguf: $0) }

    /// A temporary directory removed by the caller.
    static func tempDir() throws -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("leader-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }
}

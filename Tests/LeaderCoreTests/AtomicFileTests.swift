import Foundation
import Testing
@testable import LeaderCore

/// Every whole-file writer goes through AtomicFile: the target holds the old bytes or the new ones, never a part,
/// and no temporary file is left behind.
@Suite struct AtomicFileTests {
    static func leftovers(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp.") }
    }

    @Test func replacesAndLeavesNoTemporaryFile() throws {
        let dir = DataTestSupport.tempDir("atomic")
        let path = dir + "/out.json"
        try FileWriting.write(Array("old".utf8), to: path)
        try FileWriting.write(Array("new".utf8), to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new")
        #expect(try Self.leftovers(dir).isEmpty)
    }

    @Test func aFailedWriteLeavesTheOldFileAndNoTemporaryFile() throws {
        let dir = DataTestSupport.tempDir("atomic")
        let path = dir + "/out.json"
        try FileWriting.write(Array("old".utf8), to: path)
        expectError(.io, "out.json: disk full (simulated)") {
            try AtomicFile.replace(path) { (tmp: String) throws(LeaderError) in
                FileManager.default.createFile(atPath: tmp, contents: Data("half".utf8))
                throw .io("\(path): disk full (simulated)")
            }
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
        #expect(try Self.leftovers(dir).isEmpty)
        expectError(.io, "/nonexistent-dir/x.json: write failed") {
            try FileWriting.write(Array("x".utf8), to: "/nonexistent-dir/x.json")
        }
    }
}

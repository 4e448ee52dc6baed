import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Files the project ships or fetches (the DDI pairs in `data/`, the default teacher in `models/`), found
/// from any working directory: relative to the working directory first, then in the project folder of the
/// running program when it sits in a build folder (`<project>/.build*/<config>/leader`).
public enum ProjectFiles {
    /// The shipped DDI pair file, relative to the project.
    public static let ddiPairs = "data/ddi_atc3_pairs.csv"

    /// `<project>` when the running program lives under `<project>/.build*/`, else nil.
    public static func projectFolder() -> String? {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        let exe = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var parts = exe.split(separator: "/", omittingEmptySubsequences: false).dropLast()   // the program's folder
        while let last = parts.last, !last.hasPrefix(".build") { parts = parts.dropLast() }
        guard !parts.isEmpty else { return nil }
        return parts.dropLast().joined(separator: "/")
    }

    /// `relative` under the working directory, then under the project folder.
    public static func candidates(_ relative: String) -> [String] {
        [relative] + (projectFolder().map { [$0 + "/" + relative] } ?? [])
    }

    /// The first candidate of `relative` that can be read, nil when none.
    public static func find(_ relative: String) -> String? {
        candidates(relative).first { access($0, R_OK) == 0 }
    }
}

import CLeaderIO
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Files the project ships or fetches (the maps and DDI pairs in `data/`, the default teacher in `models/`),
/// found from any working directory: relative to the working directory first, then beside the running program
/// and the loaded `libleader.so`: in the project folder when either sits in a build folder
/// (`<project>/.build*/<config>/leader`, `<project>/.build*/<config>/libleader.so`: a Python or C host), else in
/// its own folder (the Python wheel: `leader/libleader.so` + `leader/data/`) and the folder above it (the binary
/// distribution: `lib/libleader.so`, `bin/leader` + `data/`).
public enum ProjectFiles {
    /// The shipped DDI pair file, relative to the project.
    public static let ddiPairs = "data/ddi_atc3_pairs.csv"
    /// The shipped medication maps (NDC → ATC3, GSN → ATC, drug name → ATC), relative to the project.
    public static let medicationMaps = "data"

    /// The folders searched after the working directory, each once, in order: for the running program and the
    /// image holding this code, `<project>` when it lives under `<project>/.build*/`, else its folder and the
    /// folder above.
    public static func projectFolders() -> [String] {
        var images: [String] = []
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        if n > 0 { images.append(String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)) }
        if lio_image_path(&buf, buf.count) == 0 {
            images.append(String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        var out: [String] = []
        for image in images {
            let folder = image.split(separator: "/", omittingEmptySubsequences: false).dropLast()   // its folder
            var parts = folder
            while let last = parts.last, !last.hasPrefix(".build") { parts = parts.dropLast() }
            let found = parts.isEmpty ? [folder, folder.dropLast()] : [parts.dropLast()]
            for f in found.map({ $0.joined(separator: "/") }) where !f.isEmpty && !out.contains(f) { out.append(f) }
        }
        return out
    }

    /// `relative` under the working directory, then under the project folders.
    public static func candidates(_ relative: String) -> [String] {
        [relative] + projectFolders().map { $0 + "/" + relative }
    }

    /// The first candidate of `relative` that can be read, nil when none.
    public static func find(_ relative: String) -> String? {
        candidates(relative).first { access($0, R_OK) == 0 }
    }

    /// The shipped medication maps folder (one holding `ndc2atc3.csv`), nil when none is found.
    public static func medicationMapsFolder() -> String? {
        candidates(medicationMaps).first { access($0 + "/ndc2atc3.csv", R_OK) == 0 }
    }
}

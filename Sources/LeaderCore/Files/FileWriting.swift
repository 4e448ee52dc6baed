import CLeaderIO

/// Whole-file writes for generated files (reports, plots, state, benchmark tables), atomic (`AtomicFile`).
public enum FileWriting {
    /// Writes `bytes` to `path`, gzip-compressed at `level` (1…9), or plain when `level` is 0.
    public static func write(_ bytes: [UInt8], to path: String, gzipLevel level: Int = 0) throws(LeaderError) {
        try AtomicFile.replace(path) { (tmp: String) throws(LeaderError) in
            let st = bytes.withUnsafeBufferPointer { lio_write_file(tmp, $0.baseAddress, $0.count, Int32(max(0, min(9, level)))) }
            guard st == 0 else { throw .io("\(path): write failed") }
        }
    }

    /// Appends `field` to `out` as one CSV field, quoted when it holds a comma, quote, CR or LF.
    public static func appendCSVField(_ field: some StringProtocol, to out: inout [UInt8]) {
        let needs = field.utf8.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
        guard needs else {
            out.append(contentsOf: field.utf8)
            return
        }
        out.append(0x22)
        for c in field.utf8 {
            if c == 0x22 { out.append(0x22) }
            out.append(c)
        }
        out.append(0x22)
    }
}

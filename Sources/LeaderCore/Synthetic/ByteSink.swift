#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A buffered, append-only output file written with `fwrite`: the fast path for streaming CSV rows.
final class ByteSink {
    private let file: UnsafeMutablePointer<FILE>
    private let path: String
    private var buffer: [UInt8] = []
    private static let flushAt = 1 << 20
    private(set) var bytesWritten = 0

    /// Opens (truncates) `path` for writing.
    init(path: String) throws(LeaderError) {
        guard let f = fopen(path, "wb") else {
            throw .io("cannot open '\(path)' for writing: \(String(cString: strerror(errno)))")
        }
        file = f
        self.path = path
        buffer.reserveCapacity(Self.flushAt + 4096)
    }

    deinit { fclose(file) }

    @inline(__always) func bytes(_ b: [UInt8]) { buffer.append(contentsOf: b) }
    @inline(__always) func byte(_ b: UInt8) { buffer.append(b) }
    @inline(__always) func comma() { buffer.append(0x2C) }
    @inline(__always) func newline() { buffer.append(0x0A) }
    func text(_ s: String) { buffer.append(contentsOf: s.utf8) }
    /// A string field, quoted if needed.
    func field(_ s: String) { buffer.append(contentsOf: CSV.escaped(s)) }

    /// A non-negative or negative integer in decimal.
    func int(_ v: Int) {
        if v < 0 { buffer.append(UInt8(ascii: "-")) }
        let x = v.magnitude
        var div: UInt = 1
        while div <= x / 10 { div *= 10 }
        while div > 0 {
            buffer.append(UInt8(truncatingIfNeeded: (x / div) % 10) &+ 0x30)
            div /= 10
        }
    }

    /// `YYYY-MM-DD HH:MM:SS` for minutes since 1970-01-01.
    func dateTime(minute: Int) {
        let day = minute >= 0 ? minute / 1440 : (minute - 1439) / 1440
        let m = minute - day * 1440
        date(day: day)
        byte(0x20)
        two(m / 60)
        byte(0x3A)
        two(m % 60)
        bytes(Self.zeroSeconds)
    }

    /// `YYYY-MM-DD 00:00:00` for days since 1970-01-01.
    func dateMidnight(day: Int) {
        date(day: day)
        bytes(Self.midnight)
    }

    private static let zeroSeconds: [UInt8] = Array(":00".utf8)
    private static let midnight: [UInt8] = Array(" 00:00:00".utf8)

    private func date(day: Int) {
        let c = CivilTime.civil(days: day)
        four(c.year)
        byte(0x2D)
        two(c.month)
        byte(0x2D)
        two(c.day)
    }

    @inline(__always) private func two(_ v: Int) {
        buffer.append(UInt8(truncatingIfNeeded: v / 10) &+ 0x30)
        buffer.append(UInt8(truncatingIfNeeded: v % 10) &+ 0x30)
    }

    private func four(_ v: Int) {
        guard v >= 0 && v < 10000 else { int(v); return }
        two(v / 100)
        two(v % 100)
    }

    /// Writes the buffer out when it is large; call after each row group.
    func flushIfFull() throws(LeaderError) {
        if buffer.count >= Self.flushAt { try flush() }
    }

    func flush() throws(LeaderError) {
        guard !buffer.isEmpty else { return }
        let n = buffer.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        guard n == buffer.count else {
            throw .io("write to '\(path)' failed: \(String(cString: strerror(errno)))")
        }
        bytesWritten += n
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and closes the stream's buffers to the OS, reporting errors (e.g. disk full).
    func finish() throws(LeaderError) {
        try flush()
        guard fflush(file) == 0 else { throw .io("write to '\(path)' failed: \(String(cString: strerror(errno)))") }
    }
}

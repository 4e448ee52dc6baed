#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A buffered, append-only output file written with `fwrite`: the fast path for streaming CSV rows.
/// Non-copyable and used as a local `var`: appends go straight into an owned raw buffer, with no reference
/// counting, uniqueness or exclusivity checks.
struct ByteSink: ~Copyable {
    private let file: UnsafeMutablePointer<FILE>
    private let path: String
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var count = 0
    private static let flushAt = 1 << 20
    private(set) var bytesWritten = 0

    /// Opens (truncates) `path` for writing.
    init(path: String) throws(LeaderError) {
        guard let f = fopen(path, "wb") else {
            throw .io("cannot open '\(path)' for writing: \(SystemError.text(errno))")
        }
        file = f
        self.path = path
        capacity = Self.flushAt + (1 << 16)
        base = .allocate(capacity: capacity)
    }

    deinit {
        fclose(file)
        base.deallocate()
    }

    /// Makes room for `n` more bytes (grows the buffer; rows are flushed by `flushIfFull`).
    @inline(__always) private mutating func reserve(_ n: Int) {
        if count + n > capacity { grow(count + n) }
    }

    private mutating func grow(_ needed: Int) {
        let newCapacity = max(2 * capacity, needed)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always) mutating func bytes(_ b: [UInt8]) {
        b.withUnsafeBufferPointer { src in
            reserve(src.count)
            if let p = src.baseAddress { (base + count).update(from: p, count: src.count) }
            count += src.count
        }
    }

    @inline(__always) mutating func byte(_ b: UInt8) {
        reserve(1)
        base[count] = b
        count += 1
    }

    @inline(__always) mutating func comma() { byte(0x2C) }
    @inline(__always) mutating func newline() { byte(0x0A) }
    mutating func text(_ s: String) { bytes(Array(s.utf8)) }
    /// A string field, quoted if needed.
    mutating func field(_ s: String) { bytes(CSV.escaped(s)) }

    /// An integer in decimal.
    mutating func int(_ v: Int) {
        reserve(21)
        if v < 0 { base[count] = UInt8(ascii: "-"); count += 1 }
        var x = v.magnitude
        var digits = 1
        var p: UInt = 10
        while digits < 20 && x >= p {
            digits += 1
            if p > UInt.max / 10 { break }
            p *= 10
        }
        var i = count + digits - 1
        repeat {
            base[i] = UInt8(truncatingIfNeeded: x % 10) &+ 0x30
            x /= 10
            i -= 1
        } while x > 0
        count += digits
    }

    /// `YYYY-MM-DD HH:MM:SS` for minutes since 1970-01-01.
    mutating func dateTime(minute: Int) {
        let day = minute >= 0 ? minute / 1440 : (minute - 1439) / 1440
        let m = minute - day * 1440
        date(day: day)
        reserve(9)
        base[count] = 0x20
        count += 1
        two(m / 60)
        base[count] = 0x3A
        count += 1
        two(m % 60)
        base[count] = 0x3A
        base[count + 1] = 0x30
        base[count + 2] = 0x30
        count += 3
    }

    /// `YYYY-MM-DD 00:00:00` for days since 1970-01-01.
    mutating func dateMidnight(day: Int) {
        date(day: day)
        bytes(Self.midnight)
    }

    private static let midnight: [UInt8] = Array(" 00:00:00".utf8)

    /// `YYYY-MM-DD` for days since 1970-01-01.
    mutating func date(day: Int) {
        let c = CivilTime.civil(days: day)
        guard c.year >= 0 && c.year < 10000 else {
            int(c.year); byte(0x2D); int(c.month); byte(0x2D); int(c.day)
            return
        }
        reserve(10)
        two(c.year / 100)
        two(c.year % 100)
        base[count] = 0x2D
        count += 1
        two(c.month)
        base[count] = 0x2D
        count += 1
        two(c.day)
    }

    /// Two digits; the caller has reserved room.
    @inline(__always) private mutating func two(_ v: Int) {
        base[count] = UInt8(truncatingIfNeeded: v / 10) &+ 0x30
        base[count + 1] = UInt8(truncatingIfNeeded: v % 10) &+ 0x30
        count += 2
    }

    /// Writes the buffer out when it is large; call after each row group.
    mutating func flushIfFull() throws(LeaderError) {
        if count >= Self.flushAt { try flush() }
    }

    mutating func flush() throws(LeaderError) {
        guard count > 0 else { return }
        let n = fwrite(base, 1, count, file)
        guard n == count else {
            throw .io("write to '\(path)' failed: \(SystemError.text(errno))")
        }
        bytesWritten += n
        count = 0
    }

    /// Flushes the buffer and the stream to the OS, reporting errors (e.g. disk full).
    mutating func finish() throws(LeaderError) {
        try flush()
        guard fflush(file) == 0 else { throw .io("write to '\(path)' failed: \(SystemError.text(errno))") }
    }
}

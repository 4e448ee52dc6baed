#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory (`mmap`, `PROT_READ`, `MAP_PRIVATE`). Immutable after `init`, so
/// it can be shared by threads; the mapping lives as long as the object. Model readers hand out byte ranges
/// inside it instead of copying hundreds of megabytes into arrays.
public final class MappedFile: @unchecked Sendable {
    /// The path the file was opened with (used in error messages).
    public let path: String
    /// The file size in bytes.
    public let count: Int
    private let base: UnsafeRawPointer?

    /// Maps `path`. Throws `.io` when the file cannot be opened or mapped.
    public init(path: String) throws(LeaderError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("\(path): cannot open: \(SystemError.text(errno))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io("\(path): cannot stat: \(SystemError.text(errno))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .io("\(path): not a regular file") }
        guard st.st_size >= 0, let size = Int(exactly: st.st_size) else { throw .io("\(path): bad file size") }
        count = size
        if size == 0 {
            base = nil  // mmap rejects length 0; an empty file is an empty buffer
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw .io("\(path): cannot mmap \(size) bytes: \(SystemError.text(errno))") }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// The whole file. Valid only inside `body`; never escape the pointer.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// The bytes of `range`, which the caller has validated to lie inside the file.
    public func withUnsafeBytes<R, E: Error>(in range: Range<Int>,
                                             _ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "MappedFile: range outside the file")
        let start = base.map { $0 + range.lowerBound }
        return try body(UnsafeRawBufferPointer(start: start, count: range.count))
    }

    /// A copy of the bytes of `range` (validated by the caller).
    public func bytes(in range: Range<Int>) -> [UInt8] {
        withUnsafeBytes(in: range) { Array($0) }
    }
}

/// Bounds-checked little-endian reads from an untrusted buffer. Every read checks that its bytes lie inside
/// the buffer and throws `.badFile` naming `file` and the field otherwise; nothing here can trap on bad bytes.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    let file: String
    private(set) var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, file: String, offset: Int = 0) {
        self.bytes = bytes
        self.file = file
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func skip(_ n: Int, _ what: @autoclosure () -> String) throws(LeaderError) {
        guard n >= 0, n <= remaining else {
            throw .badFile("\(file): \(what()): needs \(n) bytes at offset \(offset), file has \(remaining) left (truncated?)")
        }
        offset += n
    }

    mutating func load<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(LeaderError) -> T {
        let n = MemoryLayout<T>.size
        let at = offset
        try skip(n, what())
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: T.self))
    }

    mutating func u8(_ what: @autoclosure () -> String) throws(LeaderError) -> UInt8 { try load(UInt8.self, what()) }
    mutating func u32(_ what: @autoclosure () -> String) throws(LeaderError) -> UInt32 { try load(UInt32.self, what()) }
    mutating func u64(_ what: @autoclosure () -> String) throws(LeaderError) -> UInt64 { try load(UInt64.self, what()) }

    /// A u64 that must fit in `Int` and be at most `limit`.
    mutating func count(_ what: @autoclosure () -> String, limit: Int) throws(LeaderError) -> Int {
        let v = try u64(what())
        guard v <= UInt64(Int.max), Int(v) <= limit else {
            throw .badFile("\(file): \(what()): value \(v) exceeds the limit \(limit) implied by the file size "
                + "(truncated or corrupt?)")
        }
        return Int(v)
    }

    /// `n` raw bytes as a copy.
    mutating func raw(_ n: Int, _ what: @autoclosure () -> String) throws(LeaderError) -> UnsafeRawBufferPointer {
        let at = offset
        try skip(n, what())
        return UnsafeRawBufferPointer(rebasing: bytes[at..<(at + n)])
    }

    /// A UTF-8 string of `n` bytes; invalid UTF-8 is a `.badFile`.
    mutating func utf8(_ n: Int, _ what: @autoclosure () -> String) throws(LeaderError) -> String {
        let b = try raw(n, what())
        guard let s = String(validating: b, as: UTF8.self) else {
            throw .badFile("\(file): \(what()): not valid UTF-8")
        }
        return s
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads whole (small) files: metadata files, maps that are not CSV.
enum FileBytes {
    /// The bytes of `path`, refusing files over `limit` bytes.
    static func read(_ path: String, limit: Int = 1 << 30) throws(LeaderError) -> [UInt8] {
        guard let f = fopen(path, "rb") else { throw .io("\(path): cannot open (\(SystemError.text(errno)))") }
        defer { fclose(f) }
        var st = stat()
        guard fstat(fileno(f), &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { throw .io("\(path): not a regular file") }
        let size = Int(st.st_size)
        guard size <= limit else { throw .badFile("\(path): \(size) bytes, more than the \(limit)-byte limit") }
        var bytes = [UInt8](repeating: 0, count: size)
        let got = bytes.withUnsafeMutableBufferPointer { fread($0.baseAddress, 1, size, f) }
        guard got == size else { throw .io("\(path): short read") }
        return bytes
    }
}

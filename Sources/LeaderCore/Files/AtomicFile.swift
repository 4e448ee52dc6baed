#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file replacement that never leaves a torn file, for every file the library writes in one piece (datasets,
/// checkpoints, reports): `write` fills a temporary file beside `path` (same folder, so the rename is atomic), which
/// is flushed to disk (fsync), renamed over `path`, and the folder is synced so the rename survives a crash. On any
/// failure the temporary file is removed and `path` is left as it was.
enum AtomicFile {
    static func replace(_ path: String, write: (_ temporary: String) throws(LeaderError) -> Void) throws(LeaderError) {
        let tmp = "\(path).tmp.\(getpid())"
        do throws(LeaderError) {
            try write(tmp)
            let fd = open(tmp, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .io("\(tmp): cannot reopen to sync: \(SystemError.text(errno))") }
            let synced = fsync(fd) == 0
            let code = errno
            close(fd)
            guard synced else { throw .io("\(tmp): fsync failed: \(SystemError.text(code))") }
            guard rename(tmp, path) == 0 else {
                throw .io("\(path): cannot rename \(tmp) over it: \(SystemError.text(errno))")
            }
        } catch {
            unlink(tmp)
            throw error
        }
        // best effort: the rename is done; syncing the folder makes it durable
        let dir = path.contains("/") ? String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) : "."
        let dfd = open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Bulk zeroing and copying through libc `memset` / `memcpy`. (The stdlib's generic `initializeMemory` and
/// `update(from:)` are inlined into this module and become element loops in debug builds.)
enum Memory {
    static func zero<T>(_ p: UnsafeMutablePointer<T>, count: Int) {
        _ = memset(p, 0, count * MemoryLayout<T>.stride)
    }

    static func copy<T>(_ dst: UnsafeMutablePointer<T>, from src: UnsafePointer<T>, count: Int) {
        _ = memcpy(dst, src, count * MemoryLayout<T>.stride)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed-size, 64-byte-aligned, zero-initialised buffer of `Element`s: the storage under `Tensor` and
/// `IndexTensor`. Reference type; freed when the last view goes away.
///
/// Buffers of `mappedBytes` or more are anonymous memory mappings of their own (already zero, so pages that
/// are never written are never resident), unmapped when freed: freed activation buffers go back to the OS
/// at once. From the heap, glibc keeps them after its dynamic mmap threshold has risen, and buffers that grow
/// with the batch length left 240 MB of holes in a teacher fine-tune (docs/benchmarks-teacher.md).
public final class AlignedBuffer<Element: BitwiseCopyable> {
    public let count: Int
    public let base: UnsafeMutablePointer<Element>
    private let mappedLength: Int   // 0: from the heap

    /// Buffers at least this large are mapped (page-aligned, so 64-byte aligned).
    public static var mappedBytes: Int { 1 << 20 }

    /// Allocates `count` zeroed elements (count 0 allocates one element so `base` is always valid).
    public init(count: Int) throws(LeaderError) {
        guard count >= 0 else { throw .invalidArgument("buffer size must be >= 0, got \(count)") }
        let bytes = try Checked.product(max(count, 1), MemoryLayout<Element>.stride, "buffer size in bytes")
        if bytes >= Self.mappedBytes {
            guard let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  p != MAP_FAILED else {
                throw .outOfMemory("cannot map a buffer of \(bytes) bytes (\(SystemError.text(errno)))")
            }
            self.base = p.bindMemory(to: Element.self, capacity: max(count, 1))
            mappedLength = bytes
        } else {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            self.base = raw.bindMemory(to: Element.self, capacity: max(count, 1))
            Memory.zero(base, count: max(count, 1))
            mappedLength = 0
        }
        self.count = count
    }

    deinit {
        if mappedLength > 0 {
            munmap(UnsafeMutableRawPointer(base), mappedLength)
        } else {
            UnsafeMutableRawPointer(base).deallocate()
        }
    }

    /// Sets every element to zero bytes.
    public func zero() {
        Memory.zero(base, count: count)
    }
}

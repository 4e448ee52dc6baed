/// A fixed-size, 64-byte-aligned, zero-initialised buffer of `Element`s: the storage under `Tensor` and
/// `IndexTensor`. Reference type; freed when the last view goes away.
public final class AlignedBuffer<Element: BitwiseCopyable> {
    public let count: Int
    public let base: UnsafeMutablePointer<Element>

    /// Allocates `count` zeroed elements (count 0 allocates one element so `base` is always valid).
    public init(count: Int) throws(LeaderError) {
        guard count >= 0 else { throw .invalidArgument("buffer size must be >= 0, got \(count)") }
        let bytes = try Checked.product(max(count, 1), MemoryLayout<Element>.stride, "buffer size in bytes")
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        self.base = raw.bindMemory(to: Element.self, capacity: max(count, 1))
        Memory.zero(base, count: max(count, 1))
        self.count = count
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }

    /// Sets every element to zero bytes.
    public func zero() {
        Memory.zero(base, count: count)
    }
}

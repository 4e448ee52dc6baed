/// A row-major Float tensor: a view (offset + shape) into an `AlignedBuffer<Float>`.
///
/// Tensors have reference semantics, like PyTorch's: copies of a `Tensor` share storage and writes through
/// one are seen by all. Creating a view (`Tensor(viewing:)`, `reshaped`) never copies. Element loops live in
/// kernels; Swift code passes `pointer` to them.
public struct Tensor {
    public let storage: AlignedBuffer<Float>
    public let offset: Int
    public let shape: [Int]
    public let count: Int

    /// A new zero-filled tensor.
    public init(zeros shape: [Int]) throws(LeaderError) {
        let n = try Shape.count(shape)
        self.storage = try AlignedBuffer<Float>(count: n)
        self.offset = 0
        self.shape = shape
        self.count = n
    }

    /// A new tensor holding `values` (tests, fixtures, small constants).
    public init(shape: [Int], values: [Float]) throws(LeaderError) {
        let n = try Shape.count(shape)
        guard values.count == n else {
            throw .invalidArgument("tensor of shape \(shape) needs \(n) values, got \(values.count)")
        }
        try self.init(zeros: shape)
        values.withUnsafeBufferPointer { src in
            if let s = src.baseAddress { Memory.copy(storage.base, from: s, count: n) }
        }
    }

    /// A view of `shape` starting at element `offset` of `storage`.
    public init(viewing storage: AlignedBuffer<Float>, offset: Int, shape: [Int]) throws(LeaderError) {
        let n = try Shape.count(shape)
        let end = try Checked.sum(offset, n, "view end")
        guard end <= storage.count else {
            throw .invalidArgument("view [\(offset), \(end)) exceeds buffer of \(storage.count) floats")
        }
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.count = n
    }

    /// A view whose bounds the caller has already checked (parameter views of a `ParameterStore`).
    init(uncheckedView storage: AlignedBuffer<Float>, offset: Int, shape: [Int], count: Int) {
        precondition(offset >= 0 && count >= 0 && offset + count <= storage.count, "view outside its buffer")
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.count = count
    }

    /// Pointer to the first element; valid while this tensor (or another view of its storage) is alive.
    public var pointer: UnsafeMutablePointer<Float> { storage.base + offset }

    public var rank: Int { shape.count }

    /// The same elements under another shape with the same count.
    public func reshaped(_ newShape: [Int]) throws(LeaderError) -> Tensor {
        let n = try Shape.count(newShape)
        guard n == count else { throw .invalidArgument("cannot reshape \(shape) to \(newShape)") }
        return try Tensor(viewing: storage, offset: offset, shape: newShape)
    }

    /// Copies the elements out (tests, checkpoints).
    public func toArray() -> [Float] {
        Array(UnsafeBufferPointer(start: pointer, count: count))
    }

    /// Overwrites all elements with `values` (same count).
    public func copy(from values: [Float]) throws(LeaderError) {
        guard values.count == count else {
            throw .invalidArgument("tensor of shape \(shape) needs \(count) values, got \(values.count)")
        }
        values.withUnsafeBufferPointer { src in
            if let s = src.baseAddress { Memory.copy(pointer, from: s, count: count) }
        }
    }

    /// Overwrites all elements with those of `other` (same count).
    public func copy(from other: Tensor) throws(LeaderError) {
        guard other.count == count else {
            throw .invalidArgument("cannot copy \(other.shape) into \(shape)")
        }
        Memory.copy(pointer, from: other.pointer, count: count)
    }

    /// Sets every element to zero.
    public func zero() {
        Memory.zero(pointer, count: count)
    }
}

/// A row-major Int32 tensor (token ids, lengths, positions, class targets).
public struct IndexTensor {
    public let storage: AlignedBuffer<Int32>
    public let shape: [Int]
    public let count: Int

    public init(zeros shape: [Int]) throws(LeaderError) {
        let n = try Shape.count(shape)
        self.storage = try AlignedBuffer<Int32>(count: n)
        self.shape = shape
        self.count = n
    }

    public init(shape: [Int], values: [Int32]) throws(LeaderError) {
        try self.init(zeros: shape)
        guard values.count == count else {
            throw .invalidArgument("index tensor of shape \(shape) needs \(count) values, got \(values.count)")
        }
        values.withUnsafeBufferPointer { src in
            if let s = src.baseAddress { Memory.copy(storage.base, from: s, count: count) }
        }
    }

    public var pointer: UnsafeMutablePointer<Int32> { storage.base }

    public func toArray() -> [Int32] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

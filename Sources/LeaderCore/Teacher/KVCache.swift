/// Rotated keys and values of every layer for one sequence (greedy generation): per layer two
/// (kvHeads, capacity, headDim) buffers, filled by the prompt's forward pass and then one token per
/// `LlamaDecoder.decodeStep`.
public final class KVCache {
    public final class Layer {
        let kvHeads: Int, headDim: Int, capacity: Int
        let k: Tensor, v: Tensor
        public private(set) var count = 0

        init(kvHeads: Int, headDim: Int, capacity: Int) throws(LeaderError) {
            self.kvHeads = kvHeads
            self.headDim = headDim
            self.capacity = capacity
            k = try Tensor(zeros: [kvHeads, capacity, headDim])
            v = try Tensor(zeros: [kvHeads, capacity, headDim])
        }

        /// Keys/values (1, kvHeads, t, headDim) of a prompt, stored at positions 0..<t.
        func store(keys: Tensor, values: Tensor, count t: Int) throws(LeaderError) {
            guard keys.shape == [1, kvHeads, t, headDim], values.shape == keys.shape else {
                throw .invalidArgument("KV cache: a prompt must be one sequence, got keys \(keys.shape)")
            }
            guard t <= capacity else { throw .invalidArgument("KV cache: \(t) tokens exceed its capacity \(capacity)") }
            for j in 0..<kvHeads {
                Memory.copy(k.pointer + j * capacity * headDim, from: keys.pointer + j * t * headDim, count: t * headDim)
                Memory.copy(v.pointer + j * capacity * headDim, from: values.pointer + j * t * headDim,
                            count: t * headDim)
            }
            count = t
        }

        /// One token's key and value, (kvHeads·headDim) each.
        func append(key: Tensor, value: Tensor) throws(LeaderError) {
            guard key.count == kvHeads * headDim, value.count == key.count else {
                throw .invalidArgument("KV cache: a step needs \(kvHeads * headDim) values")
            }
            guard count < capacity else { throw .invalidArgument("KV cache is full (\(capacity) tokens)") }
            for j in 0..<kvHeads {
                Memory.copy(k.pointer + (j * capacity + count) * headDim, from: key.pointer + j * headDim, count: headDim)
                Memory.copy(v.pointer + (j * capacity + count) * headDim, from: value.pointer + j * headDim,
                            count: headDim)
            }
            count += 1
        }

        func keys(head j: Int) -> UnsafeMutablePointer<Float> { k.pointer + j * capacity * headDim }
        func values(head j: Int) -> UnsafeMutablePointer<Float> { v.pointer + j * capacity * headDim }
    }

    public let layers: [Layer]
    public let capacity: Int

    public init(config c: LlamaConfig, capacity: Int) throws(LeaderError) {
        guard capacity > 0 else { throw .invalidArgument("KV cache capacity must be > 0") }
        _ = try Checked.product(try Checked.product(c.kvHeads, capacity, "KV cache"), c.headDim, "KV cache")
        var l: [Layer] = []
        for _ in 0..<c.layers { l.append(try Layer(kvHeads: c.kvHeads, headDim: c.headDim, capacity: capacity)) }
        layers = l
        self.capacity = capacity
    }

    /// Tokens held.
    public var count: Int { layers.first?.count ?? 0 }
}

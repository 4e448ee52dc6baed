import CLeaderKernels

/// Token embedding: ids (any shape, Int32) → (ids..., dim). A negative id is padding and gives a zero row
/// (and no gradient). Ids ≥ vocab are rejected.
public final class Embedding {
    public let vocab: Int
    public let dim: Int
    public let weight: Parameter
    let store: ParameterStore
    private var ids: IndexTensor?
    private var output: Tensor?

    /// Registers `<name>.weight` (vocab, dim), N(0,1) like PyTorch.
    public init(_ store: ParameterStore, _ name: String, vocab: Int, dim: Int,
                initializer: Initializer = .embeddingDefault) throws(LeaderError)
    {
        guard vocab > 0, dim > 0 else { throw .invalidArgument("\(name): Embedding sizes must be > 0") }
        self.store = store
        self.vocab = vocab
        self.dim = dim
        weight = try store.register("\(name).weight", shape: [vocab, dim], initializer: initializer)
    }

    /// A second instance over the SAME parameters with its own forward caches (weight sharing: apply one
    /// module to several inputs in one step; gradients of all instances accumulate into the same store).
    public init(sharingParametersOf other: Embedding) {
        store = other.store
        vocab = other.vocab
        dim = other.dim
        weight = other.weight
    }

    public func forward(_ ids: IndexTensor, _ ctx: Context) throws(LeaderError) -> Tensor {
        if let id = ids.firstValue(outside: Int32.min, Int32(clamping: vocab)) {
            throw .invalidArgument("\(weight.name): id \(id) outside vocabulary of \(vocab)")
        }
        let y = try Workspace.ensure(&output, ids.shape + [dim])
        lk_embedding_forward(y.pointer, store.value(weight).pointer, ids.pointer, Int64(ids.count), Int64(dim),
                             ctx.t32)
        self.ids = ids
        return y
    }

    /// Scatter-adds dOut rows into the table's gradient.
    public func backward(_ dOut: Tensor, _ ctx: Context) throws(LeaderError) {
        let ids = try Checks.cached(ids, weight.name)
        try Checks.same(dOut, ids.shape + [dim], "\(weight.name) dOut")
        guard store.trainable else { return }
        lk_embedding_backward(store.grad(weight).pointer, dOut.pointer, ids.pointer, Int64(ids.count),
                              Int64(dim), ctx.t32)
    }
}

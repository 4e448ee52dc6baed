import CLeaderKernels

/// `y = x Wᵀ + b` over the last dimension; weight stored (out, in) like PyTorch, bias optional.
/// Input (..., in) → output (..., out).
public final class Linear {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?
    let store: ParameterStore
    private var input: Tensor?
    private var output: Tensor?

    /// Registers `<name>.weight` (out,in) and, with `bias`, `<name>.bias` (out), PyTorch-default initialised.
    public init(_ store: ParameterStore, _ name: String, inFeatures: Int, outFeatures: Int, bias: Bool = true)
        throws(LeaderError)
    {
        guard inFeatures > 0, outFeatures > 0 else {
            throw .invalidArgument("\(name): Linear sizes must be > 0, got \(inFeatures) → \(outFeatures)")
        }
        self.store = store
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let initializer = Initializer.linearDefault(fanIn: inFeatures)
        weight = try store.register("\(name).weight", shape: [outFeatures, inFeatures], initializer: initializer)
        self.bias = bias ? try store.register("\(name).bias", shape: [outFeatures], initializer: initializer) : nil
    }

    /// A second instance over the SAME parameters with its own forward caches (weight sharing: apply one
    /// module to several inputs in one step; gradients of all instances accumulate into the same store).
    public init(sharingParametersOf other: Linear) {
        store = other.store
        inFeatures = other.inFeatures
        outFeatures = other.outFeatures
        weight = other.weight
        bias = other.bias
    }

    /// Caches `x` (which must stay unchanged until `backward`); the result is valid until the next forward.
    public func forward(_ x: Tensor, _ ctx: Context) throws(LeaderError) -> Tensor {
        let rows = try Checks.rows(x, lastDim: inFeatures, weight.name)
        let y = try Workspace.ensure(&output, Array(x.shape.dropLast()) + [outFeatures])
        Gemm.run(y.pointer, x.pointer, store.value(weight).pointer, m: rows, n: outFeatures, k: inFeatures,
                 transB: true, threads: ctx.threads)
        if let bias {
            lk_add_bias(y.pointer, store.value(bias).pointer, Int64(rows), Int64(outFeatures), ctx.t32)
        }
        input = x
        return y
    }

    /// Accumulates dW, db (trainable store only) and, when `dIn` is given, dx += dOut W.
    public func backward(_ dOut: Tensor, into dIn: Tensor?, _ ctx: Context) throws(LeaderError) {
        let x = try Checks.cached(input, weight.name)
        try Checks.same(dOut, Array(x.shape.dropLast()) + [outFeatures], "\(weight.name) dOut")
        let rows = x.count / inFeatures
        if let dIn {
            try Checks.same(dIn, x.shape, "\(weight.name) dIn")
            Gemm.run(dIn.pointer, dOut.pointer, store.value(weight).pointer, m: rows, n: inFeatures,
                     k: outFeatures, beta: 1, threads: ctx.threads)
        }
        guard store.trainable else { return }
        Gemm.run(store.grad(weight).pointer, dOut.pointer, x.pointer, m: outFeatures, n: inFeatures, k: rows,
                 transA: true, beta: 1, threads: ctx.threads)
        if let bias {
            lk_sum_rows(store.grad(bias).pointer, dOut.pointer, Int64(rows), Int64(outFeatures), ctx.t32)
        }
    }
}

import CLeaderKernels

/// LayerNorm over the last dimension: `(x - mean) / sqrt(var + eps) * weight + bias` (weight 1, bias 0).
public final class LayerNorm: Layer {
    public let channels: Int
    public let eps: Float
    public let weight: Parameter
    public let bias: Parameter
    let store: ParameterStore
    private var input: Tensor?
    private var output: Tensor?
    private var scratch: Tensor?
    private var frozenGrads: Tensor?
    private var mean: Tensor?
    private var rstd: Tensor?

    public init(_ store: ParameterStore, _ name: String, channels: Int, eps: Float = 1e-5) throws(LeaderError) {
        guard channels > 0 else { throw .invalidArgument("\(name): LayerNorm channels must be > 0") }
        self.store = store
        self.channels = channels
        self.eps = eps
        weight = try store.register("\(name).weight", shape: [channels], initializer: .ones)
        bias = try store.register("\(name).bias", shape: [channels], initializer: .zeros)
    }

    /// A second instance over the SAME parameters with its own forward caches (weight sharing: apply one
    /// module to several inputs in one step; gradients of all instances accumulate into the same store).
    public init(sharingParametersOf other: LayerNorm) {
        store = other.store
        channels = other.channels
        eps = other.eps
        weight = other.weight
        bias = other.bias
    }

    public func forward(_ x: Tensor, _ ctx: Context) throws(LeaderError) -> Tensor {
        let rows = try Checks.rows(x, lastDim: channels, weight.name)
        let y = try Workspace.ensure(&output, x.shape)
        let m = try Workspace.ensure(&mean, [rows])
        let r = try Workspace.ensure(&rstd, [rows])
        lk_layernorm_forward(y.pointer, m.pointer, r.pointer, x.pointer, store.value(weight).pointer,
                             store.value(bias).pointer, Int64(rows), Int64(channels), eps, ctx.t32)
        input = x
        return y
    }

    public func backward(_ dOut: Tensor, into dIn: Tensor?, _ ctx: Context) throws(LeaderError) {
        let x = try Checks.cached(input, weight.name)
        try Checks.same(dOut, x.shape, "\(weight.name) dOut")
        let m = try Checks.cached(mean, weight.name), r = try Checks.cached(rstd, weight.name)
        let rows = x.count / channels
        // The kernel always writes din; without a caller buffer it goes to a scratch one.
        let din: Tensor
        if let dIn { try Checks.same(dIn, x.shape, "\(weight.name) dIn"); din = dIn } else {
            din = try Workspace.ensure(&scratch, x.shape)
        }
        // A frozen store has no gradients: the kernel's parameter gradients go to a discarded scratch.
        let dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>
        if store.trainable {
            dWeight = store.grad(weight).pointer
            dBias = store.grad(bias).pointer
        } else {
            let s = try Workspace.ensure(&frozenGrads, [2, channels])
            dWeight = s.pointer
            dBias = s.pointer + channels
        }
        lk_layernorm_backward(din.pointer, dWeight, dBias, dOut.pointer,
                              x.pointer, store.value(weight).pointer, m.pointer, r.pointer,
                              Int64(rows), Int64(channels), ctx.t32)
    }
}

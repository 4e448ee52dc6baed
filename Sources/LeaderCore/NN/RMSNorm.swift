import CLeaderKernels

/// RMSNorm over the last dimension (LLaMA): `x / sqrt(mean(x²) + eps) * weight` (weight 1).
public final class RMSNorm: Layer {
    public let channels: Int
    public let eps: Float
    public let weight: Parameter
    let store: ParameterStore
    private var input: Tensor?
    private var output: Tensor?
    private var scratch: Tensor?
    private var rstd: Tensor?

    public init(_ store: ParameterStore, _ name: String, channels: Int, eps: Float = 1e-6) throws(LeaderError) {
        guard channels > 0 else { throw .invalidArgument("\(name): RMSNorm channels must be > 0") }
        self.store = store
        self.channels = channels
        self.eps = eps
        weight = try store.register("\(name).weight", shape: [channels], initializer: .ones)
    }

    /// A second instance over the SAME parameters with its own forward caches (weight sharing: apply one
    /// module to several inputs in one step; gradients of all instances accumulate into the same store).
    public init(sharingParametersOf other: RMSNorm) {
        store = other.store
        channels = other.channels
        eps = other.eps
        weight = other.weight
    }

    public func forward(_ x: Tensor, _ ctx: Context) throws(LeaderError) -> Tensor {
        let rows = try Checks.rows(x, lastDim: channels, weight.name)
        let y = try Workspace.ensure(&output, x.shape)
        let r = try Workspace.ensure(&rstd, [rows])
        lk_rmsnorm_forward(y.pointer, r.pointer, x.pointer, store.value(weight).pointer, Int64(rows),
                           Int64(channels), eps, ctx.t32)
        input = x
        return y
    }

    public func backward(_ dOut: Tensor, into dIn: Tensor?, _ ctx: Context) throws(LeaderError) {
        let x = try Checks.cached(input, weight.name)
        try Checks.same(dOut, x.shape, "\(weight.name) dOut")
        let r = try Checks.cached(rstd, weight.name)
        let din: Tensor
        if let dIn { try Checks.same(dIn, x.shape, "\(weight.name) dIn"); din = dIn } else {
            din = try Workspace.ensure(&scratch, x.shape)
        }
        let dWeight = store.trainable ? store.grad(weight).pointer : nil
        lk_rmsnorm_backward(din.pointer, dWeight, dOut.pointer, x.pointer,
                            store.value(weight).pointer, r.pointer, Int64(rows(x)), Int64(channels), ctx.t32)
    }

    private func rows(_ x: Tensor) -> Int { x.count / channels }
}

import CLeaderKernels

/// Inverted dropout with probability `p`, counter-based: the mask is a function of a per-call key drawn
/// from the context, so backward recomputes it instead of storing it. Identity in eval mode or when p == 0.
public final class Dropout: Layer {
    public let p: Float
    private var key: UInt64?
    private var active = false
    private var output: Tensor?

    public init(p: Float) throws(LeaderError) {
        guard p >= 0, p < 1 else { throw .invalidArgument("dropout probability must be in [0, 1), got \(p)") }
        self.p = p
    }

    /// Returns `x` itself when inactive; otherwise a module-owned buffer.
    public func forward(_ x: Tensor, _ ctx: Context) throws(LeaderError) -> Tensor {
        active = ctx.training && p > 0
        guard active else { key = nil; return x }
        let k = ctx.nextDropoutKey()
        let y = try Workspace.ensure(&output, x.shape)
        lk_dropout_forward(y.pointer, x.pointer, Int64(x.count), p, k, 0, ctx.t32)
        key = k
        return y
    }

    public func backward(_ dOut: Tensor, into dIn: Tensor?, _ ctx: Context) throws(LeaderError) {
        guard let dIn else { return }
        try Checks.same(dIn, dOut.shape, "dropout dIn")
        if active, let key {
            lk_dropout_backward(dIn.pointer, dOut.pointer, Int64(dOut.count), p, key, 0, ctx.t32)
        } else {
            lk_axpy(dIn.pointer, dOut.pointer, 1, Int64(dOut.count), ctx.t32)
        }
    }
}

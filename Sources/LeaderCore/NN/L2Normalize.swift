import CLeaderKernels

/// Row-wise L2 normalisation over the last dimension (PyTorch `F.normalize(x, dim=-1, eps)`): turns a dot
/// product into a cosine similarity (contrastive alignment).
public final class L2Normalize: Layer {
    public let eps: Float
    private var output: Tensor?
    private var norms: Tensor?

    public init(eps: Float = 1e-12) throws(LeaderError) {
        guard eps > 0 else { throw .invalidArgument("L2Normalize: eps must be > 0, got \(eps)") }
        self.eps = eps
    }

    public func forward(_ x: Tensor, _ ctx: Context) throws(LeaderError) -> Tensor {
        guard let c = x.shape.last, c > 0 else { throw .invalidArgument("L2Normalize: bad shape \(x.shape)") }
        let rows = x.count / c
        let y = try Workspace.ensure(&output, x.shape)
        let n = try Workspace.ensure(&norms, [rows])
        lk_l2_normalize_forward(y.pointer, n.pointer, x.pointer, Int64(rows), Int64(c), eps, ctx.t32)
        return y
    }

    public func backward(_ dOut: Tensor, into dIn: Tensor?, _ ctx: Context) throws(LeaderError) {
        let y = try Checks.cached(output, "L2Normalize"), n = try Checks.cached(norms, "L2Normalize")
        try Checks.same(dOut, y.shape, "L2Normalize dOut")
        guard let dIn else { return }
        try Checks.same(dIn, y.shape, "L2Normalize dIn")
        lk_l2_normalize_backward(dIn.pointer, dOut.pointer, y.pointer, n.pointer, Int64(n.count),
                                 Int64(y.count / max(n.count, 1)), eps, ctx.t32)
    }
}

import CLeaderKernels

/// RMSNorm with a frozen F32 weight (dequantised from the model file) and shared buffers: `x * rstd * w`.
/// Backward passes the input gradient only (the weight is frozen).
final class DecoderNorm {
    let weight: Tensor
    let eps: Float
    let buffers: NormBuffers
    private var input: Tensor?

    init(weight: Tensor, eps: Float, buffers: NormBuffers) {
        self.weight = weight
        self.eps = eps
        self.buffers = buffers
    }

    func forward(_ x: Tensor, _ ctx: Context) throws(LeaderError) -> Tensor {
        let c = weight.count
        let rows = try Checks.rows(x, lastDim: c, "RMSNorm")
        let y = try Workspace.ensure(&buffers.output, x.shape)
        let r = try Workspace.ensure(&buffers.rstd, [rows])
        lk_rmsnorm_forward(y.pointer, r.pointer, x.pointer, weight.pointer, Int64(rows), Int64(c), eps, ctx.t32)
        input = x
        return y
    }

    /// dIn += ∂/∂x. `x` and rstd of the last forward must be intact (owned buffers of an adapted layer).
    func backward(_ dOut: Tensor, into dIn: Tensor, _ ctx: Context) throws(LeaderError) {
        let x = try Checks.cached(input, "RMSNorm")
        let r = try Checks.cached(buffers.rstd, "RMSNorm")
        try Checks.same(dOut, x.shape, "RMSNorm dOut")
        try Checks.same(dIn, x.shape, "RMSNorm dIn")
        let c = weight.count
        lk_rmsnorm_backward(dIn.pointer, nil, dOut.pointer, x.pointer, weight.pointer, r.pointer, Int64(x.count / c),
                            Int64(c), ctx.t32)
    }
}

import CLeaderKernels

/// Multi-head scaled dot-product attention over right-padded sequences (B,T,C) with per-sample lengths.
///
/// Key padding: query rows attend to keys `0..<len[b]`; with `causal`, to keys `0...min(t, len[b]-1)`.
/// Grouped-query: `kvHeads` key/value heads, each shared by `heads/kvHeads` consecutive query heads. In the
/// (B,H,T,D) layout the query heads of one group are contiguous, so every product is one batched GEMM over
/// B·kvHeads blocks of (group·T) rows, with no copies of k or v. Optional RoPE on q and k (positions (B,T)).
/// Parameters `<name>.q.*`, `<name>.k.*`, `<name>.v.*`, `<name>.o.*`.
public final class MultiHeadAttention {
    public let config: AttentionConfig
    public let q: Linear, k: Linear, v: Linear, o: Linear
    let probDropout: Dropout
    private let name: String

    // forward caches
    private var dims: (b: Int, t: Int)?
    private var positions: IndexTensor?
    private var rowLen: IndexTensor?
    private var qRot: Tensor?, kRot: Tensor?
    private var qh: Tensor?, kh: Tensor?, vh: Tensor?
    private var scores: Tensor?, probs: Tensor?, probsUsed: Tensor?
    private var ctxh: Tensor?, ctx: Tensor?
    // backward scratch
    private var dCtx: Tensor?, dCtxh: Tensor?, dProbsUsed: Tensor?, dProbs: Tensor?, dScores: Tensor?
    private var dQh: Tensor?, dKh: Tensor?, dVh: Tensor?, dQ: Tensor?, dK: Tensor?, dV: Tensor?
    private var dQPre: Tensor?, dKPre: Tensor?

    public init(_ store: ParameterStore, _ name: String, _ config: AttentionConfig) throws(LeaderError) {
        try config.validate(name)
        self.config = config
        self.name = name
        let c = config.channels, kv = config.kvHeads * config.headDim
        q = try Linear(store, "\(name).q", inFeatures: c, outFeatures: c, bias: config.qkvBias)
        k = try Linear(store, "\(name).k", inFeatures: c, outFeatures: kv, bias: config.qkvBias)
        v = try Linear(store, "\(name).v", inFeatures: c, outFeatures: kv, bias: config.qkvBias)
        o = try Linear(store, "\(name).o", inFeatures: c, outFeatures: c, bias: config.outBias)
        probDropout = try Dropout(p: config.probDropout)
    }

    /// A second instance over the SAME parameters with its own forward caches (weight sharing: apply one
    /// module to several inputs in one step; gradients of all instances accumulate into the same store).
    public init(sharingParametersOf other: MultiHeadAttention) throws(LeaderError) {
        config = other.config
        name = other.name
        q = Linear(sharingParametersOf: other.q)
        k = Linear(sharingParametersOf: other.k)
        v = Linear(sharingParametersOf: other.v)
        o = Linear(sharingParametersOf: other.o)
        probDropout = try Dropout(p: config.probDropout)
    }

    /// x (B,T,C), lengths (B) in [0,T], positions (B,T) (required with RoPE) → (B,T,C).
    public func forward(_ x: Tensor, lengths: IndexTensor, positions: IndexTensor? = nil, _ ctx: Context)
        throws(LeaderError) -> Tensor
    {
        let (b, t) = try Checks.sequence(x, lengths: lengths, channels: config.channels, name)
        let h = config.heads, hkv = config.kvHeads, d = config.headDim, group = h / hkv
        var qp = try q.forward(x, ctx), kp = try k.forward(x, ctx)
        let vp = try v.forward(x, ctx)
        if let rope = config.rope {
            guard let positions, positions.shape == [b, t] else {
                throw .invalidArgument("\(name): RoPE needs positions of shape [\(b), \(t)]")
            }
            let qr = try Workspace.ensure(&qRot, qp.shape), kr = try Workspace.ensure(&kRot, kp.shape)
            lk_rope_forward(qr.pointer, qp.pointer, positions.pointer, Int64(b), Int64(t), Int64(h), Int64(d),
                            rope.theta, rope.layout.rawValue, ctx.t32)
            lk_rope_forward(kr.pointer, kp.pointer, positions.pointer, Int64(b), Int64(t), Int64(hkv), Int64(d),
                            rope.theta, rope.layout.rawValue, ctx.t32)
            qp = qr
            kp = kr
            self.positions = positions
        }
        let qH = try Workspace.ensure(&qh, [b, h, t, d])
        let kH = try Workspace.ensure(&kh, [b, hkv, t, d]), vH = try Workspace.ensure(&vh, [b, hkv, t, d])
        lk_swap12_forward(qH.pointer, qp.pointer, Int64(b), Int64(t), Int64(h), Int64(d), ctx.t32)
        lk_swap12_forward(kH.pointer, kp.pointer, Int64(b), Int64(t), Int64(hkv), Int64(d), ctx.t32)
        lk_swap12_forward(vH.pointer, vp.pointer, Int64(b), Int64(t), Int64(hkv), Int64(d), ctx.t32)

        let s = try Workspace.ensure(&scores, [b, h, t, t])
        Gemm.batched(s.pointer, qH.pointer, kH.pointer, batch: b * hkv, m: group * t, n: t, k: d, transB: true,
                     threads: ctx.threads)
        let rl = try Workspace.ensure(&rowLen, [b * h * t])
        lk_attention_row_len(rl.pointer, lengths.pointer, Int64(b), Int64(h), Int64(t), config.causal ? 1 : 0,
                             ctx.t32)
        let p = try Workspace.ensure(&probs, [b, h, t, t])
        lk_softmax_forward(p.pointer, s.pointer, rl.pointer, Int64(b * h * t), Int64(t), scale, ctx.t32)
        let pu = try probDropout.forward(p, ctx)
        probsUsed = pu

        let cH = try Workspace.ensure(&ctxh, [b, h, t, d])
        Gemm.batched(cH.pointer, pu.pointer, vH.pointer, batch: b * hkv, m: group * t, n: d, k: t,
                     threads: ctx.threads)
        let c = try Workspace.ensure(&self.ctx, [b, t, config.channels])
        lk_swap12_forward(c.pointer, cH.pointer, Int64(b), Int64(h), Int64(t), Int64(d), ctx.t32)
        dims = (b, t)
        return try o.forward(c, ctx)
    }

    /// Accumulates all parameter gradients and dx into `dIn` (B,T,C).
    public func backward(_ dOut: Tensor, into dIn: Tensor?, _ ctx: Context) throws(LeaderError) {
        let (b, t) = try Checks.cached(dims, name)
        let h = config.heads, hkv = config.kvHeads, d = config.headDim, group = h / hkv
        let qH = try Checks.cached(qh, name), kH = try Checks.cached(kh, name), vH = try Checks.cached(vh, name)
        let p = try Checks.cached(probs, name), pu = try Checks.cached(probsUsed, name)

        let dc = try Workspace.zeroed(&dCtx, [b, t, config.channels])
        try o.backward(dOut, into: dc, ctx)
        let dcH = try Workspace.zeroed(&dCtxh, [b, h, t, d])
        lk_swap12_backward(dcH.pointer, dc.pointer, Int64(b), Int64(h), Int64(t), Int64(d), ctx.t32)

        let dpu = try Workspace.ensure(&dProbsUsed, [b, h, t, t])
        Gemm.batched(dpu.pointer, dcH.pointer, vH.pointer, batch: b * hkv, m: group * t, n: t, k: d, transB: true,
                     threads: ctx.threads)
        let dvH = try Workspace.ensure(&dVh, [b, hkv, t, d])
        Gemm.batched(dvH.pointer, pu.pointer, dcH.pointer, batch: b * hkv, m: t, n: d, k: group * t, transA: true,
                     threads: ctx.threads)
        let dp = try Workspace.zeroed(&dProbs, [b, h, t, t])
        try probDropout.backward(dpu, into: dp, ctx)
        let ds = try Workspace.zeroed(&dScores, [b, h, t, t])
        lk_softmax_backward(ds.pointer, dp.pointer, p.pointer, Int64(b * h * t), Int64(t), scale, ctx.t32)

        let dqH = try Workspace.ensure(&dQh, [b, h, t, d]), dkH = try Workspace.ensure(&dKh, [b, hkv, t, d])
        Gemm.batched(dqH.pointer, ds.pointer, kH.pointer, batch: b * hkv, m: group * t, n: d, k: t,
                     threads: ctx.threads)
        Gemm.batched(dkH.pointer, ds.pointer, qH.pointer, batch: b * hkv, m: t, n: d, k: group * t, transA: true,
                     threads: ctx.threads)

        let dq = try Workspace.zeroed(&dQ, [b, t, h * d])
        let dk = try Workspace.zeroed(&dK, [b, t, hkv * d]), dv = try Workspace.zeroed(&dV, [b, t, hkv * d])
        lk_swap12_backward(dq.pointer, dqH.pointer, Int64(b), Int64(t), Int64(h), Int64(d), ctx.t32)
        lk_swap12_backward(dk.pointer, dkH.pointer, Int64(b), Int64(t), Int64(hkv), Int64(d), ctx.t32)
        lk_swap12_backward(dv.pointer, dvH.pointer, Int64(b), Int64(t), Int64(hkv), Int64(d), ctx.t32)
        var dqIn = dq, dkIn = dk
        if let rope = config.rope {
            let pos = try Checks.cached(positions, name)
            dqIn = try Workspace.zeroed(&dQPre, dq.shape)
            dkIn = try Workspace.zeroed(&dKPre, dk.shape)
            lk_rope_backward(dqIn.pointer, dq.pointer, pos.pointer, Int64(b), Int64(t), Int64(h), Int64(d),
                             rope.theta, rope.layout.rawValue, ctx.t32)
            lk_rope_backward(dkIn.pointer, dk.pointer, pos.pointer, Int64(b), Int64(t), Int64(hkv), Int64(d),
                             rope.theta, rope.layout.rawValue, ctx.t32)
        }
        try q.backward(dqIn, into: dIn, ctx)
        try k.backward(dkIn, into: dIn, ctx)
        try v.backward(dv, into: dIn, ctx)
    }

    private var scale: Float { 1 / Float(config.headDim).squareRoot() }
}

import CLeaderKernels

/// Causal grouped-query self-attention of a LLaMA layer over right-padded sequences (B,T,C) with lengths,
/// RoPE on q and k, projections `QuantLinear` (frozen file weights + optional LoRA). The same kernels and
/// layout as `MultiHeadAttention` (q/k/v swapped to (B,H,T,D); the query heads of one kv group are
/// contiguous, so every product is one batched GEMM over B·kvHeads blocks and k/v are never repeated).
/// `decode` runs one new token against a `KVCache` (generation).
public final class DecoderAttention {
    public let q: QuantLinear, k: QuantLinear, v: QuantLinear, o: QuantLinear
    let heads: Int, kvHeads: Int, headDim: Int, channels: Int
    let theta: Float, layout: Int32
    private let name: String

    private var dims: (b: Int, t: Int)?
    private var positions: IndexTensor?
    let buffers: AttentionBuffers
    let scratch: AttentionScratch
    let grads: AttentionGradBuffers

    init(q: QuantLinear, k: QuantLinear, v: QuantLinear, o: QuantLinear, config c: LlamaConfig, name: String,
         buffers: AttentionBuffers, scratch: AttentionScratch, grads: AttentionGradBuffers) {
        self.buffers = buffers
        self.scratch = scratch
        self.grads = grads
        self.q = q
        self.k = k
        self.v = v
        self.o = o
        heads = c.heads
        kvHeads = c.kvHeads
        headDim = c.headDim
        channels = c.dModel
        theta = Float(c.ropeTheta)
        layout = c.ropeLayout == .adjacentPairs ? Int32(LK_ROPE_ADJACENT) : Int32(LK_ROPE_HALF)
        self.name = name
    }

    private var scale: Float { 1 / Float(headDim).squareRoot() }

    /// x (B,T,C), lengths (B), positions (B,T) → (B,T,C). With `cache`, the rotated keys and the values of
    /// sample 0 (B must be 1) are stored at positions 0..<T for later `decode` steps.
    func forward(_ x: Tensor, lengths: IndexTensor, positions: IndexTensor, cache: KVCache.Layer? = nil,
                 _ ctx: Context) throws(LeaderError) -> Tensor {
        let (b, t) = try Checks.sequence(x, lengths: lengths, channels: channels, name)
        let h = heads, hkv = kvHeads, d = headDim, group = h / hkv
        let xq = try q.quantizedInput(x, ctx)   // int8 precision: quantise the shared input once
        let qp = try q.forward(x, quantized: xq, ctx), kp = try k.forward(x, quantized: xq, ctx)
        let vp = try v.forward(x, quantized: xq, ctx)
        let qr = try Workspace.ensure(&scratch.qRot, qp.shape), kr = try Workspace.ensure(&scratch.kRot, kp.shape)
        lk_rope_forward(qr.pointer, qp.pointer, positions.pointer, Int64(b), Int64(t), Int64(h), Int64(d), theta,
                        layout, ctx.t32)
        lk_rope_forward(kr.pointer, kp.pointer, positions.pointer, Int64(b), Int64(t), Int64(hkv), Int64(d), theta,
                        layout, ctx.t32)
        self.positions = positions
        let qH = try Workspace.ensure(&buffers.qh, [b, h, t, d])
        let kH = try Workspace.ensure(&buffers.kh, [b, hkv, t, d]), vH = try Workspace.ensure(&buffers.vh, [b, hkv, t, d])
        lk_swap12_forward(qH.pointer, qr.pointer, Int64(b), Int64(t), Int64(h), Int64(d), ctx.t32)
        lk_swap12_forward(kH.pointer, kr.pointer, Int64(b), Int64(t), Int64(hkv), Int64(d), ctx.t32)
        lk_swap12_forward(vH.pointer, vp.pointer, Int64(b), Int64(t), Int64(hkv), Int64(d), ctx.t32)
        if let cache { try cache.store(keys: kH, values: vH, count: t) }

        let s = try Workspace.ensure(&scratch.scores, [b, h, t, t])
        Gemm.batched(s.pointer, qH.pointer, kH.pointer, batch: b * hkv, m: group * t, n: t, k: d, transB: true,
                     threads: ctx.threads)
        let rl = try Workspace.ensure(&buffers.rowLen, [b * h * t])
        lk_attention_row_len(rl.pointer, lengths.pointer, Int64(b), Int64(h), Int64(t), 1, ctx.t32)
        let p = try Workspace.ensure(&buffers.probs, [b, h, t, t])
        lk_softmax_forward(p.pointer, s.pointer, rl.pointer, Int64(b * h * t), Int64(t), scale, ctx.t32)
        let cH = try Workspace.ensure(&scratch.ctxh, [b, h, t, d])
        Gemm.batched(cH.pointer, p.pointer, vH.pointer, batch: b * hkv, m: group * t, n: d, k: t, threads: ctx.threads)
        let c = try Workspace.ensure(&buffers.ctx, [b, t, h * d])
        lk_swap12_forward(c.pointer, cH.pointer, Int64(b), Int64(h), Int64(t), Int64(d), ctx.t32)
        dims = (b, t)
        return try o.forward(c, ctx)
    }

    /// One new token x (1,1,C) at position `cache.count`: appends its key/value, attends to all cached ones.
    func decode(_ x: Tensor, cache: KVCache.Layer, position: IndexTensor, _ ctx: Context) throws(LeaderError)
        -> Tensor
    {
        let h = heads, hkv = kvHeads, d = headDim, group = h / hkv
        let xq = try q.quantizedInput(x, ctx)   // int8 precision: quantise the shared input once
        let qp = try q.forward(x, quantized: xq, ctx), kp = try k.forward(x, quantized: xq, ctx)
        let vp = try v.forward(x, quantized: xq, ctx)
        let qr = try Workspace.ensure(&scratch.qRot, qp.shape), kr = try Workspace.ensure(&scratch.kRot, kp.shape)
        lk_rope_forward(qr.pointer, qp.pointer, position.pointer, 1, 1, Int64(h), Int64(d), theta, layout, ctx.t32)
        lk_rope_forward(kr.pointer, kp.pointer, position.pointer, 1, 1, Int64(hkv), Int64(d), theta, layout, ctx.t32)
        // With T = 1 the (T,H,D) and (H,T,D) layouts coincide: no swaps.
        try cache.append(key: kr, value: vp)
        let n = cache.count
        let s = try Workspace.ensure(&scratch.scores, [h, n])
        for j in 0..<hkv {  // one product per kv head (its cache block has stride capacity·d)
            Gemm.run(s.pointer + j * group * n, qr.pointer + j * group * d, cache.keys(head: j), m: group, n: n,
                     k: d, transB: true, threads: ctx.threads)
        }
        let p = try Workspace.ensure(&buffers.probs, [h, n])
        lk_softmax_forward(p.pointer, s.pointer, nil, Int64(h), Int64(n), scale, ctx.t32)
        let c = try Workspace.ensure(&buffers.ctx, [1, 1, h * d])
        for j in 0..<hkv {
            Gemm.run(c.pointer + j * group * d, p.pointer + j * group * n, cache.values(head: j), m: group, n: d,
                     k: n, threads: ctx.threads)
        }
        return try o.forward(c, ctx)
    }

    /// Accumulates the adapters' gradients and dx into `dIn` (B,T,C).
    func backward(_ dOut: Tensor, into dIn: Tensor?, _ ctx: Context) throws(LeaderError) {
        let (b, t) = try Checks.cached(dims, name)
        let h = heads, hkv = kvHeads, d = headDim, group = h / hkv
        let qH = try Checks.cached(buffers.qh, name), kH = try Checks.cached(buffers.kh, name), vH = try Checks.cached(buffers.vh, name)
        let p = try Checks.cached(buffers.probs, name), pos = try Checks.cached(positions, name)

        let dc = try Workspace.zeroed(&grads.dCtx, [b, t, h * d])
        try o.backward(dOut, into: dc, ctx)
        let dcH = try Workspace.zeroed(&grads.dCtxh, [b, h, t, d])
        lk_swap12_backward(dcH.pointer, dc.pointer, Int64(b), Int64(h), Int64(t), Int64(d), ctx.t32)
        let dp = try Workspace.ensure(&grads.dProbs, [b, h, t, t])
        Gemm.batched(dp.pointer, dcH.pointer, vH.pointer, batch: b * hkv, m: group * t, n: t, k: d, transB: true,
                     threads: ctx.threads)
        let dvH = try Workspace.ensure(&grads.dVh, [b, hkv, t, d])
        Gemm.batched(dvH.pointer, p.pointer, dcH.pointer, batch: b * hkv, m: t, n: d, k: group * t, transA: true,
                     threads: ctx.threads)
        let ds = try Workspace.zeroed(&grads.dScores, [b, h, t, t])
        lk_softmax_backward(ds.pointer, dp.pointer, p.pointer, Int64(b * h * t), Int64(t), scale, ctx.t32)
        let dqH = try Workspace.ensure(&grads.dQh, [b, h, t, d]), dkH = try Workspace.ensure(&grads.dKh, [b, hkv, t, d])
        Gemm.batched(dqH.pointer, ds.pointer, kH.pointer, batch: b * hkv, m: group * t, n: d, k: t, threads: ctx.threads)
        Gemm.batched(dkH.pointer, ds.pointer, qH.pointer, batch: b * hkv, m: t, n: d, k: group * t, transA: true,
                     threads: ctx.threads)
        let dq = try Workspace.zeroed(&grads.dQ, [b, t, h * d])
        let dk = try Workspace.zeroed(&grads.dK, [b, t, hkv * d]), dv = try Workspace.zeroed(&grads.dV, [b, t, hkv * d])
        lk_swap12_backward(dq.pointer, dqH.pointer, Int64(b), Int64(t), Int64(h), Int64(d), ctx.t32)
        lk_swap12_backward(dk.pointer, dkH.pointer, Int64(b), Int64(t), Int64(hkv), Int64(d), ctx.t32)
        lk_swap12_backward(dv.pointer, dvH.pointer, Int64(b), Int64(t), Int64(hkv), Int64(d), ctx.t32)
        let dqIn = try Workspace.zeroed(&grads.dQPre, dq.shape), dkIn = try Workspace.zeroed(&grads.dKPre, dk.shape)
        lk_rope_backward(dqIn.pointer, dq.pointer, pos.pointer, Int64(b), Int64(t), Int64(h), Int64(d), theta, layout,
                         ctx.t32)
        lk_rope_backward(dkIn.pointer, dk.pointer, pos.pointer, Int64(b), Int64(t), Int64(hkv), Int64(d), theta,
                         layout, ctx.t32)
        try q.backward(dqIn, into: dIn, ctx)
        try k.backward(dkIn, into: dIn, ctx)
        try v.backward(dv, into: dIn, ctx)
    }
}

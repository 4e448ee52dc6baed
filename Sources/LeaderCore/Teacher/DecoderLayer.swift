import CLeaderKernels

/// One LLaMA layer: `h = x + Attn(RMSNorm(x))`, `y = h + Down(silu(Gate(n)) * Up(n))` with
/// `n = RMSNorm(h)`. Norm weights are dequantised into a frozen store; the seven linear layers read the file.
public final class DecoderLayer {
    let attnNorm: DecoderNorm, ffnNorm: DecoderNorm
    public let attention: DecoderAttention
    public let gate: QuantLinear, up: QuantLinear, down: QuantLinear
    private let name: String
    private var gateOut: Tensor?, upOut: Tensor?, residual: Tensor?
    let buffers: LayerBuffers
    let grads: LayerGradBuffers

    init(attnNorm: DecoderNorm, ffnNorm: DecoderNorm, attention: DecoderAttention, gate: QuantLinear, up: QuantLinear,
         down: QuantLinear, name: String, buffers: LayerBuffers, grads: LayerGradBuffers) {
        self.buffers = buffers
        self.grads = grads
        self.attnNorm = attnNorm
        self.ffnNorm = ffnNorm
        self.attention = attention
        self.gate = gate
        self.up = up
        self.down = down
        self.name = name
    }

    var linears: [QuantLinear] { [attention.q, attention.k, attention.v, attention.o, gate, up, down] }

    /// x (B,T,C) → (B,T,C), a layer-owned buffer valid until the next forward.
    func forward(_ x: Tensor, lengths: IndexTensor, positions: IndexTensor, cache: KVCache.Layer? = nil,
                 _ ctx: Context) throws(LeaderError) -> Tensor {
        let a = try attention.forward(attnNorm.forward(x, ctx), lengths: lengths, positions: positions, cache: cache,
                                      ctx)
        return try feedForward(x, a, ctx)
    }

    /// One token (1,1,C) against the cache.
    func decode(_ x: Tensor, cache: KVCache.Layer, position: IndexTensor, _ ctx: Context) throws(LeaderError)
        -> Tensor
    {
        let a = try attention.decode(attnNorm.forward(x, ctx), cache: cache, position: position, ctx)
        return try feedForward(x, a, ctx)
    }

    private func feedForward(_ x: Tensor, _ a: Tensor, _ ctx: Context) throws(LeaderError) -> Tensor {
        let r1 = try Workspace.ensure(&buffers.h, x.shape)
        lk_add(r1.pointer, x.pointer, a.pointer, Int64(x.count), ctx.t32)
        let n = try ffnNorm.forward(r1, ctx)
        let nq = try gate.quantizedInput(n, ctx)   // int8 precision: quantise the shared input once
        let g = try gate.forward(n, quantized: nq, ctx), u = try up.forward(n, quantized: nq, ctx)
        let s = try Workspace.ensure(&buffers.act, g.shape)
        lk_swiglu_forward(s.pointer, g.pointer, u.pointer, Int64(s.count), ctx.t32)
        gateOut = g
        upOut = u
        let f = try down.forward(s, ctx)
        let out = try Workspace.ensure(&buffers.y, x.shape)
        lk_add(out.pointer, r1.pointer, f.pointer, Int64(x.count), ctx.t32)
        return out
    }

    /// Accumulates adapter gradients and dx into `dIn` (nil: the input gradient is not needed, as for the
    /// lowest adapted layer; the adapters' gradients are still computed).
    func backward(_ dOut: Tensor, into dIn: Tensor?, _ ctx: Context) throws(LeaderError) {
        let r1 = try Checks.cached(buffers.h, name), s = try Checks.cached(buffers.act, name)
        let g = try Checks.cached(gateOut, name), u = try Checks.cached(upOut, name)
        try Checks.same(dOut, r1.shape, "\(name) dOut")
        let da = try Workspace.zeroed(&grads.dAct, s.shape)
        try down.backward(dOut, into: da, ctx)
        let dg = try Workspace.zeroed(&grads.dGate, s.shape), du = try Workspace.zeroed(&grads.dUp, s.shape)
        lk_swiglu_backward(dg.pointer, du.pointer, da.pointer, g.pointer, u.pointer, Int64(s.count), ctx.t32)
        let dn = try Workspace.zeroed(&grads.dNormed, r1.shape)
        try gate.backward(dg, into: dn, ctx)
        try up.backward(du, into: dn, ctx)
        let dh = try Workspace.ensure(&grads.dH, r1.shape)
        try dh.copy(from: dOut)                      // residual
        try ffnNorm.backward(dn, into: dh, ctx)      // dh = d(h)
        dn.zero()
        try attention.backward(dh, into: dIn == nil ? nil : dn, ctx)
        if let dIn {
            try Checks.same(dIn, r1.shape, "\(name) dIn")
            try attnNorm.backward(dn, into: dIn, ctx)
            lk_axpy(dIn.pointer, dh.pointer, 1, Int64(dh.count), ctx.t32)
        }
    }
}

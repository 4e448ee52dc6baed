import CLeaderKernels

/// Options of a pre-norm `TransformerBlock`.
public struct TransformerBlockConfig: Sendable, Equatable {
    public enum Norm: String, Sendable, Codable { case layerNorm, rmsNorm }
    public enum FeedForwardKind: Sendable, Equatable {
        /// Linear → activation → dropout → Linear, with biases (BERT / LEADER student).
        case mlp(ActivationKind)
        /// down(silu(gate) * up), no biases (LLaMA).
        case swiGLU
    }
    public var attention: AttentionConfig
    public var hidden: Int
    public var norm: Norm
    public var normEps: Float
    public var feedForward: FeedForwardKind
    /// Dropout on each residual branch and inside the MLP.
    public var dropout: Float
    /// A last dropout on the block output (the LEADER student has one).
    public var finalDropout: Bool

    public init(attention: AttentionConfig, hidden: Int, norm: Norm = .layerNorm, normEps: Float = 1e-5,
                feedForward: FeedForwardKind = .mlp(.geluTanh), dropout: Float = 0, finalDropout: Bool = false) {
        self.attention = attention
        self.hidden = hidden
        self.norm = norm
        self.normEps = normEps
        self.feedForward = feedForward
        self.dropout = dropout
        self.finalDropout = finalDropout
    }
}

/// Pre-norm transformer block: `x1 = x + Drop(Attn(Norm1(x)))`, `y = x1 + Drop(FFN(Norm2(x1)))`, then an
/// optional `Drop(y)`. Parameters `<name>.norm1.*`, `<name>.attn.*`, `<name>.norm2.*`, `<name>.ffn.*`.
public final class TransformerBlock {
    public let config: TransformerBlockConfig
    public let norm1: any Layer, norm2: any Layer
    public let attn: MultiHeadAttention
    public let ffn: any Layer
    let drop1: Dropout, drop2: Dropout, dropOut: Dropout
    private let name: String
    private var x1: Tensor?, y: Tensor?
    private var dY: Tensor?, dBranch: Tensor?, dNormed: Tensor?

    public init(_ store: ParameterStore, _ name: String, _ config: TransformerBlockConfig) throws(LeaderError) {
        self.config = config
        self.name = name
        let c = config.attention.channels
        guard config.hidden > 0 else { throw .invalidArgument("\(name): hidden size must be > 0") }
        norm1 = try Self.makeNorm(store, "\(name).norm1", config)
        attn = try MultiHeadAttention(store, "\(name).attn", config.attention)
        norm2 = try Self.makeNorm(store, "\(name).norm2", config)
        switch config.feedForward {
        case .mlp(let act):
            ffn = try FeedForward(store, "\(name).ffn", channels: c, hidden: config.hidden, activation: act,
                                  dropout: config.dropout)
        case .swiGLU:
            ffn = try SwiGLUFeedForward(store, "\(name).ffn", channels: c, hidden: config.hidden)
        }
        drop1 = try Dropout(p: config.dropout)
        drop2 = try Dropout(p: config.dropout)
        dropOut = try Dropout(p: config.finalDropout ? config.dropout : 0)
    }

    /// A second instance over the SAME parameters with its own forward caches (weight sharing: apply one
    /// module to several inputs in one step; gradients of all instances accumulate into the same store).
    public init(sharingParametersOf other: TransformerBlock) throws(LeaderError) {
        config = other.config
        name = other.name
        norm1 = try Self.share(other.norm1)
        attn = try MultiHeadAttention(sharingParametersOf: other.attn)
        norm2 = try Self.share(other.norm2)
        ffn = try Self.share(other.ffn)
        drop1 = try Dropout(p: config.dropout)
        drop2 = try Dropout(p: config.dropout)
        dropOut = try Dropout(p: config.finalDropout ? config.dropout : 0)
    }

    private static func share(_ layer: any Layer) throws(LeaderError) -> any Layer {
        switch layer {
        case let l as LayerNorm: return LayerNorm(sharingParametersOf: l)
        case let l as RMSNorm: return RMSNorm(sharingParametersOf: l)
        case let l as FeedForward: return try FeedForward(sharingParametersOf: l)
        case let l as SwiGLUFeedForward: return SwiGLUFeedForward(sharingParametersOf: l)
        default: throw .internalError("TransformerBlock: cannot share a \(type(of: layer))")
        }
    }

    private static func makeNorm(_ store: ParameterStore, _ name: String, _ config: TransformerBlockConfig)
        throws(LeaderError) -> any Layer
    {
        switch config.norm {
        case .layerNorm: return try LayerNorm(store, name, channels: config.attention.channels, eps: config.normEps)
        case .rmsNorm: return try RMSNorm(store, name, channels: config.attention.channels, eps: config.normEps)
        }
    }

    /// x (B,T,C), lengths (B), positions (B,T) when the attention uses RoPE → (B,T,C).
    public func forward(_ x: Tensor, lengths: IndexTensor, positions: IndexTensor? = nil, _ ctx: Context)
        throws(LeaderError) -> Tensor
    {
        let a = try attn.forward(norm1.forward(x, ctx), lengths: lengths, positions: positions, ctx)
        let ad = try drop1.forward(a, ctx)
        let r1 = try Workspace.ensure(&x1, x.shape)
        lk_add(r1.pointer, x.pointer, ad.pointer, Int64(x.count), ctx.t32)
        let f = try ffn.forward(norm2.forward(r1, ctx), ctx)
        let fd = try drop2.forward(f, ctx)
        let r2 = try Workspace.ensure(&y, x.shape)
        lk_add(r2.pointer, r1.pointer, fd.pointer, Int64(x.count), ctx.t32)
        return try dropOut.forward(r2, ctx)
    }

    /// Accumulates parameter gradients and dx into `dIn` (B,T,C) (required: the residual path needs it).
    public func backward(_ dOut: Tensor, into dIn: Tensor, _ ctx: Context) throws(LeaderError) {
        let r1 = try Checks.cached(x1, name)
        try Checks.same(dOut, r1.shape, "\(name) dOut")
        try Checks.same(dIn, r1.shape, "\(name) dIn")
        // dY: gradient at y (before the final dropout); it then collects dx1.
        let dy = try Workspace.zeroed(&dY, r1.shape)
        try dropOut.backward(dOut, into: dy, ctx)
        let db = try Workspace.zeroed(&dBranch, r1.shape)
        try drop2.backward(dy, into: db, ctx)
        let dn = try Workspace.zeroed(&dNormed, r1.shape)
        try ffn.backward(db, into: dn, ctx)
        try norm2.backward(dn, into: dy, ctx)  // dy is now dx1
        db.zero()
        try drop1.backward(dy, into: db, ctx)
        dn.zero()
        try attn.backward(db, into: dn, ctx)
        try norm1.backward(dn, into: dIn, ctx)
        lk_axpy(dIn.pointer, dy.pointer, 1, Int64(dy.count), ctx.t32)
    }
}

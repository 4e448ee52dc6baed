import CLeaderKernels

/// Rotary position embedding settings for q and k.
public struct RoPEConfig: Sendable, Equatable {
    /// Which pairs rotate together: `x[2i], x[2i+1]` (GGUF / Meta) or `x[i], x[i+D/2]` (Hugging Face).
    public enum Layout: Int32, Sendable, Codable { case adjacent = 0, half = 1 }
    public var theta: Float
    public var layout: Layout

    public init(theta: Float = 10_000, layout: Layout = .half) {
        self.theta = theta
        self.layout = layout
    }
}

/// Shape and options of a `MultiHeadAttention`.
public struct AttentionConfig: Sendable, Equatable {
    public var channels: Int
    public var heads: Int
    /// Key/value heads (grouped-query attention when < heads; must divide heads).
    public var kvHeads: Int
    /// Query t sees keys 0...t (decoder); otherwise all valid keys (encoder).
    public var causal: Bool
    public var rope: RoPEConfig?
    public var qkvBias: Bool
    public var outBias: Bool
    /// Dropout on the attention probabilities (training only).
    public var probDropout: Float

    public init(channels: Int, heads: Int, kvHeads: Int? = nil, causal: Bool = false, rope: RoPEConfig? = nil,
                qkvBias: Bool = false, outBias: Bool = true, probDropout: Float = 0) {
        self.channels = channels
        self.heads = heads
        self.kvHeads = kvHeads ?? heads
        self.causal = causal
        self.rope = rope
        self.qkvBias = qkvBias
        self.outBias = outBias
        self.probDropout = probDropout
    }

    public var headDim: Int { heads > 0 ? channels / heads : 0 }

    func validate(_ name: String) throws(LeaderError) {
        guard channels > 0, heads > 0, kvHeads > 0 else {
            throw .invalidArgument("\(name): channels, heads and kvHeads must be > 0")
        }
        guard channels % heads == 0 else {
            throw .invalidArgument("\(name): channels \(channels) not divisible by heads \(heads)")
        }
        guard heads % kvHeads == 0 else {
            throw .invalidArgument("\(name): heads \(heads) not divisible by kvHeads \(kvHeads)")
        }
        if rope != nil, headDim % 2 != 0 {
            throw .invalidArgument("\(name): RoPE needs an even head dimension, got \(headDim)")
        }
    }
}

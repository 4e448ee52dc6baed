/// Low-rank adapters on the decoder's linear layers (PEFT's `LoraConfig`): `y = x Wᵀ + (α/r)·drop(x) Aᵀ Bᵀ`,
/// A (r, in) Kaiming-uniform (PyTorch's Linear default), B (out, r) zero, so a fresh adapter changes nothing.
/// JSON keys: `rank`, `alpha`, `dropout`, `top_layers`.
public struct LoRAConfig: Codable, Equatable, Sendable {
    public var rank: Int
    public var alpha: Float
    public var dropout: Float
    /// Adapters only on the top `topLayers` layers (nil: all). The layers below are frozen and run once per
    /// sample; their output can be cached.
    public var topLayers: Int?

    public init(rank: Int = 8, alpha: Float = 32, dropout: Float = 0.1, topLayers: Int? = nil) {
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.topLayers = topLayers
    }

    private enum CodingKeys: String, CodingKey, CaseIterable { case rank, alpha, dropout, topLayers = "top_layers" }

    /// Strict JSON (checkpoints, configs): unknown keys are an error naming the key; missing keys take the
    /// defaults above; `top_layers` null or absent means all layers.
    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self, "LoRA config")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = LoRAConfig()
        self.init(rank: try c.decodeIfPresent(Int.self, forKey: .rank) ?? d.rank,
                  alpha: try c.decodeIfPresent(Float.self, forKey: .alpha) ?? d.alpha,
                  dropout: try c.decodeIfPresent(Float.self, forKey: .dropout) ?? d.dropout,
                  topLayers: try c.decodeIfPresent(Int.self, forKey: .topLayers))
    }

    /// Parses JSON text (strict; unknown keys and wrong types are `.invalidArgument`).
    public static func decode(json: String) throws(LeaderError) -> LoRAConfig {
        try StrictJSON.decode(LoRAConfig.self, json, "LoRA config")
    }

    public var scaling: Float { alpha / Float(rank) }

    func validate(layers: Int) throws(LeaderError) {
        guard rank > 0, rank <= 4096 else { throw .invalidArgument("LoRA rank must be in 1...4096, got \(rank)") }
        guard alpha.isFinite, alpha > 0 else { throw .invalidArgument("LoRA alpha must be > 0, got \(alpha)") }
        guard dropout >= 0, dropout < 1 else { throw .invalidArgument("LoRA dropout must be in [0, 1), got \(dropout)") }
        if let n = topLayers, n < 0 || n > layers {
            throw .invalidArgument("LoRA top layers must be in 0...\(layers), got \(n)")
        }
    }

    /// The first layer that carries adapters.
    func firstAdaptedLayer(layers: Int) -> Int { layers - min(layers, topLayers ?? layers) }
}

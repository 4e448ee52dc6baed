/// Activation recomputation (gradient checkpointing) of the decoder's adapted layers during training.
///
/// Off: every adapted layer keeps what its backward needs (attention probabilities, q/k/v heads, normed
/// inputs, SwiGLU gate/up/product: ≈ 88 MB per layer at batch 8 × 256 tokens for SmolLM2-135M).
/// On: the forward keeps only each adapted layer's input (B,T,C) and the position of the dropout stream; the
/// layers share one set of forward buffers, and backward re-runs each layer's forward (same input, same
/// dropout keys, so bit for bit the same values) just before its backward. Memory is then one layer's
/// intermediates plus one (B,T,C) tensor per adapted layer, for one extra forward pass of the adapted layers
/// (the top layer is never recomputed: its intermediates are still in the buffers).
/// Auto: on when more than `autoLayers` layers carry adapters.
public enum RecomputeMode: String, Codable, CaseIterable, Equatable, Sendable {
    case on, off, auto

    /// Adapted layers up to which `auto` keeps the intermediates: at 8 × 256, four layers of intermediates
    /// (≈ 350 MB) still fit a 1 GB training step, while re-running a layer's forward makes its share of the
    /// step about 1.5× longer (all 30 layers: 0.63–0.74× the tokens/s, docs/benchmarks-teacher.md).
    public static let autoLayers = 4

    /// Whether a decoder with `adaptedLayers` layers carrying adapters recomputes.
    public func enabled(adaptedLayers: Int) -> Bool {
        switch self {
        case .on: return adaptedLayers > 0
        case .off: return false
        case .auto: return adaptedLayers > Self.autoLayers
        }
    }

    /// Parses "on", "off" or "auto" (CLI flags).
    public init(parsing s: String) throws(LeaderError) {
        guard let m = RecomputeMode(rawValue: s) else {
            throw .invalidArgument("recompute must be on, off or auto, got '\(s)'")
        }
        self = m
    }
}

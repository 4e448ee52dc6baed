/// SplitMix64 (Steele, Lea & Flood 2014): a tiny deterministic generator used to derive independent
/// 64-bit seeds (one per parameter, per dropout site, per epoch shuffle) from one user seed. Bulk random
/// numbers come from the counter-based kernels (`lk_rng_fill_*`, `lk_dropout_*`), keyed by these seeds.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A seed for sub-stream `index` of `seed`, independent of how many other streams were drawn.
    public static func derive(_ seed: UInt64, _ index: UInt64) -> UInt64 {
        var g = SplitMix64(seed: seed ^ (index &* 0xD1B5_4A32_D192_ED03))
        return g.next()
    }
}

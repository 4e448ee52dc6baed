import CLeaderKernels

/// How a parameter is initialised when registered. The random ones use the counter-based kernels with a
/// per-parameter seed, so values do not depend on the thread count or on registration timing.
public enum Initializer: Sendable, Equatable {
    case zeros
    case ones
    case constant(Float)
    case uniform(low: Float, high: Float)
    case normal(mean: Float, std: Float)

    /// PyTorch's default for `nn.Linear.weight` (Kaiming-uniform with a = sqrt(5)) and `nn.Linear.bias`:
    /// U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    public static func linearDefault(fanIn: Int) -> Initializer {
        let bound = fanIn > 0 ? 1 / Float(fanIn).squareRoot() : 0
        return .uniform(low: -bound, high: bound)
    }

    /// PyTorch's default for `nn.Embedding.weight`: N(0, 1).
    public static let embeddingDefault = Initializer.normal(mean: 0, std: 1)

    func fill(_ t: Tensor, seed: UInt64, threads: Int) {
        let n = Int64(t.count)
        switch self {
        case .zeros: t.zero()
        case .ones: lk_fill(t.pointer, 1, n, Int32(threads))
        case .constant(let c): lk_fill(t.pointer, c, n, Int32(threads))
        case .uniform(let lo, let hi): lk_rng_fill_uniform(t.pointer, n, lo, hi, seed, 0, Int32(threads))
        case .normal(let mean, let std): lk_rng_fill_normal(t.pointer, n, mean, std, seed, 0, Int32(threads))
        }
    }
}

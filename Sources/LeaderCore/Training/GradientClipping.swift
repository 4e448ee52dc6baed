import CLeaderKernels

/// Global-norm gradient clipping (PyTorch `clip_grad_norm_`): the scale `min(1, maxNorm / (norm + 1e-6))`
/// is handed to the optimiser as `gradScale`, so the gradients are never rewritten.
public enum GradientClipping {
    /// L2 norm of all gradients of the store (summed in double over fixed chunks: thread-invariant).
    public static func globalNorm(_ store: ParameterStore, _ ctx: Context) -> Float {
        Float(lk_sum_squares(store.grads.base, Int64(store.gradCount), ctx.t32).squareRoot())
    }

    /// The factor that brings the global norm to at most `maxNorm`, and the norm itself.
    public static func scale(_ store: ParameterStore, maxNorm: Float, _ ctx: Context) throws(LeaderError)
        -> (scale: Float, norm: Float)
    {
        guard maxNorm > 0 else { throw .invalidArgument("gradient clipping: maxNorm must be > 0, got \(maxNorm)") }
        let norm = globalNorm(store, ctx)
        guard norm.isFinite else { throw .invalidArgument("gradient clipping: gradient norm is \(norm)") }
        return (min(1, maxNorm / (norm + 1e-6)), norm)
    }
}

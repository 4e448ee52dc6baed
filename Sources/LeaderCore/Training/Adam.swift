import CLeaderKernels

/// Adam / AdamW over a whole `ParameterStore` in one kernel call per step (PyTorch semantics).
///
/// State: first and second moments `m`, `v` (same flat layout as the parameters) and the 1-based `step`
/// count of the last update; all three are public so a train-state file can save and restore them.
public final class Adam {
    public struct Options: Sendable, Equatable {
        public var learningRate: Float
        public var beta1: Float
        public var beta2: Float
        public var eps: Float
        public var weightDecay: Float
        /// true: AdamW (decoupled weight decay); false: Adam with L2 added to the gradient.
        public var decoupled: Bool

        public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                    weightDecay: Float = 0, decoupled: Bool = false) {
            self.learningRate = learningRate
            self.beta1 = beta1
            self.beta2 = beta2
            self.eps = eps
            self.weightDecay = weightDecay
            self.decoupled = decoupled
        }

        /// PyTorch `torch.optim.AdamW` defaults (weight decay 0.01).
        public static func adamW(learningRate: Float = 1e-3, weightDecay: Float = 0.01) -> Options {
            Options(learningRate: learningRate, weightDecay: weightDecay, decoupled: true)
        }

        func validate() throws(LeaderError) {
            guard learningRate >= 0, learningRate.isFinite else { throw .invalidArgument("Adam: bad learning rate \(learningRate)") }
            guard (0..<1).contains(beta1), (0..<1).contains(beta2) else {
                throw .invalidArgument("Adam: betas must be in [0,1), got \(beta1), \(beta2)")
            }
            guard eps > 0, weightDecay >= 0 else { throw .invalidArgument("Adam: eps must be > 0 and weight decay >= 0") }
        }
    }

    public var options: Options
    public let store: ParameterStore
    public let m: Tensor
    public let v: Tensor
    public private(set) var step: Int = 0

    /// The store must be complete (all parameters registered) before the optimiser is created.
    public init(_ store: ParameterStore, _ options: Options = Options()) throws(LeaderError) {
        try options.validate()
        guard store.trainable else { throw .invalidArgument("Adam: the parameter store is frozen") }
        self.options = options
        self.store = store
        m = try Tensor(zeros: [store.count])
        v = try Tensor(zeros: [store.count])
    }

    /// One update with the gradients now in the store. `learningRate` overrides the option (schedules);
    /// `gradScale` multiplies the gradients first (clipping: see `GradientClipping`).
    public func update(learningRate: Float? = nil, gradScale: Float = 1, _ ctx: Context) throws(LeaderError) {
        guard store.count == m.count else {
            throw .invalidArgument("Adam: the parameter store grew from \(m.count) to \(store.count) floats")
        }
        let o = options
        let lr = learningRate ?? o.learningRate
        guard lr >= 0, lr.isFinite, gradScale.isFinite else { throw .invalidArgument("Adam: bad lr \(lr) / scale \(gradScale)") }
        step += 1
        lk_adam_step(store.values.base, m.pointer, v.pointer, store.grads.base, Int64(store.count), lr, o.beta1,
                     o.beta2, o.eps, o.weightDecay, o.decoupled ? 1 : 0, Int64(step), gradScale, ctx.t32)
    }

    /// Restores saved state (train-state files); moments must have the store's size.
    public func restore(step: Int, m mValues: [Float], v vValues: [Float]) throws(LeaderError) {
        guard step >= 0 else { throw .invalidArgument("Adam: negative step \(step)") }
        try m.copy(from: mValues)
        try v.copy(from: vValues)
        self.step = step
    }
}

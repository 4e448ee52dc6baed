/// Linear warm-up then linear decay to zero (Hugging Face `get_linear_schedule_with_warmup`):
/// lr(s) = base·s/warmup for s < warmup, then base·(total - s)/(total - warmup), s = updates done so far.
public struct LinearSchedule: Sendable, Equatable {
    public var baseLearningRate: Float
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(baseLearningRate: Float, warmupSteps: Int = 0, totalSteps: Int) throws(LeaderError) {
        guard warmupSteps >= 0, totalSteps > 0, warmupSteps <= totalSteps else {
            throw .invalidArgument("linear schedule: need 0 <= warmup (\(warmupSteps)) <= total (\(totalSteps)), total > 0")
        }
        self.baseLearningRate = baseLearningRate
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// Learning rate for the update that follows `step` completed updates.
    public func learningRate(atStep step: Int) -> Float {
        if step < warmupSteps { return baseLearningRate * Float(step) / Float(max(warmupSteps, 1)) }
        let left = max(totalSteps - step, 0)
        return baseLearningRate * Float(left) / Float(max(totalSteps - warmupSteps, 1))
    }
}

import CLeaderKernels

/// The teacher tensor the student's KD term regresses onto (docs/teacher-features.md).
/// `hidden` and `logits` are regressed (MSE after a learned projector); `soft` uses the teacher's medication-head
/// probabilities σ(logit/T) as soft labels for the student's own logits (BCE at temperature T, no projector).
public enum StudentDistillTarget: String, Codable, Sendable, CaseIterable {
    case hidden, logits, soft

    /// Whether the term needs the `distill.projector` (teacherDim > 0).
    public var usesProjector: Bool { self != .soft }
}

/// The knowledge-distillation term of the student's loss (`StudentConfig.distillTarget`, weight α):
/// - `soft`: α·T²·BCE(logits/T, σ(teacher logits/T)); its gradient, α·T·d/d(logits/T), flows into the logits.
/// - `hidden` / `logits`: α·MSE(projector(h_H), teacher row), h_H the pre-activation of the head's hidden layer;
///   its gradient flows into h_H through the learned `distill.projector` (registered when teacherDim > 0).
/// `StudentModel.loss` calls `forward` after the head, and `backward` adds the gradients of the last call.
final class DistillationTerm {
    let target: StudentDistillTarget
    let alpha: Float, temperature: Float, teacherDim: Int
    let projector: Linear?
    private let softBCE = BCEWithLogitsLoss(), mse = MSELoss()
    private var softLogits: Tensor?, softTargets: Tensor?, dProj: Tensor?
    private var active = false

    /// Registers `distill.projector` (headHidden → teacherDim) in `store` when teacherDim > 0, at the caller's
    /// point in the parameter order.
    init(_ store: ParameterStore, target: StudentDistillTarget, alpha: Float, temperature: Float, teacherDim: Int,
         headHidden: Int) throws(LeaderError) {
        self.target = target
        self.alpha = alpha
        self.temperature = temperature
        self.teacherDim = teacherDim
        projector = teacherDim > 0
            ? try Linear(store, "distill.projector", inFeatures: headHidden, outFeatures: teacherDim) : nil
    }

    /// Whether the term takes teacher rows: a projector (hidden, logits) or soft labels.
    var takesTeacher: Bool { projector != nil || target == .soft }

    /// The unweighted term for `logits` (B, |Med|) and `hidden` (B, headHidden, the pre-activation h_H), and its
    /// weight in the total loss; 0 (and no gradient in `backward`) without `teacher`.
    func forward(logits: Tensor, hidden: Tensor?, teacher: Tensor?, _ ctx: Context) throws(LeaderError)
        -> (value: Float, weight: Float)
    {
        active = false
        guard let teacher else { return (0, alpha) }
        if target == .soft {
            try Checks.same(teacher, logits.shape, "teacher logits")
            let invT = 1 / temperature, n = Int64(logits.count)
            let scaled = try Workspace.ensure(&softLogits, logits.shape)
            let targets = try Workspace.ensure(&softTargets, logits.shape)
            lk_scale(scaled.pointer, logits.pointer, invT, n, ctx.t32)
            lk_scale(targets.pointer, teacher.pointer, invT, n, ctx.t32)
            lk_activation_forward(targets.pointer, targets.pointer, n, ActivationKind.sigmoid.rawValue, ctx.t32)
            let value = try softBCE.forward(scaled, targets: targets, ctx)
            active = true
            return (value, alpha * temperature * temperature)
        }
        guard let projector else { throw .invalidArgument("student: teacher features given but teacherDim is 0") }
        try Checks.same(teacher, [logits.shape[0], teacherDim], "teacher features")
        let h = try Checks.cached(hidden, "student")
        let value = try mse.forward(try projector.forward(h, ctx), teacher, ctx)
        active = true
        return (value, alpha)
    }

    /// Adds the soft term's gradient into `dLogits` (B, |Med|); nothing for the other targets.
    func backward(intoLogits dLogits: Tensor, _ ctx: Context) throws(LeaderError) {
        guard active, target == .soft else { return }
        try softBCE.backward(alpha * temperature, into: dLogits, ctx)
    }

    /// Adds the projector term's gradient into `dHidden` (B, headHidden); nothing for `soft`.
    func backward(intoHidden dHidden: Tensor, _ ctx: Context) throws(LeaderError) {
        guard active, target.usesProjector, let projector else { return }
        let dp = try Workspace.zeroed(&dProj, [dHidden.shape[0], teacherDim])
        try mse.backward(alpha, intoA: dp, ctx)
        try projector.backward(dp, into: dHidden, ctx)
    }
}

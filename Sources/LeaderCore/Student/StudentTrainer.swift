import FoundationEssentials

/// One finished epoch: mean training loss terms over its steps and the validation metrics after it.
public struct StudentEpochSummary: Codable, Equatable, Sendable {
    public var epoch: Int
    /// Mean total loss (BCE + α·distill + β·align).
    public var loss: Double
    public var bce: Double
    /// Mean MSE(projector(h128), teacher row), unweighted; 0 without teacher features.
    public var distill: Double
    /// Mean symmetric InfoNCE, unweighted; 0 when β = 0.
    public var align: Double
    public var validationPRAUC: Double
    public var validationJaccard: Double
    /// Validation PRAUC improved on every earlier epoch (these weights are the best so far).
    public var best: Bool
}

/// What the trainer reports as it goes (the CLI draws a progress bar from it).
public enum StudentTrainingEvent: Sendable {
    /// `loss` = this step's loss terms.
    case step(epoch: Int, step: Int, steps: Int, loss: StudentLoss)
    case epoch(StudentEpochSummary)
}

/// Mini-batch Adam training of the student with early stopping on validation PRAUC (leader-method.md §5.5):
/// seeded (initialisation, per-epoch shuffles, dropout), reproducible for any thread count, resumable from a
/// train-state file written after every epoch.
public final class StudentTrainer {
    public let model: StudentModel
    public let adam: Adam
    public let ctx: Context
    public let train: [StudentExample]
    public let validation: [StudentExample]
    public let teacher: TeacherFeatures?
    public internal(set) var epoch = 0
    public internal(set) var bestPRAUC = -1.0
    public internal(set) var bestEpoch = 0
    public internal(set) var badEpochs = 0
    public internal(set) var stopped = false
    /// Every finished epoch, in order (kept in the train state, so it survives `--resume`).
    public internal(set) var history: [StudentEpochSummary] = []
    var best: [Float]   // internal: the train state (Checkpoint/StudentTrainState.swift) saves it

    public var config: StudentConfig { model.config }

    public init(model: StudentModel, train: [StudentExample], validation: [StudentExample],
                teacher: TeacherFeatures? = nil, threads: Int = 1) throws(LeaderError) {
        guard !train.isEmpty else { throw .invalidArgument("student training: no training samples") }
        if let teacher {
            let c = model.config
            let width = c.distillTarget.usesProjector ? c.teacherDim : model.sizes.medications
            guard model.distills, teacher.dim == width else {
                throw .invalidArgument("student training: teacher features of width \(teacher.dim), but distillTarget "
                    + "\(c.distillTarget.rawValue) needs \(width) (teacherDim \(c.teacherDim), \(model.sizes.medications) medications)")
            }
            guard teacher.values.count == train.count * teacher.dim else {
                throw .invalidArgument("student training: teacher features for \(teacher.values.count / teacher.dim) samples, \(train.count) training samples")
            }
        }
        self.model = model
        self.train = train
        self.validation = validation
        self.teacher = teacher
        adam = try Adam(model.store, Adam.Options(learningRate: model.config.learningRate,
                                                  weightDecay: model.config.weightDecay))
        ctx = try Context(threads: threads, training: true, seed: SplitMix64.derive(model.config.seed, 0xD80))
        best = model.store.flatValues.toArray()
    }

    /// The permutation of epoch `e` (depends only on the seed and e).
    func order(epoch e: Int) -> [Int] {
        var rng = SplitMix64(seed: SplitMix64.derive(config.seed, UInt64(e) &+ 0x5EED))
        var a = Array(0..<train.count)
        a.seededShuffle(using: &rng)
        return a
    }

    /// One epoch over the training set; returns the mean of each loss term over the steps.
    public func trainEpoch(_ progress: ((StudentTrainingEvent) throws(LeaderError) -> Void)? = nil) throws(LeaderError)
        -> StudentLossMeans
    {
        let idx = order(epoch: epoch)
        let bs = config.batchSize
        let steps = (idx.count + bs - 1) / bs
        var sum = StudentLossMeans()
        ctx.training = true
        for s in 0..<steps {
            let chosen = Array(idx[(s * bs)..<min(idx.count, (s + 1) * bs)])
            let batch = try model.pack(chosen.map { train[$0] }, forTraining: true)
            var t: Tensor?
            if let teacher {
                var rows = [Float]()
                rows.reserveCapacity(chosen.count * teacher.dim)
                for i in chosen { rows += teacher.values[(i * teacher.dim)..<((i + 1) * teacher.dim)] }
                t = try Tensor(shape: [chosen.count, teacher.dim], values: rows)
            }
            model.store.zeroGrad()
            let loss = try model.loss(batch, teacher: t, ctx)
            guard loss.total.isFinite else { throw .internalError("student training: loss is \(loss.total) at epoch \(epoch + 1)") }
            try model.backward(ctx)
            try adam.update(ctx)
            sum.add(loss)
            try progress?(.step(epoch: epoch + 1, step: s + 1, steps: steps, loss: loss))
        }
        return sum.mean(over: steps)
    }

    /// Scores of `examples` in eval mode, batched.
    public func score(_ examples: [StudentExample]) throws(LeaderError) -> ScoredSamples {
        try model.score(examples, ctx)
    }

    /// Runs epochs until `config.epochs` or early stopping, then restores the best weights.
    public func run(_ progress: ((StudentTrainingEvent) throws(LeaderError) -> Void)? = nil,
                    afterEpoch: ((StudentTrainer) throws(LeaderError) -> Void)? = nil) throws(LeaderError) {
        while !stopped && epoch < config.epochs {
            let losses = try trainEpoch(progress)
            epoch += 1
            let val = try score(validation)
            let prauc = val.meanPRAUC()
            let jac = validation.isEmpty ? 0
                : (0..<val.count).reduce(0.0) { $0 + val.metrics($1, threshold: config.threshold).jaccard } / Double(val.count)
            let improved = prauc > bestPRAUC
            if improved {
                bestPRAUC = prauc
                bestEpoch = epoch
                badEpochs = 0
                best = model.store.flatValues.toArray()
            } else {
                badEpochs += 1
                if badEpochs >= config.patience { stopped = true }
            }
            let summary = StudentEpochSummary(epoch: epoch, loss: losses.total, bce: losses.bce, distill: losses.distill,
                                              align: losses.align, validationPRAUC: prauc, validationJaccard: jac,
                                              best: improved)
            history.append(summary)
            try progress?(.epoch(summary))
            try afterEpoch?(self)
        }
        try model.store.flatValues.copy(from: best)
    }
}

/// Mean loss terms over the steps of an epoch.
public struct StudentLossMeans: Equatable, Sendable {
    public var total = 0.0, bce = 0.0, distill = 0.0, align = 0.0

    public init() {}

    mutating func add(_ l: StudentLoss) {
        total += Double(l.total); bce += Double(l.bce); distill += Double(l.distill); align += Double(l.align)
    }

    func mean(over n: Int) -> StudentLossMeans {
        let d = Double(max(n, 1))
        var m = self
        m.total /= d; m.bce /= d; m.distill /= d; m.align /= d
        return m
    }
}

extension StudentModel {
    /// Eval-mode scores of `examples` by this model's current weights, through the serving forward pass
    /// (`PackedStudent`) in `precision`, on `ctx.threads` threads.
    public func score(_ examples: [StudentExample], _ ctx: Context,
                      precision: StudentPrecision = .fp32) throws(LeaderError) -> ScoredSamples
    {
        let scores = try PackedStudent(self, precision: precision).predict(examples, threads: ctx.threads,
                                                                          chunk: config.evalBatchSize)
        return try ScoredSamples(medications: sizes.medications, scores: scores, truths: examples.map(\.targetMedications),
                                 visitCounts: examples.map(\.visitCount))
    }
}

import FoundationEssentials

/// Teacher hidden states for offline distillation: one row of `dim` floats per training example (row i =
/// `train[i]`), kept in memory.
public struct TeacherFeatures: Sendable {
    public let dim: Int
    public let values: [Float]
    public init(dim: Int, values: [Float], rows: Int) throws(LeaderError) {
        guard dim > 0, values.count == (try Checked.product(rows, dim, "teacher features")) else {
            throw .invalidArgument("teacher features: \(values.count) values for \(rows) rows × \(dim)")
        }
        self.dim = dim
        self.values = values
    }

    /// Features keyed by dataset sample index: `matrix` holds one row of `dim` floats per sample of the
    /// dataset (row = sample index); the result has the rows of `samples` in order (e.g. the training
    /// examples' sample indices from `StudentDataset.sampleIndices(.train)`).
    public static func gather(matrix: [Float], dim: Int, samples: [Int]) throws(LeaderError) -> TeacherFeatures {
        guard dim > 0, matrix.count % dim == 0 else {
            throw .invalidArgument("teacher features: \(matrix.count) values are not rows of \(dim)")
        }
        let rows = matrix.count / dim
        var out = [Float]()
        out.reserveCapacity(try Checked.product(samples.count, dim, "teacher features"))
        for s in samples {
            guard s >= 0, s < rows else { throw .invalidArgument("teacher features: no row for sample \(s) (\(rows) rows)") }
            out += matrix[(s * dim)..<((s + 1) * dim)]
        }
        return try TeacherFeatures(dim: dim, values: out, rows: samples.count)
    }
}

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
    public private(set) var epoch = 0
    public private(set) var bestPRAUC = -1.0
    public private(set) var bestEpoch = 0
    public private(set) var badEpochs = 0
    public private(set) var stopped = false
    /// Every finished epoch, in order (kept in the train state, so it survives `--resume`).
    public private(set) var history: [StudentEpochSummary] = []
    private var best: [Float]

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
        try StudentScoring.score(model, examples, ctx)
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

    // MARK: train state

    /// Writes everything needed to continue: weights, best weights, Adam moments and step, epoch, dropout
    /// stream position, early-stopping state and the config (atomic safetensors).
    public func saveState(to path: String, dataFingerprint: String) throws(LeaderError) {
        let n = model.store.count
        let tensors = [
            SafetensorsTensor(name: "values", shape: [n], floats: model.store.flatValues.toArray()),
            SafetensorsTensor(name: "best", shape: [n], floats: best),
            SafetensorsTensor(name: "adam.m", shape: [n], floats: adam.m.toArray()),
            SafetensorsTensor(name: "adam.v", shape: [n], floats: adam.v.toArray()),
        ]
        let meta: [String: String] = [
            "format": "leader", "format_version": "1", "kind": "student-train-state",
            "config": try config.json(), "data_fingerprint": dataFingerprint,
            "step": String(adam.step), "epoch": String(epoch), "dropout_keys": String(ctx.dropoutKeysDrawn),
            "best_prauc": String(bestPRAUC), "best_epoch": String(bestEpoch), "bad_epochs": String(badEpochs),
            "stopped": stopped ? "1" : "0", "history": try Self.historyJSON(history),
        ]
        try SafetensorsWriter.write(tensors, metadata: meta, to: path)
    }

    /// Restores a state written by `saveState` for the same config and data.
    public func loadState(from path: String, dataFingerprint: String) throws(LeaderError) {
        let f = try SafetensorsFile(path: path)
        let m = f.metadata
        guard m["format"] == "leader", m["kind"] == "student-train-state" else {
            throw .badFile("\(path): not a student train-state file")
        }
        guard m["format_version"] == "1" else { throw .incompatible("\(path): unknown train-state format_version") }
        guard let cj = m["config"], let c = try? StudentConfig.decode(json: cj), c == config else {
            throw .incompatible("\(path): the train state was written for another student config")
        }
        guard m["data_fingerprint"] == dataFingerprint else {
            throw .incompatible("\(path): the train state was written for another dataset")
        }
        func int(_ k: String) throws(LeaderError) -> Int {
            guard let s = m[k], let v = Int(s), v >= 0 else { throw .badFile("\(path): metadata '\(k)' missing or invalid") }
            return v
        }
        guard let bp = m["best_prauc"].flatMap(Double.init) else { throw .badFile("\(path): metadata 'best_prauc' invalid") }
        let n = model.store.count
        func floats(_ name: String) throws(LeaderError) -> [Float] {
            guard let info = f.info(name), info.dtype == .f32, info.shape == [n] else {
                throw .badFile("\(path): tensor '\(name)' missing or not F32 [\(n)]")
            }
            let b = try f.bytes(name)
            var v = [Float](repeating: 0, count: n)
            guard b.count == n * 4 else { throw .badFile("\(path): tensor '\(name)' has a wrong byte count") }
            v.withUnsafeMutableBytes { d in b.withUnsafeBytes { d.copyMemory(from: $0) } }
            return v
        }
        let values = try floats("values"), bestValues = try floats("best")
        let mm = try floats("adam.m"), vv = try floats("adam.v")
        let step = try int("step"), ep = try int("epoch"), keys = try int("dropout_keys")
        let bestEp = try int("best_epoch"), bad = try int("bad_epochs")
        try model.store.flatValues.copy(from: values)
        try adam.restore(step: step, m: mm, v: vv)
        best = bestValues
        epoch = ep
        ctx.setDropoutKeysDrawn(UInt64(keys))
        bestPRAUC = bp
        bestEpoch = bestEp
        badEpochs = bad
        stopped = m["stopped"] == "1"
        // States written before the history was kept have none: the plot then starts at the resumed epoch.
        if let h = m["history"] {
            guard let v = try? JSONDecoder().decode([StudentEpochSummary].self, from: Data(h.utf8)), v.count == ep else {
                throw .badFile("\(path): metadata 'history' is not \(ep) epoch summaries")
            }
            history = v
        } else {
            history = []
        }
    }

    static func historyJSON(_ h: [StudentEpochSummary]) throws(LeaderError) -> String {
        do { return String(decoding: try JSONEncoder().encode(h), as: UTF8.self) } catch {
            throw .internalError("student train state: cannot encode the history (\(error))")
        }
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

/// Eval-mode scoring of examples by a student, through the serving engine (`StudentInference`).
public enum StudentScoring {
    /// `precision`: the engine's arithmetic (fp32 default, or bf16).
    public static func score(_ model: StudentModel, _ examples: [StudentExample], _ ctx: Context,
                             precision: QuantPrecision = .fp32) throws(LeaderError) -> ScoredSamples
    {
        let scores = try StudentInference(model, precision: precision).predict(examples, threads: ctx.threads,
                                                                                chunk: model.config.evalBatchSize)
        return try ScoredSamples(medications: model.sizes.medications, scores: scores, truths: examples.map(\.target),
                                 visitCounts: examples.map(\.visitCount))
    }
}

import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// `{"task": "student"}`: train LEADER(S) on a prepared dataset, optionally distilled from a teacher-features
/// file, with early stopping on validation PRAUC; writes the checkpoint (atomic) at the end.
public struct StudentJob: Decodable, Sendable {
    public var data: String
    public var out: String
    public var config = StudentConfig()
    /// A teacher-features file (`teacher-export` / export_hf_teacher.py): adds the `distillTarget` term.
    public var teacherFeatures: String?
    public var threads = 0
    /// Write the train state after every epoch here (a resume point); nil = none.
    public var statePath: String?
    /// Continue from `statePath` when it exists.
    public var resume = false
    /// Write training.svg (loss and validation PRAUC per epoch) into this folder.
    public var plot: String?
    /// DDI pairs for the penalty of `config.ddiWeight` (nil: the shipped data/ddi_atc3_pairs.csv).
    public var ddi: String?

    public init(data: String, out: String, config: StudentConfig = StudentConfig(), teacherFeatures: String? = nil,
                threads: Int = 0, statePath: String? = nil, resume: Bool = false, plot: String? = nil,
                ddi: String? = nil) {
        self.data = data; self.out = out; self.config = config; self.teacherFeatures = teacherFeatures
        self.threads = threads; self.statePath = statePath; self.resume = resume; self.plot = plot; self.ddi = ddi
    }

    public init(from decoder: any Decoder) throws {
        let c = try jobContainer(decoder, ["data", "out", "config", "teacherFeatures", "threads", "statePath", "resume",
                                           "plot", "ddi"], "student job")
        data = try c.decode(String.self, forKey: .init("data"))
        out = try c.decode(String.self, forKey: .init("out"))
        config = try c.decodeIfPresent(StudentConfig.self, forKey: .init("config")) ?? StudentConfig()
        teacherFeatures = try c.decodeIfPresent(String.self, forKey: .init("teacherFeatures"))
        threads = try c.decodeIfPresent(Int.self, forKey: .init("threads")) ?? 0
        statePath = try c.decodeIfPresent(String.self, forKey: .init("statePath"))
        resume = try c.decodeIfPresent(Bool.self, forKey: .init("resume")) ?? false
        plot = try c.decodeIfPresent(String.self, forKey: .init("plot"))
        ddi = try c.decodeIfPresent(String.self, forKey: .init("ddi"))
    }

    /// What the result says about the teacher features used.
    public struct TeacherSummary: Encodable, Sendable {
        public var file: String, target: String, dim: Int, rows: Int, matched: Int, extra: Int, fingerprintChecked: Bool
    }

    public struct Result: Encodable, Sendable {
        public var checkpoint: String, epochs: Int, bestEpoch: Int, bestValidationPRAUC: Double
        public var bestValidationJaccardThreshold: Float, trainSamples: Int, validationSamples: Int
        public var parameters: Int, seconds: Double, threads: Int
        public var resumedAtEpoch: Int?
        public var teacherFeatures: TeacherSummary?
        /// Per epoch: mean loss, BCE, distill and align terms (unweighted), validation PRAUC / Jaccard.
        public var history: [StudentEpochSummary]
        public var plots: [String]
    }

    /// The checks that need no file: the config and the thread count.
    public func validate() throws(LeaderError) {
        try config.validate()
        _ = try Threads.resolve(threads, "student job: threads")
    }

    public func run(progress: JobProgress? = nil) throws(LeaderError) -> Result {
        try validate()
        let start = ContinuousClock.now
        var cfg = config
        try report(progress, JobEvent(task: "student", stage: "read", done: 0, total: 1))
        let ds = try StudentDataset(path: data)
        let train = try ds.examples(.train, maxVisits: cfg.maxVisits)
        let val = try ds.examples(.validation, maxVisits: cfg.maxVisits)
        var teacher: TeacherFeatures?
        var teacherSummary: TeacherSummary?
        if let path = teacherFeatures {
            let file = try TeacherFeaturesFile(path: path)
            let checked = try file.checkDataFingerprint(ds.fingerprint, dataName: data)
            let join = try file.features(for: try ds.sampleIDs(.train), target: cfg.distillTarget)
            if cfg.distillTarget.usesProjector {
                // teacherDim comes from the file; a config that names another width is a mistake.
                guard cfg.teacherDim == 0 || cfg.teacherDim == join.features.dim else {
                    throw .invalidArgument("student job: config teacherDim \(cfg.teacherDim), but \(path) has "
                        + "\(cfg.distillTarget.rawValue) rows of width \(join.features.dim)")
                }
                cfg.teacherDim = join.features.dim
            }
            if cfg.distillTarget != .hidden {
                // Logit columns are medications: they must be this dataset's, in its order.
                guard file.medications == ds.medicationKeys else {
                    throw .incompatible("\(path): its \(file.medications.count) medication columns are not this "
                        + "dataset's \(ds.medicationKeys.count) medications in the same order (\(data))")
                }
            }
            teacher = join.features
            teacherSummary = TeacherSummary(file: path, target: cfg.distillTarget.rawValue, dim: join.features.dim,
                                            rows: file.count, matched: join.matched, extra: join.extra,
                                            fingerprintChecked: checked)
        }
        let threads = try Threads.resolve(self.threads, "student job: threads")
        let model = try StudentModel(config: cfg, sizes: ds.sizes, threads: threads)
        if cfg.ddiWeight > 0 {
            guard let file = ddi.map({ $0.isEmpty ? nil : $0 }) ?? ProjectFiles.find(ProjectFiles.ddiPairs) else {
                throw .invalidArgument("student job: ddiWeight \(cfg.ddiWeight) needs DDI pairs (\"ddi\")")
            }
            let idx = ds.data.cohort.medications.ids
            model.ddiNeighbours = try DDIPairs.load(path: file) { idx[$0] }.neighbours(medications: ds.sizes.medications)
        }
        let trainer = try StudentTrainer(model: model, train: train, validation: val, teacher: teacher, threads: threads)
        var resumed: Int?
        if resume, let statePath, access(statePath, F_OK) == 0 {
            try trainer.loadState(from: statePath, dataFingerprint: ds.fingerprint)
            resumed = trainer.epoch
        }
        let epochs = cfg.epochs
        try trainer.run({ (ev) throws(LeaderError) in
            switch ev {
            case .step(let e, let s, let n, let loss):
                try report(progress, JobEvent(task: "student", stage: "step", done: s, total: n, values: [
                    "epoch": Double(e), "epochs": Double(epochs), "loss": Double(loss.total), "bce": Double(loss.bce),
                    "distill": Double(loss.distill), "align": Double(loss.align)]))
            case .epoch(let ep):
                try report(progress, JobEvent(task: "student", stage: "epoch", done: ep.epoch, total: epochs, values: [
                    "loss": ep.loss, "distill": ep.distill, "validationPRAUC": ep.validationPRAUC,
                    "validationJaccard": ep.validationJaccard, "best": ep.best ? 1 : 0]))
            }
        }, afterEpoch: { (t) throws(LeaderError) in
            if let statePath { try t.saveState(to: statePath, dataFingerprint: ds.fingerprint) }
        })
        let valScores = try trainer.score(val)
        let bestTh = val.isEmpty ? cfg.threshold : valScores.bestJaccardThreshold()
        let ck = try StudentCheckpoint(
            model: model, vocabularies: ds.vocabularies, profile: ds.data.cohort.profile,
            thresholds: CheckpointThresholds(configured: cfg.threshold, bestValidationJaccard: bestTh),
            provenance: CheckpointProvenance(dataFingerprint: ds.fingerprint, source: ds.data.cohort.source,
                                             epochs: trainer.epoch, bestEpoch: trainer.bestEpoch,
                                             bestValidationPRAUC: trainer.bestPRAUC))
        try report(progress, JobEvent(task: "student", stage: "write", done: 0, total: 1))
        try ck.write(to: out)
        var plots: [String] = []
        if let plot {
            plots.append(try writePlot(plot, "training.svg", TrainingPlots.trainingSVG(trainer.history, alpha: cfg.alpha)))
        }
        return Result(checkpoint: out, epochs: trainer.epoch, bestEpoch: trainer.bestEpoch,
                      bestValidationPRAUC: trainer.bestPRAUC, bestValidationJaccardThreshold: bestTh,
                      trainSamples: train.count, validationSamples: val.count,
                      parameters: model.store.parameterCount, seconds: seconds(since: start), threads: threads,
                      resumedAtEpoch: resumed, teacherFeatures: teacherSummary, history: trainer.history, plots: plots)
    }
}

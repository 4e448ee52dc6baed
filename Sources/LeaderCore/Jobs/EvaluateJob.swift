/// `{"task": "evaluate"}`: a student checkpoint (through the serving engine), a baseline or the scores of a system
/// trained outside leader (`ExternalScores`, e.g. a PyHealth peer of bench/peers/) on the test split:
/// Jaccard, F1, PRAUC, #meds, DDI for all / single-visit / multi-visit patients, mean ± std over random 80 %
/// subsets. Uses `threshold`, else the checkpoint's configured one, and also reports the best-validation-
/// Jaccard threshold when it differs.
public struct EvaluateJob: Decodable, Sendable {
    public var data: String
    public var checkpoint: String?
    /// frequency or copy-previous (instead of a checkpoint).
    public var baseline: String?
    /// An `ExternalScores` file holding the validation and test samples (instead of a checkpoint).
    public var scores: String?
    /// DDI pair CSV (atc3_a,atc3_b); nil = the shipped `data/ddi_atc3_pairs.csv` where it is found
    /// (`ProjectFiles`), "" = no DDI rate.
    public var ddi: String?
    public var threshold: Float?
    public var threads = 0
    public var seed: UInt64 = 42
    /// fp32, bf16 or auto (the serving session's precision).
    public var precision = "fp32"
    /// Write NAME-precision-recall.svg and NAME-by-visits.svg into this folder.
    public var plot: String?
    /// Also report the system with the DDI filter (the lower-scored drug of every interacting pair dropped from
    /// the recommended set; needs DDI pairs).
    public var ddiFilter = false

    public init(data: String, checkpoint: String? = nil, baseline: String? = nil, scores: String? = nil,
                ddi: String? = nil, threshold: Float? = nil, threads: Int = 0, seed: UInt64 = 42,
                precision: String = "fp32", plot: String? = nil, ddiFilter: Bool = false) {
        self.data = data; self.checkpoint = checkpoint; self.baseline = baseline; self.scores = scores; self.ddi = ddi
        self.threshold = threshold; self.threads = threads; self.seed = seed; self.precision = precision; self.plot = plot
        self.ddiFilter = ddiFilter
    }

    public init(from decoder: any Decoder) throws {
        let c = try jobContainer(decoder, ["data", "checkpoint", "baseline", "scores", "ddi", "threshold", "threads", "seed",
                                           "precision", "plot", "ddiFilter"], "evaluate job")
        data = try c.decode(String.self, forKey: .init("data"))
        checkpoint = try c.decodeIfPresent(String.self, forKey: .init("checkpoint"))
        baseline = try c.decodeIfPresent(String.self, forKey: .init("baseline"))
        scores = try c.decodeIfPresent(String.self, forKey: .init("scores"))
        ddi = try c.decodeIfPresent(String.self, forKey: .init("ddi"))
        threshold = try c.decodeIfPresent(Float.self, forKey: .init("threshold"))
        threads = try c.decodeIfPresent(Int.self, forKey: .init("threads")) ?? 0
        seed = try c.decodeIfPresent(UInt64.self, forKey: .init("seed")) ?? 42
        precision = try c.decodeIfPresent(String.self, forKey: .init("precision")) ?? "fp32"
        plot = try c.decodeIfPresent(String.self, forKey: .init("plot"))
        ddiFilter = try c.decodeIfPresent(Bool.self, forKey: .init("ddiFilter")) ?? false
    }

    public struct Result: Encodable, Sendable {
        public var data: String
        public var reports: [EvaluationReport]
        /// The DDI file used, its pairs in the vocabulary and rows naming other codes.
        public var ddiFile: String?, ddiPairs: Int?, ddiSkipped: Int?
        public var plots: [String]
    }

    /// The checks that need no file.
    public func validate() throws(LeaderError) {
        guard [checkpoint, baseline, scores].compactMap({ $0 }).count == 1 else {
            throw .invalidArgument("evaluate job: give exactly one of \"checkpoint\", \"baseline\" and \"scores\"")
        }
        if let baseline, Baseline(rawValue: baseline) == nil {
            throw .invalidArgument("evaluate job: baseline '\(baseline.prefix(32))' (expected frequency or copy-previous)")
        }
        if let threshold, !(threshold >= 0 && threshold <= 1) {
            throw .invalidArgument("evaluate job: threshold \(threshold) (expected 0...1)")
        }
        guard StudentPrecision.resolving(precision) != nil else {
            throw .invalidArgument("evaluate job: precision '\(precision.prefix(16))' (expected fp32, bf16 or auto)")
        }
        _ = try Threads.resolve(threads, "evaluate job: threads")
    }

    public func run(progress: JobProgress? = nil) throws(LeaderError) -> Result {
        try validate()
        try report(progress, JobEvent(task: "evaluate", stage: "read", done: 0, total: 1))
        let ds = try StudentDataset(path: data)
        let idx = ds.data.cohort.medications.ids
        let ddiFile = ddi.map { $0.isEmpty ? nil : $0 } ?? ProjectFiles.find(ProjectFiles.ddiPairs)
        let pairs = try ddiFile.map { (p) throws(LeaderError) in try DDIPairs.load(path: p) { idx[$0] } }
        var reports: [EvaluationReport] = []
        var plots: [String] = []
        func addPlots(_ s: ScoredSamples, name: String, threshold: Float) throws(LeaderError) {
            guard let plot else { return }
            plots.append(try writePlot(plot, "\(name)-precision-recall.svg", EvaluationPlots.precisionRecallSVG(s, recommender: name)))
            plots.append(try writePlot(plot, "\(name)-by-visits.svg",
                                       EvaluationPlots.byVisitsSVG(s, recommender: name, threshold: threshold)))
        }
        func addFiltered(_ s: ScoredSamples, name: String, threshold: Float) throws(LeaderError) {
            guard ddiFilter else { return }
            guard let pairs else { throw .invalidArgument("evaluate job: ddiFilter needs DDI pairs (\"ddi\")") }
            reports.append(try .evaluate(try pairs.filtered(s, threshold: threshold), recommender: "\(name) (DDI filter)",
                                         threshold: threshold, ddi: pairs, seed: seed))
        }
        try report(progress, JobEvent(task: "evaluate", stage: "score", done: 0, total: 1))
        if let baseline {
            guard let b = Baseline(rawValue: baseline) else {
                throw .invalidArgument("evaluate job: baseline '\(baseline.prefix(32))' (expected frequency or copy-previous)")
            }
            let maxV = StudentConfig().maxVisits
            let freq = Baseline.frequencies(try ds.examples(.train, maxVisits: maxV), medications: ds.sizes.medications)
            let test = try b.score(try ds.examples(.test, maxVisits: maxV), frequencies: freq)
            let val = try b.score(try ds.examples(.validation, maxVisits: maxV), frequencies: freq)
            let th = threshold ?? StudentConfig().threshold
            reports.append(try .evaluate(test, recommender: b.rawValue, threshold: th, ddi: pairs, seed: seed))
            try addFiltered(test, name: b.rawValue, threshold: th)
            try addPlots(test, name: b.rawValue, threshold: th)
            let best = val.bestJaccardThreshold()
            if best != th {
                reports.append(try .evaluate(test, recommender: "\(b.rawValue) (best validation-Jaccard threshold)",
                                             threshold: best, ddi: pairs, seed: seed))
            }
        } else if let scores {
            let ext = try ExternalScores(path: scores, medicationKeys: ds.medicationKeys)
            let maxV = StudentConfig().maxVisits
            let test = try ext.scored(ids: try ds.sampleIDs(.test), examples: try ds.examples(.test, maxVisits: maxV),
                                      medications: ds.sizes.medications)
            let val = try ext.scored(ids: try ds.sampleIDs(.validation),
                                     examples: try ds.examples(.validation, maxVisits: maxV), medications: ds.sizes.medications)
            // A peer has no configured threshold: the best validation-Jaccard one, as the pipeline report does.
            let th = threshold ?? val.bestJaccardThreshold()
            reports.append(try .evaluate(test, recommender: "scores", threshold: th, ddi: pairs, seed: seed))
            try addFiltered(test, name: "scores", threshold: th)
            try addPlots(test, name: "scores", threshold: th)
        } else if let checkpoint {
            let model = try ServingModel(path: checkpoint)
            let ck = model.checkpoint
            guard ck.vocabularies == ds.vocabularies, ck.profile == ds.data.cohort.profile else {
                throw .incompatible("\(checkpoint): vocabularies or profile encoders differ from \(data)")
            }
            let session = try ServingSession(model: model, options: .init(threads: threads, precision: precision))
            let test = try session.score(try ds.examples(.test, maxVisits: ck.config.maxVisits))
            let th = threshold ?? ck.thresholds.configured
            reports.append(try .evaluate(test, recommender: "student", threshold: th, ddi: pairs, seed: seed))
            try addFiltered(test, name: "student", threshold: th)
            try addPlots(test, name: "student", threshold: th)
            if let best = ck.thresholds.bestValidationJaccard, best != th {
                reports.append(try .evaluate(test, recommender: "student (best validation-Jaccard threshold)",
                                             threshold: best, ddi: pairs, seed: seed))
            }
        }
        return Result(data: data, reports: reports, ddiFile: ddiFile, ddiPairs: pairs?.count, ddiSkipped: pairs?.skipped,
                      plots: plots)
    }
}

import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The pipeline's report (`report.json`; `markdown()` is `report.md`): every system on the same test patients —
/// the teacher, each student variant over the training seeds, the DDI-filtered LEADER(S), the peers trained
/// outside leader (`PipelineConfig.peers`), the two baselines —
/// for all, single-visit, multi-visit and rare-code patients, with the dataset, the steps' timings and the plots.
public struct PipelineReport: Codable, Sendable {
    /// mean ± std of one metric over every (seed, random subset) pair, and the spread of the seeds' full-group
    /// values (the number to beat when comparing two students).
    public struct Stat: Codable, Equatable, Sendable {
        public var mean: Double
        public var std: Double
        public var seedStd: Double
    }

    public struct Group: Codable, Equatable, Sendable {
        public var patients: Int
        public var jaccard: Stat, f1: Stat, prauc: Stat, medications: Stat
        public var ddi: Stat?
    }

    public struct System: Codable, Equatable, Sendable {
        public var name: String
        /// teacher, student, peer (a system trained outside leader, `peers`), baseline.
        public var kind: String
        public var seeds: Int
        /// The threshold of each seed's run (chosen on the validation split: best mean Jaccard).
        public var thresholds: [Float]
        public var groups: [String: Group]
    }

    public static let groupNames = ["all", "single-visit", "multi-visit", "rare-code"]

    public var data: String
    public var statistics: DataStatistics
    public var rounds: Int
    public var fraction: Double
    public var seeds: [UInt64]
    /// A test patient is in the rare-code group when a code of the current visit occurs in fewer than this many
    /// training samples' current visits.
    public var rareCodeCount: Int
    public var ddiFile: String?
    public var systems: [System]
    /// Each step and its seconds, in order (a reused step keeps the time it took when it ran).
    public var steps: [StepTime]
    public struct StepTime: Codable, Equatable, Sendable {
        public var name: String
        public var seconds: Double
    }
    public var teacher: [String: Double]?
    public var plots: [String]
    /// What the table leaves out, and why.
    public var notes: [String]

    /// Scores every system on the test split and writes the plots into `<out>/plots`.
    static func build(_ job: PipelineJob, records: [PipelineJob.StepRecord], threads: Int) throws(LeaderError)
        -> PipelineReport
    {
        let cfg = job.config
        let ds = try StudentDataset(path: job.dataPath)
        let maxV = cfg.student.maxVisits
        let train = try ds.examples(.train, maxVisits: maxV)
        let test = try ds.examples(.test, maxVisits: maxV), val = try ds.examples(.validation, maxVisits: maxV)
        guard !test.isEmpty, !val.isEmpty else {
            throw .invalidArgument("pipeline report: \(job.dataPath) has \(test.count) test and \(val.count) validation "
                + "samples; the report needs both (a larger cohort)")
        }
        let rareBelow = cfg.rareCodeCount ?? max(2, Int((Double(train.count) * 0.005).rounded()))
        let rare = rareCodeSamples(test, train: train, below: rareBelow)
        let idx = ds.data.cohort.medications.ids
        let ddiFile = cfg.ddi.map { $0.isEmpty ? nil : $0 } ?? ProjectFiles.find(ProjectFiles.ddiPairs)
        let pairs = try ddiFile.map { (p) throws(LeaderError) in try DDIPairs.load(path: p) { idx[$0] } }
        func evaluate(_ s: ScoredSamples, _ name: String, _ th: Float) throws(LeaderError) -> EvaluationReport {
            try .evaluate(s, recommender: name, threshold: th, ddi: pairs, rounds: cfg.rounds, fraction: cfg.fraction,
                          seed: 42, rare: rare)
        }
        var systems: [System] = []
        var notes: [String] = []
        var curves: [(name: String, scores: ScoredSamples, threshold: Float)] = []

        if cfg.teacher != nil {
            let file = try TeacherFeaturesFile(path: job.featuresPath)
            _ = try file.checkDataFingerprint(ds.fingerprint, dataName: job.dataPath)
            func scores(_ part: SplitPart, _ ex: [StudentExample]) throws(LeaderError) -> ScoredSamples {
                let logits = try file.features(for: try ds.sampleIDs(part), target: .logits).features.values
                return try ScoredSamples(medications: ds.sizes.medications, scores: logits.map { 1 / (1 + expf(-$0)) },
                                         truths: ex.map(\.targetMedications), visitCounts: ex.map(\.visitCount))
            }
            do {
                let t = try scores(.test, test)
                let th = try scores(.validation, val).bestJaccardThreshold()
                systems.append(try aggregate("teacher (LLM + LoRA)", "teacher", [evaluate(t, "teacher", th)], [th]))
                curves.append(("teacher (LLM + LoRA)", t, th))
            } catch where error.kind == .incompatible {
                // a features file given by the user may hold the training split only
                notes.append("The teacher is not in the table: \(error.message)")
            }
        }
        for v in job.variants {
            var reports: [EvaluationReport] = [], filtered: [EvaluationReport] = [], ths: [Float] = []
            for (k, seed) in cfg.seeds.enumerated() {
                let model = try ServingModel(path: job.studentPath(v, seed: seed))
                guard model.checkpoint.vocabularies == ds.vocabularies else {
                    throw .incompatible("\(job.studentPath(v, seed: seed)): vocabularies differ from \(job.dataPath)")
                }
                let session = try ServingSession(model: model, options: .init(threads: threads))
                let s = try session.score(test)
                let th = model.checkpoint.thresholds.bestValidationJaccard ?? model.checkpoint.thresholds.configured
                reports.append(try evaluate(s, job.title(v), th))
                ths.append(th)
                if k == 0 { curves.append((job.title(v), s, th)) }
                if cfg.ddiFilter, v == (job.variants.contains(.distilled) ? .distilled : .plain), let pairs {
                    filtered.append(try evaluate(try pairs.filtered(s, threshold: th), job.title(v) + " + DDI filter", th))
                }
            }
            systems.append(try aggregate(job.title(v), "student", reports, ths))
            if !filtered.isEmpty { systems.append(try aggregate(job.title(v) + " + DDI filter", "student", filtered, ths)) }
        }
        for (name, file) in cfg.peers.sorted(by: { $0.key < $1.key }) {
            let ext = try ExternalScores(path: file, medicationKeys: ds.medicationKeys)
            let s = try ext.scored(ids: try ds.sampleIDs(.test), examples: test, medications: ds.sizes.medications)
            let th = try ext.scored(ids: try ds.sampleIDs(.validation), examples: val,
                                    medications: ds.sizes.medications).bestJaccardThreshold()
            systems.append(try aggregate(name, "peer", [evaluate(s, name, th)], [th]))
            curves.append((name, s, th))
        }
        let freq = Baseline.frequencies(train, medications: ds.sizes.medications)
        for b in Baseline.allCases {
            let s = try b.score(test, frequencies: freq)
            let th = try b.score(val, frequencies: freq).bestJaccardThreshold()
            systems.append(try aggregate(b.rawValue + " baseline", "baseline", [evaluate(s, b.rawValue, th)], [th]))
            curves.append((b.rawValue + " baseline", s, th))
        }

        let plotDir = job.path("plots")
        var plots: [String] = []
        plots.append(try writePlot(plotDir, "precision-recall.svg",
                                   ComparisonPlots.precisionRecallSVG(curves.map { ($0.name, $0.scores) })))
        plots.append(try writePlot(plotDir, "jaccard-by-visits.svg", ComparisonPlots.jaccardByVisitsSVG(curves)))
        let teacherCurve = records.first { $0.name == "teacher-train" }?.curve ?? []
        let studentCurves = job.variants.map { v in
            (job.title(v) + ", seed \(cfg.seeds[0])", records.first { $0.name == "student-\(v.rawValue)-seed\(cfg.seeds[0])" }?.curve ?? [])
        }
        plots.append(try writePlot(plotDir, "training-curves.svg",
                                   ComparisonPlots.trainingCurvesSVG(teacher: teacherCurve, students: studentCurves)))
        let steps = records.map { StepTime(name: $0.name, seconds: $0.seconds) }
        return PipelineReport(data: job.dataPath, statistics: DataStatistics(ds.data), rounds: cfg.rounds,
                              fraction: cfg.fraction, seeds: cfg.seeds, rareCodeCount: rareBelow, ddiFile: ddiFile,
                              systems: systems, steps: steps,
                              teacher: records.first { $0.name == "teacher-train" }?.values, plots: plots, notes: notes)
    }

    /// Indices of the test samples whose current visit holds a diagnosis or procedure seen in fewer than
    /// `below` training samples' current visits.
    static func rareCodeSamples(_ test: [StudentExample], train: [StudentExample], below: Int) -> [Int] {
        var diagnoses: [Int32: Int] = [:], procedures: [Int32: Int] = [:]
        for e in train {
            for c in Set(e.diagnoses.last ?? []) { diagnoses[c, default: 0] += 1 }
            for c in Set(e.procedures.last ?? []) { procedures[c, default: 0] += 1 }
        }
        return test.indices.filter { i in
            (test[i].diagnoses.last ?? []).contains { diagnoses[$0, default: 0] < below }
                || (test[i].procedures.last ?? []).contains { procedures[$0, default: 0] < below }
        }
    }

    /// Pools the per-seed reports of one system: mean over seeds; variance = mean within-seed variance + the
    /// variance of the seeds' means (law of total variance); seedStd = sample std of the full-group values.
    static func aggregate(_ name: String, _ kind: String, _ reports: [EvaluationReport], _ thresholds: [Float])
        throws(LeaderError) -> System
    {
        guard !reports.isEmpty else { throw .internalError("pipeline report: no evaluation of \(name)") }
        func stat(_ v: [MeanStd]) -> Stat {
            let n = Double(v.count)
            let mean = v.reduce(0) { $0 + $1.mean } / n
            let within = v.reduce(0) { $0 + $1.std * $1.std } / n
            let between = v.reduce(0) { $0 + ($1.mean - mean) * ($1.mean - mean) } / n
            let fm = v.reduce(0) { $0 + $1.full } / n
            let seedStd = v.count > 1 ? (v.reduce(0) { $0 + ($1.full - fm) * ($1.full - fm) } / (n - 1)).squareRoot() : 0
            return Stat(mean: mean, std: (within + between).squareRoot(), seedStd: seedStd)
        }
        func group(_ g: (EvaluationReport) -> GroupReport?) -> Group? {
            let gs = reports.compactMap(g)
            guard gs.count == reports.count, let g0 = gs.first else { return nil }
            let ddi = gs.compactMap(\.ddi)
            return Group(patients: g0.patients, jaccard: stat(gs.map(\.jaccard)), f1: stat(gs.map(\.f1)),
                         prauc: stat(gs.map(\.prauc)), medications: stat(gs.map(\.medications)),
                         ddi: ddi.count == gs.count ? stat(ddi) : nil)
        }
        var groups: [String: Group] = [:]
        groups["all"] = group { $0.all }
        groups["single-visit"] = group { $0.singleVisit }
        groups["multi-visit"] = group { $0.multiVisit }
        groups["rare-code"] = group { $0.rareCode }
        return System(name: name, kind: kind, seeds: reports.count, thresholds: thresholds, groups: groups)
    }

    static func json<T: Encodable>(_ v: T) throws(LeaderError) -> String { try PipelineJob.json(v) }

    // MARK: text

    static func cell(_ s: Stat?, _ decimals: Int = 3) -> String {
        guard let s else { return "–" }
        return SVG.number(s.mean, decimals: decimals) + " ± " + SVG.number(s.std, decimals: decimals)
    }

    /// The report table: one row per system; all patients' five metrics, then Jaccard / PRAUC per group.
    public func table() -> String {
        var lines = ["| system | seeds | Jaccard | F1 | PRAUC | #med | DDI | single-visit Jaccard / PRAUC "
            + "| multi-visit Jaccard / PRAUC | rare-code Jaccard / PRAUC |",
                     "|---|---|---|---|---|---|---|---|---|---|"]
        for s in systems {
            let a = s.groups["all"]
            var row = "| \(s.name) | \(s.seeds) | \(Self.cell(a?.jaccard)) | \(Self.cell(a?.f1)) | \(Self.cell(a?.prauc)) "
                + "| \(Self.cell(a?.medications, 1)) | \(Self.cell(a?.ddi)) |"
            for g in Self.groupNames.dropFirst() {
                let x = s.groups[g]
                row += " \(Self.cell(x?.jaccard)) / \(Self.cell(x?.prauc)) |"
            }
            lines.append(row)
        }
        return lines.joined(separator: "\n")
    }

    public func markdown() -> String {
        let st = statistics
        let n = systems.first?.groups
        var md = "# LEADER pipeline report\n\n"
        md += "Dataset `\(data)` (\(st.source)): \(st.patients) patients, \(st.visits) visits, "
            + "\(SVG.number(st.singleVisitShare * 100, decimals: 1)) % single-visit patients; samples "
            + ["train", "validation", "test"].map { "\($0) \(st.samples[$0] ?? 0)" }.joined(separator: ", ") + ".\n\n"
        md += "Test patients: " + Self.groupNames.map { "\($0) \(n?[$0]?.patients ?? 0)" }.joined(separator: ", ")
            + " (rare-code: a diagnosis or procedure of the current visit in fewer than \(rareCodeCount) training samples).\n\n"
        md += "Each cell: mean ± std over \(seeds.count) training seed(s) × \(rounds) random \(SVG.number(fraction * 100, decimals: 0)) % "
            + "subsets of the group; thresholds chosen on the validation split (best mean Jaccard). PRAUC does not depend on "
            + "the threshold. DDI: share of predicted pairs that interact\(ddiFile.map { " (`\($0)`)" } ?? " (no DDI file)").\n\n"
        md += table() + "\n\n"
        for n in notes { md += "Note: \(n)\n\n" }
        md += "Seed spread (sample std over seeds of the full-test value, all patients):\n\n| system | Jaccard | PRAUC |\n|---|---|---|\n"
        for s in systems where s.seeds > 1 {
            md += "| \(s.name) | \(SVG.number(s.groups["all"]?.jaccard.seedStd ?? 0, decimals: 4)) "
                + "| \(SVG.number(s.groups["all"]?.prauc.seedStd ?? 0, decimals: 4)) |\n"
        }
        if let teacher {
            md += "\nTeacher: \(Int(teacher["samples"] ?? 0)) training prompts, \(Int(teacher["tokens"] ?? 0)) tokens, "
                + "\(Int(teacher["steps"] ?? 0)) steps at \(SVG.number(teacher["tokensPerSecond"] ?? 0, decimals: 0)) tok/s.\n"
        }
        md += "\n## Steps (seconds)\n\n| step | seconds |\n|---|---|\n"
        for t in steps { md += "| \(t.name) | \(SVG.number(t.seconds, decimals: 1)) |\n" }
        md += "\n## Plots\n\n" + plots.map { "- `\($0)`" }.joined(separator: "\n") + "\n"
        return md
    }
}

import ArgumentParser
import Foundation
import LeaderCore

func readTextArgument(_ s: String) throws -> String {
    guard s.hasPrefix("@") else { return s }
    let path = String(s.dropFirst())
    guard let t = try? String(contentsOfFile: path, encoding: .utf8) else { throw LeaderError.io("\(path): cannot read") }
    return t
}

func stderr(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }

/// `--precision` of the CLI: parsed, with a warning on stderr when bf16 would run on the slow portable path
/// (no AMX on this CPU, or turned off by LEADER_AMX / LEADER_ISA).
func cliPrecision(_ s: String) throws -> QuantPrecision {
    let p = try QuantPrecision(parsing: s)
    if p == .bf16 && QuantPrecision.bf16Path != "amx" {
        stderr("leader: warning: --precision bf16 without AMX runs a slow portable loop here; fp32 is faster\n")
    }
    return p
}

/// Writes one SVG into `folder` (created when missing); returns its path.
func writePlot(_ folder: String, _ name: String, _ svg: String) throws -> String {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let path = (folder as NSString).appendingPathComponent(name)
    try FileWriting.write(Array(svg.utf8), to: path)
    return path
}

struct Student: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the LEADER(S) student.", subcommands: [StudentTrain.self])
}

struct StudentTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the student on a prepared dataset; early stopping on validation PRAUC.",
        discussion: """
            --config takes a JSON object (or @FILE) with any StudentConfig key (docs/student.md); unknown keys \
            are errors. A train state is written after every epoch to OUT.state; --resume continues from it. \
            Progress on stderr; a summary (JSON with --json, which also silences progress) on stdout.
            """)

    @Option(help: "Prepared dataset (.ldata).") var data: String
    @Option(help: "Output checkpoint (.safetensors).") var out: String
    @Option(help: "JSON config object or @FILE.") var config: String?
    @Option(help: "Threads (0 = all CPUs).") var threads = 0
    @Option(help: "Teacher-features file (leader teacher export / export_hf_teacher.py): adds α·MSE distillation.")
    var teacherFeatures: String?
    @Option(help: "Write training.svg (loss and validation PRAUC per epoch) into this folder.") var plot: String?
    @Flag(help: "Continue from OUT.state if it exists.") var resume = false
    @Flag(help: "JSON summary, no progress.") var json = false

    /// What the summary says about the teacher features used.
    struct TeacherSummary: Encodable {
        var file: String, target: String, dim: Int, rows: Int, matched: Int, extra: Int, fingerprintChecked: Bool
    }

    func run() throws {
        let start = ContinuousClock.now
        var cfg = try config.map { try StudentConfig.decode(json: try readTextArgument($0)) } ?? StudentConfig()
        let ds = try StudentDataset(path: data)
        let train = try ds.examples(.train, maxVisits: cfg.maxVisits)
        let val = try ds.examples(.validation, maxVisits: cfg.maxVisits)
        var teacher: TeacherFeatures?
        var teacherSummary: TeacherSummary?
        if let teacherFeatures {
            let file = try TeacherFeaturesFile(path: teacherFeatures)
            let checked = try file.checkDataFingerprint(ds.fingerprint, dataName: data)
            let join = try file.features(for: try ds.sampleIDs(.train), target: cfg.distillTarget)
            // teacherDim comes from the file; a config that names another width is a mistake.
            guard cfg.teacherDim == 0 || cfg.teacherDim == join.features.dim else {
                throw LeaderError.invalidArgument("--config teacherDim \(cfg.teacherDim), but \(teacherFeatures) has "
                    + "\(cfg.distillTarget.rawValue) rows of width \(join.features.dim)")
            }
            cfg.teacherDim = join.features.dim
            teacher = join.features
            teacherSummary = TeacherSummary(file: teacherFeatures, target: cfg.distillTarget.rawValue, dim: join.features.dim,
                                            rows: file.count, matched: join.matched, extra: join.extra,
                                            fingerprintChecked: checked)
            if !json {
                stderr("leader student: teacher features \(teacherFeatures): \(cfg.distillTarget.rawValue) width "
                    + "\(join.features.dim), \(join.matched) training samples matched, \(join.extra) other rows ignored"
                    + (checked ? "" : "; the file records no data fingerprint (matched by sample id only)") + "\n")
            }
        }
        let model = try StudentModel(config: cfg, sizes: ds.sizes, threads: threads)
        let trainer = try StudentTrainer(model: model, train: train, validation: val, teacher: teacher, threads: threads)
        let statePath = out + ".state"
        if resume, FileManager.default.fileExists(atPath: statePath) {
            try trainer.loadState(from: statePath, dataFingerprint: ds.fingerprint)
            if !json { stderr("leader student: resumed at epoch \(trainer.epoch)\n") }
        }
        if !json {
            stderr("leader student: \(train.count) train / \(val.count) validation samples, "
                + "\(model.store.parameterCount) parameters, \(Threads.resolveOrOne(threads)) threads\n")
        }
        let quiet = json
        var lastVal = ""
        var lastDraw = ContinuousClock.now - .seconds(1)
        try trainer.run({ ev in
            guard !quiet else { return }
            switch ev {
            case .step(let e, let s, let n, let loss):
                let now = ContinuousClock.now
                guard s == n || now - lastDraw > .milliseconds(200) else { return }
                lastDraw = now
                let w = 24, filled = w * s / max(n, 1)
                let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: w - filled)
                let kd = teacher == nil ? "" : String(format: " (distill %.4f)", loss.distill)
                stderr("\repoch \(e)/\(cfg.epochs) [\(bar)] \(s)/\(n) loss \(String(format: "%.4f", loss.total))\(kd)\(lastVal)   ")
            case .epoch(let ep):
                lastVal = String(format: " | val PRAUC %.4f Jaccard %.4f", ep.validationPRAUC, ep.validationJaccard)
                let kd = teacher == nil ? "" : String(format: " (distill %.4f)", ep.distill)
                stderr(String(format: "\repoch %d/%d loss %.4f%@ | val PRAUC %.4f Jaccard@%.2f %.4f%@                    \n",
                              ep.epoch, cfg.epochs, ep.loss, kd, ep.validationPRAUC, cfg.threshold, ep.validationJaccard,
                              ep.best ? " *" : ""))
            }
        }, afterEpoch: { t throws(LeaderError) in
            try t.saveState(to: statePath, dataFingerprint: ds.fingerprint)
        })
        let valScores = try trainer.score(val)
        let bestTh = val.isEmpty ? cfg.threshold : valScores.bestJaccardThreshold()
        let ck = try StudentCheckpoint(
            model: model, vocabularies: ds.vocabularies, profile: ds.data.cohort.profile,
            thresholds: CheckpointThresholds(configured: cfg.threshold, bestValidationJaccard: bestTh),
            provenance: CheckpointProvenance(dataFingerprint: ds.fingerprint, source: ds.data.cohort.source,
                                             epochs: trainer.epoch, bestEpoch: trainer.bestEpoch,
                                             bestValidationPRAUC: trainer.bestPRAUC))
        try ck.write(to: out)
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        var plots: [String] = []
        if let plot {
            plots.append(try writePlot(plot, "training.svg", TrainingPlots.trainingSVG(trainer.history, alpha: cfg.alpha)))
        }
        struct Summary: Encodable {
            var checkpoint: String, epochs: Int, bestEpoch: Int, bestValidationPRAUC: Double
            var bestValidationJaccardThreshold: Float, trainSamples: Int, validationSamples: Int
            var parameters: Int, seconds: Double
            var teacherFeatures: TeacherSummary?
            /// Per epoch: mean loss, BCE, distill and align terms (unweighted), validation PRAUC / Jaccard.
            var history: [StudentEpochSummary]
            var plots: [String]
        }
        let s = Summary(checkpoint: out, epochs: trainer.epoch, bestEpoch: trainer.bestEpoch,
                        bestValidationPRAUC: trainer.bestPRAUC, bestValidationJaccardThreshold: bestTh,
                        trainSamples: train.count, validationSamples: val.count,
                        parameters: model.store.parameterCount, seconds: seconds, teacherFeatures: teacherSummary,
                        history: trainer.history, plots: plots)
        if json { try printJSON(s) } else {
            print(String(format: "wrote %@: %d epochs (best %d, validation PRAUC %.4f), best-Jaccard threshold %.2f, %.1f s",
                         out, s.epochs, s.bestEpoch, s.bestValidationPRAUC, bestTh, seconds))
            for p in plots { print("wrote \(p)") }
        }
    }
}

extension Threads {
    static func resolveOrOne(_ n: Int) -> Int { (try? resolve(n)) ?? 1 }
}

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a student checkpoint (or a baseline) on the test split: Jaccard, F1, PRAUC, #meds, DDI.",
        discussion: """
            All / single-visit / multi-visit test patients; mean ± std over 10 random 80 % subsets and the \
            full-set value. Uses the threshold given, else the checkpoint's configured one; also reports the \
            checkpoint's best-validation-Jaccard threshold. Baselines: frequency, copy-previous (thresholds from \
            the same validation search).
            """)

    @Option(help: "Prepared dataset (.ldata).") var data: String
    @Option(help: "Student checkpoint.") var checkpoint: String?
    @Option(help: "DDI pair CSV (atc3_a,atc3_b).") var ddi: String?
    @Option(help: "frequency or copy-previous (instead of the checkpoint).") var baseline: String?
    @Option(help: "Prediction threshold.") var threshold: Float?
    @Option(help: "Threads (0 = all CPUs).") var threads = 0
    @Option(help: "Seed of the random subsets.") var seed: UInt64 = 42
    @Option(help: "Inference arithmetic of the student's linear layers: fp32 or bf16 (AMX tiles where available).")
    var precision = "fp32"
    @Option(help: "Write NAME-precision-recall.svg and NAME-by-visits.svg (NAME = student or the baseline) into this folder.")
    var plot: String?
    @Flag(help: "One JSON object.") var json = false

    func run() throws {
        let ds = try StudentDataset(path: data)
        var reports: [EvaluationReport] = []
        var plots: [String] = []
        func writePlots(_ s: ScoredSamples, name: String, threshold: Float) throws {
            guard let plot else { return }
            plots.append(try writePlot(plot, "\(name)-precision-recall.svg", EvaluationPlots.precisionRecallSVG(s, recommender: name)))
            plots.append(try writePlot(plot, "\(name)-by-visits.svg",
                                       EvaluationPlots.byVisitsSVG(s, recommender: name, threshold: threshold)))
        }
        let pairs = try ddi.map { p in
            let idx = CodeList(ds.data.cohort.medications).index()
            let d = try DDIPairs.load(path: p) { idx[$0] }
            if !json { stderr("leader eval: \(d.count) DDI pairs in the vocabulary (\(d.skipped) rows with other codes)\n") }
            return d
        }
        if let baseline {
            guard let b = Baseline(rawValue: baseline) else { throw ValidationError("--baseline must be frequency or copy-previous") }
            let maxV = 10
            let freq = Baseline.frequencies(try ds.examples(.train, maxVisits: maxV), medications: ds.sizes.medications)
            let test = try b.score(try ds.examples(.test, maxVisits: maxV), frequencies: freq)
            let val = try b.score(try ds.examples(.validation, maxVisits: maxV), frequencies: freq)
            let th = threshold ?? 0.3
            reports.append(try .evaluate(test, recommender: b.rawValue, threshold: th, ddi: pairs, seed: seed))
            try writePlots(test, name: b.rawValue, threshold: th)
            let best = val.bestJaccardThreshold()
            if best != th {
                reports.append(try .evaluate(test, recommender: "\(b.rawValue) (best validation-Jaccard threshold)",
                                             threshold: best, ddi: pairs, seed: seed))
            }
        } else {
            guard let checkpoint else { throw ValidationError("give --checkpoint or --baseline") }
            let ck = try StudentCheckpoint.read(checkpoint)
            guard ck.vocabularies == ds.vocabularies, ck.profile == ds.data.cohort.profile else {
                throw LeaderError.incompatible("\(checkpoint): vocabularies or profile encoders differ from \(data)")
            }
            let model = try ck.makeModel(threads: threads)
            let ctx = try Context(threads: threads)
            let test = try StudentScoring.score(model, try ds.examples(.test, maxVisits: ck.config.maxVisits), ctx,
                                                precision: try cliPrecision(precision))
            let th = threshold ?? ck.thresholds.configured
            reports.append(try .evaluate(test, recommender: "student", threshold: th, ddi: pairs, seed: seed))
            try writePlots(test, name: "student", threshold: th)
            if let best = ck.thresholds.bestValidationJaccard, best != th {
                reports.append(try .evaluate(test, recommender: "student (best validation-Jaccard threshold)",
                                             threshold: best, ddi: pairs, seed: seed))
            }
        }
        if json {
            struct Out: Encodable { var data: String; var reports: [EvaluationReport]; var plots: [String] }
            try printJSON(Out(data: data, reports: reports, plots: plots))
            return
        }
        printReports(reports)
        for p in plots { print("wrote \(p)") }
    }
}

struct Recommend: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recommend medications for one patient (JSON: visits, current, profile).")

    @Option(help: "Student checkpoint.") var checkpoint: String
    @Option(help: "Patient JSON file (or - for stdin).") var patient: String
    @Option(help: "Threshold (default: the checkpoint's).") var threshold: Float?
    @Option(help: "Inference arithmetic: fp32 or bf16 (AMX tiles where available).") var precision = "fp32"
    @Flag(help: "JSON output.") var json = false

    func run() throws {
        let text: String
        if patient == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let t = try? String(contentsOfFile: patient, encoding: .utf8) else { throw LeaderError.io("\(patient): cannot read") }
            text = t
        }
        let rec = try StudentRecommender(checkpoint: try StudentCheckpoint.read(checkpoint),
                                         precision: try cliPrecision(precision))
        let r = try rec.recommend(try PatientRecord.decode(json: text), threshold: threshold)
        if json { try printJSON(r); return }
        for u in r.unknownCodes { stderr("leader recommend: unknown code \(u) (ignored)\n") }
        for u in r.unknownProfile { stderr("leader recommend: unknown profile entry \(u) (encoded as unknown)\n") }
        print("recommended (score ≥ \(String(format: "%.2f", r.threshold))):")
        for i in r.recommended { print(String(format: "  %@  %.3f  %@", i.code, i.score, i.title)) }
        if r.recommended.isEmpty { print("  (none)") }
        print("next:")
        for i in r.others { print(String(format: "  %@  %.3f  %@", i.code, i.score, i.title)) }
    }
}

/// The evaluation table of `leader eval` and `leader teacher eval`: one block per report, rows all /
/// single-visit / multi-visit, mean ± std over the random test subsets.
func printReports(_ reports: [EvaluationReport]) {
    for r in reports {
        print("\(r.recommender), threshold \(String(format: "%.2f", r.threshold)), \(r.rounds) rounds of \(Int(r.fraction * 100)) %")
        print("group           patients  Jaccard          F1               PRAUC            #meds          DDI")
        for (name, g) in [("all", r.all), ("single-visit", r.singleVisit), ("multi-visit", r.multiVisit)] {
            func f(_ m: MeanStd?) -> String {
                guard let m else { return "-" }
                return String(format: "%.4f ± %.4f", m.mean, m.std)
            }
            let meds = String(format: "%5.2f ± %.2f", g.medications.mean, g.medications.std)
            print(name.padding(toLength: 16, withPad: " ", startingAt: 0)
                + String(g.patients).padding(toLength: 10, withPad: " ", startingAt: 0)
                + "\(f(g.jaccard))  \(f(g.f1))  \(f(g.prauc))  \(meds)  \(f(g.ddi))")
        }
        print("")
    }
}

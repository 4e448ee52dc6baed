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

/// A usage error (exit 64) for the first option below its least value: `(flag, value, least)`.
func requireAtLeast(_ options: [(String, Int, Int)]) throws {
    for (name, value, least) in options where value < least {
        throw ValidationError("\(name) must be at least \(least) (got \(value))")
    }
}

/// `--precision` of the teacher commands: parsed, with a warning on stderr when bf16 would run on the slow
/// portable path (no AMX on this CPU, or turned off by LEADER_AMX / LEADER_ISA).
func cliPrecision(_ s: String) throws -> QuantPrecision {
    let p = try QuantPrecision(parsing: s)
    if p == .bf16 { warnIfPortableBF16() }
    return p
}

/// `--precision` of the student commands (fp32 or bf16), with the same warning.
func cliStudentPrecision(_ s: String) throws -> StudentPrecision {
    guard let p = StudentPrecision(rawValue: s) else {
        throw LeaderError.invalidArgument("precision: expected fp32 or bf16, got '\(s.prefix(16))'")
    }
    if p == .bf16 { warnIfPortableBF16() }
    return p
}

private func warnIfPortableBF16() {
    if StudentPrecision.bf16Path == "portable" {
        stderr("leader: warning: --precision bf16 without AMX or AVX512-BF16 runs a slow portable loop here; "
            + "fp32 is faster\n")
    }
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
    @Option(help: "Teacher-features file (leader teacher export / export_hf_teacher.py): adds the distillation term of distillTarget (hidden: α·MSE, the paper; soft: α·T²·BCE on the teacher's tempered probabilities).")
    var teacherFeatures: String?
    @Option(help: "Write training.svg (loss and validation PRAUC per epoch) into this folder.") var plot: String?
    @Flag(help: "Continue from OUT.state if it exists.") var resume = false
    @Flag(help: "JSON summary, no progress.") var json = false

    func run() throws {
        let cfg = try config.map { try StudentConfig.decode(json: try readTextArgument($0)) } ?? StudentConfig()
        let job = StudentJob(data: data, out: out, config: cfg, teacherFeatures: teacherFeatures, threads: threads,
                             statePath: out + ".state", resume: resume, plot: plot)
        let r = try job.run(progress: json ? nil : StudentProgressBar(epochs: cfg.epochs, threshold: cfg.threshold).event)
        if json { try printJSON(r); return }
        if let t = r.teacherFeatures {
            stderr("leader student: teacher features \(t.file): \(t.target) width \(t.dim), \(t.matched) training samples "
                + "matched, \(t.extra) other rows ignored"
                + (t.fingerprintChecked ? "" : "; the file records no data fingerprint (matched by sample id only)") + "\n")
        }
        print(String(format: "wrote %@: %d epochs (best %d, validation PRAUC %.4f), best-Jaccard threshold %.2f, %.1f s",
                     out, r.epochs, r.bestEpoch, r.bestValidationPRAUC, r.bestValidationJaccardThreshold, r.seconds))
        for p in r.plots { print("wrote \(p)") }
    }
}

/// The student job's progress on stderr: a bar per epoch, a line per finished epoch.
final class StudentProgressBar {
    let epochs: Int, threshold: Float
    private var lastVal = "", lastDraw = ContinuousClock.now - .seconds(1)
    init(epochs: Int, threshold: Float) { self.epochs = epochs; self.threshold = threshold }

    func event(_ ev: JobEvent) -> Bool {
        let v = ev.values
        switch ev.stage {
        case "step":
            let now = ContinuousClock.now
            guard ev.done == ev.total || now - lastDraw > .milliseconds(200) else { return true }
            lastDraw = now
            let w = 24, filled = w * ev.done / max(ev.total, 1)
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: w - filled)
            let kd = (v["distill"] ?? 0) == 0 ? "" : String(format: " (distill %.4f)", v["distill"] ?? 0)
            stderr("\repoch \(Int(v["epoch"] ?? 0))/\(epochs) [\(bar)] \(ev.done)/\(ev.total) loss "
                + String(format: "%.4f", v["loss"] ?? 0) + "\(kd)\(lastVal)   ")
        case "epoch":
            lastVal = String(format: " | val PRAUC %.4f Jaccard %.4f", v["validationPRAUC"] ?? 0, v["validationJaccard"] ?? 0)
            let kd = (v["distill"] ?? 0) == 0 ? "" : String(format: " (distill %.4f)", v["distill"] ?? 0)
            stderr(String(format: "\repoch %d/%d loss %.4f%@ | val PRAUC %.4f Jaccard@%.2f %.4f%@                    \n",
                          ev.done, epochs, v["loss"] ?? 0, kd, v["validationPRAUC"] ?? 0, threshold,
                          v["validationJaccard"] ?? 0, (v["best"] ?? 0) != 0 ? " *" : ""))
        default: break
        }
        return true
    }
}

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a student checkpoint (or a baseline, or another tool's scores) on the test split: Jaccard, F1, PRAUC, #meds, DDI.",
        discussion: """
            All / single-visit / multi-visit test patients; mean ± std over 10 random 80 % subsets and the \
            full-set value. Uses the threshold given, else the checkpoint's configured one; also reports the \
            checkpoint's best-validation-Jaccard threshold. Baselines: frequency, copy-previous (thresholds from \
            the same validation search). --scores: a JSON-lines file of another tool's scores             ({"id", "scores": {code: p}} for the validation and test samples `leader samples` wrote;             bench/peers/ writes them for the PyHealth models).
            """)

    @Option(help: "Prepared dataset (.ldata).") var data: String
    @Option(help: "Student checkpoint.") var checkpoint: String?
    @Option(help: "DDI pair CSV (atc3_a,atc3_b); default: the project's data/ddi_atc3_pairs.csv; \"\" for none.")
    var ddi: String?
    @Option(help: "frequency or copy-previous (instead of the checkpoint).") var baseline: String?
    @Option(help: "Scores of a system trained outside leader (JSON lines, instead of the checkpoint).") var scores: String?
    @Option(help: "Prediction threshold.") var threshold: Float?
    @Option(help: "Threads (0 = all CPUs).") var threads = 0
    @Option(help: "Seed of the random subsets.") var seed: UInt64 = 42
    @Option(help: "Inference arithmetic of the student's linear layers: fp32 or bf16 (AMX tiles where available).")
    var precision = "fp32"
    @Option(help: "Write NAME-precision-recall.svg and NAME-by-visits.svg (NAME = student or the baseline) into this folder.")
    var plot: String?
    @Flag(help: "Also report each system with the DDI filter (the lower-scored drug of every interacting pair dropped).")
    var ddiFilter = false
    @Flag(help: "One JSON object.") var json = false

    func run() throws {
        guard [checkpoint, baseline, scores].compactMap({ $0 }).count == 1 else {
            throw ValidationError("give one of --checkpoint, --baseline and --scores")
        }
        let job = EvaluateJob(data: data, checkpoint: checkpoint, baseline: baseline, scores: scores, ddi: ddi, threshold: threshold,
                              threads: threads, seed: seed, precision: try cliStudentPrecision(precision).rawValue, plot: plot,
                              ddiFilter: ddiFilter)
        let r = try job.run()
        if json { try printJSON(r); return }
        if let n = r.ddiPairs, let f = r.ddiFile {
            stderr("leader eval: \(f): \(n) DDI pairs in the vocabulary (\(r.ddiSkipped ?? 0) rows with other codes)\n")
        }
        printReports(r.reports)
        for p in r.plots { print("wrote \(p)") }
    }
}

struct Recommend: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recommend medications for one patient (JSON: visits, current, profile).")

    @Option(help: "Student checkpoint.") var checkpoint: String
    @Option(help: "Patient JSON file (or - for stdin).") var patient: String
    @Option(help: "Threshold (default: the checkpoint's).") var threshold: Float?
    @Option(help: "Inference arithmetic: fp32 or bf16 (AMX tiles where available).") var precision = "fp32"
    @Option(help: "DDI pair CSV: drop the lower-scored drug of every interacting pair from the recommendations.")
    var ddiFilter: String?
    @Flag(help: "JSON output.") var json = false

    func run() throws {
        let text: String
        if patient == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let t = try? String(contentsOfFile: patient, encoding: .utf8) else { throw LeaderError.io("\(patient): cannot read") }
            text = t
        }
        let session = try ServingSession(model: try ServingModel(path: checkpoint),
                                         options: .init(precision: try cliStudentPrecision(precision).rawValue,
                                                        ddiFilter: ddiFilter))
        let r = try session.recommendation(try PatientRecord.decode(json: text), threshold: threshold)
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

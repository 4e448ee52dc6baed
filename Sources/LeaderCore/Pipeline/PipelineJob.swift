import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// `{"task": "pipeline", ...PipelineConfig}` and `leader pipeline`: the whole LEADER method on one dataset —
/// prepare → teacher fine-tune → feature export → students without and with distillation (and the ablation)
/// over several seeds → evaluation of every system and the baselines → `report.md` / `report.json` / plots.
///
/// Every artifact lands in `config.out`. After each step the folder's `pipeline-state.json` records the step,
/// the key of its settings and what it measured; re-running reuses every step whose record, key and outputs
/// are still there and none of whose input steps ran again (the students without KD do not depend on the
/// teacher). A student step killed mid-training continues from its `.state` file.
public struct PipelineJob: Sendable {
    public var config: PipelineConfig

    public init(config: PipelineConfig) { self.config = config }

    /// What a finished step left in the state file.
    public struct StepRecord: Codable, Equatable, Sendable {
        public var name: String
        /// The step's inputs (settings and the files it reads), as canonical text.
        public var key: String
        public var seconds: Double
        /// Figures of the step (epochs, tokens per second, …).
        public var values: [String: Double]
        /// Per optimiser step the teacher's loss; per epoch a student's validation PRAUC.
        public var curve: [Double]
    }

    struct State: Codable {
        var version = 1
        var steps: [StepRecord] = []
    }

    public struct StepSummary: Encodable, Sendable {
        public var name: String
        public var seconds: Double
        /// True when the step's earlier result was reused (resume).
        public var reused: Bool
    }

    public struct Result: Encodable, Sendable {
        public var out: String
        public var report: String, reportMarkdown: String
        public var steps: [StepSummary]
        public var seconds: Double
        /// The checkpoint a host would serve: the distilled student of the first seed (the plain one without a
        /// teacher).
        public var checkpoint: String
        public var summary: PipelineReport
    }

    /// The student variants of a run: the plain student (α = 0), the distilled one and, with ablations, the
    /// distilled one without profile alignment (β = 0) and the distilled one without the profile at all (no
    /// profile prompt, a learned vector in its place, and β = 0: alignment needs the prompt).
    /// With `ddiPenalty` > 0 also the served variant (distilled, or plain without a teacher) trained with the
    /// SafeDrug-style DDI penalty.
    public enum Variant: String, CaseIterable, Sendable {
        case plain, distilled, distilledNoAlign = "distilled-no-align", distilledNoProfile = "distilled-no-profile"
        case ddiPenalty = "ddi-penalty"
    }

    public func title(_ v: Variant) -> String {
        switch v {
        case .plain: return "student (no KD)"
        case .distilled: return "LEADER(S): student + KD"
        case .distilledNoAlign: return "student + KD, β = 0"
        case .distilledNoProfile: return "student + KD, no profile (prompt off, β = 0)"
        case .ddiPenalty: return (config.teacher == nil ? "student" : "LEADER(S)") + " + DDI penalty"
        }
    }

    public var variants: [Variant] {
        var v: [Variant] = config.teacher == nil ? [.plain] : config.ablations
            ? [.plain, .distilled, .distilledNoAlign, .distilledNoProfile] : [.plain, .distilled]
        if config.ddiPenalty > 0 { v.append(.ddiPenalty) }
        return v
    }

    /// Whether a variant reads the teacher's features.
    func distils(_ v: Variant) -> Bool { v != .plain && config.teacher != nil }

    // MARK: paths

    func path(_ name: String) -> String { config.out.hasSuffix("/") ? config.out + name : config.out + "/" + name }
    var dataPath: String { config.data ?? path("cohort.ldata") }
    var teacherPath: String { config.teacher?.checkpoint ?? path("teacher.safetensors") }
    var featuresPath: String { config.teacher?.features ?? path("teacher-features.safetensors") }
    var statePath: String { path("pipeline-state.json") }
    func studentPath(_ v: Variant, seed: UInt64) -> String { path("students/\(v.rawValue)-seed\(seed).safetensors") }
    /// The checkpoint a host would serve.
    public var servedCheckpoint: String {
        studentPath(variants.contains(.distilled) ? .distilled : .plain, seed: config.seeds[0])
    }

    /// The student config of one variant and seed.
    func studentConfig(_ v: Variant, seed: UInt64) -> StudentConfig {
        var c = config.student
        c.seed = seed
        if !distils(v) {
            // No teacher: the distillation settings do not apply (and must not make its step look changed).
            let d = StudentConfig()
            c.alpha = 0; c.distillTarget = d.distillTarget; c.distillTemperature = d.distillTemperature
        }
        if v == .distilledNoAlign || v == .distilledNoProfile { c.beta = 0 }
        if v == .distilledNoProfile { c.profilePrompt = false }
        c.ddiWeight = v == .ddiPenalty ? config.ddiPenalty : 0
        return c
    }

    // MARK: steps

    struct Step {
        var name: String
        var kind: String
        var key: String
        var outputs: [String]
        /// The steps whose outputs it reads: when one of them runs again, so does this one.
        var inputs: [String]
        /// Runs the step; reports inner progress as (stage, fraction done, values); returns its record figures.
        var run: (_ progress: @escaping (String, Double, [String: Double]) throws(LeaderError) -> Void) throws(LeaderError)
            -> (values: [String: Double], curve: [Double])
    }

    func steps(threads: Int) throws(LeaderError) -> [Step] {
        var out: [Step] = []
        let cfg = config
        if cfg.data == nil {
            let prepare = PrepareJob(source: cfg.source, input: cfg.input ?? (cfg.source == "synthetic" ? path("cohort") : nil),
                                         maps: cfg.maps, out: dataPath,
                                         config: cfg.prepare ?? PrepareConfig.defaults(for: DataSource(rawValue: cfg.source) ?? .mimic3),
                                         patients: cfg.patients, seed: cfg.seed)
            let key = "source=\(cfg.source) input=\(PostgresTables.redacted(cfg.input ?? "")) maps=\(cfg.maps ?? "") patients=\(cfg.patients) "
                + "seed=\(cfg.seed) config=\(try Self.json(prepare.config))"
            out.append(Step(name: "prepare", kind: "prepare", key: key, outputs: [dataPath], inputs: []) { (p) throws(LeaderError) in
                let r = try prepare.run { ev in (try? p(ev.stage, ev.total > 0 ? Double(ev.done) / Double(ev.total) : 0, [:])) != nil }
                return (["patients": Double(r.statistics.patients), "visits": Double(r.statistics.visits)], [])
            })
        }
        // A given dataset is keyed by its content too: replacing the file re-runs what was trained on it.
        let dataKey = "data=\(dataPath)" + (cfg.data != nil ? " fingerprint=\(try StudentDataset(path: dataPath).fingerprint)" : "")
        if let t = cfg.teacher, t.features == nil {
            let precision = try t.resolvedPrecision()
            // Training also writes the features of every split, reusing its cache of the frozen lower layers.
            let train = TeacherTrainJob(data: dataPath, model: t.model, out: teacherPath, config: t.config, threads: threads,
                                        precision: precision, profile: t.profile, features: featuresPath)
            let tKey = "\(dataKey) model=\(t.model ?? TeacherSetup.defaultModelName) precision=\(precision.rawValue) "
                + "profile=\(t.profile) config=\(try Self.json(t.config))"
            if t.checkpoint == nil {
                out.append(Step(name: "teacher-train", kind: "teacher-train", key: tKey, outputs: [teacherPath, featuresPath],
                                inputs: ["prepare"]) { (p) throws(LeaderError) in
                    var losses: [Double] = []
                    var failure: LeaderError?
                    let r = try train.run { ev in
                        if ev.stage == "step", let l = ev.values["loss"] { losses.append(l) }
                        // rough shares of the step's time: frozen-layer cache, LoRA steps, features export
                        let f = ev.total > 0 ? Double(ev.done) / Double(ev.total) : 0
                        let share = ev.stage == "prefix" ? 0.25 * f : ev.stage == "step" ? 0.25 + 0.7 * f
                            : ev.stage == "export" ? 0.95 + 0.05 * f : 0
                        do { try p(ev.stage, share, ev.values) } catch {
                            failure = (error as? LeaderError) ?? .internalError("pipeline: \(error)")
                            return false
                        }
                        return true
                    }
                    if let failure { throw failure }
                    return (["samples": Double(r.samples), "tokens": Double(r.tokens), "steps": Double(r.steps),
                             "tokensPerSecond": r.tokensPerSecond, "prefixSeconds": r.prefixSeconds,
                             "trainSeconds": r.trainSeconds, "featureSeconds": r.featureSeconds ?? 0], losses)
                })
            } else {
                let export = TeacherExportJob(data: dataPath, model: t.model, teacher: teacherPath, out: featuresPath,
                                              split: "all", threads: threads, precision: precision, profile: t.profile)
                out.append(Step(name: "teacher-export", kind: "teacher-export", key: tKey + " checkpoint=\(teacherPath)",
                                outputs: [featuresPath], inputs: ["prepare"]) { (p) throws(LeaderError) in
                    let r = try export.run { ev in (try? p(ev.stage, ev.total > 0 ? Double(ev.done) / Double(ev.total) : 0, ev.values)) != nil }
                    return (["samples": Double(r.samples), "tokensPerSecond": r.tokensPerSecond], [])
                })
            }
        }
        for seed in cfg.seeds {
            for v in variants {
                let sc = studentConfig(v, seed: seed)
                let ck = studentPath(v, seed: seed)
                let features = distils(v) ? featuresPath : nil
                let job = StudentJob(data: dataPath, out: ck, config: sc, teacherFeatures: features, threads: threads,
                                     statePath: ck + ".state", resume: true, ddi: config.ddi)
                let key = "\(dataKey) features=\(features ?? "none") config=\(try sc.json())"
                    + (sc.ddiWeight > 0 ? " ddi=\(config.ddi ?? "shipped")" : "")
                out.append(Step(name: "student-\(v.rawValue)-seed\(seed)", kind: "student", key: key,
                                outputs: [ck], inputs: features == nil ? ["prepare"] : ["prepare", "teacher-train", "teacher-export"]) { (p) throws(LeaderError) in
                    try SyntheticCohort.makeDirectories(path("students"))
                    let r = try job.run { ev in
                        var f = 0.0
                        if ev.stage == "step", let e = ev.values["epoch"], let n = ev.values["epochs"], n > 0, ev.total > 0 {
                            f = (e - 1 + Double(ev.done) / Double(ev.total)) / n
                        }
                        return (try? p(ev.stage, f, ev.values)) != nil
                    }
                    return (["epochs": Double(r.epochs), "bestEpoch": Double(r.bestEpoch),
                             "bestValidationPRAUC": r.bestValidationPRAUC, "parameters": Double(r.parameters)],
                            r.history.map(\.validationPRAUC))
                })
            }
        }
        return out
    }

    static func json<T: Encodable>(_ v: T) throws(LeaderError) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return String(decoding: try e.encode(v), as: UTF8.self) } catch {
            throw .internalError("pipeline: cannot encode (\(error))")
        }
    }

    // MARK: state

    func loadState() throws(LeaderError) -> State {
        guard access(statePath, F_OK) == 0 else { return State() }
        let bytes = try FileBytes.read(statePath)
        do {
            let s = try JSONDecoder().decode(State.self, from: Data(bytes))
            guard s.version == 1 else { throw LeaderError.incompatible("\(statePath): state version \(s.version), expected 1") }
            return s
        } catch let e as LeaderError {
            throw e
        } catch {
            throw .badFile("\(statePath): not a pipeline state file (\(StrictJSON.describe(error))); delete it to start over")
        }
    }

    func saveState(_ s: State) throws(LeaderError) {
        try FileWriting.write(Array(try Self.json(s).utf8), to: statePath)
    }

    // MARK: run

    /// Runs (or resumes) the pipeline. Progress events: task "pipeline", stage "<step>/<its stage>", done/total
    /// = steps finished / all steps, values: the step's own figures plus "elapsed" and, once it can be
    /// estimated, "remaining" (seconds).
    public func run(progress: JobProgress? = nil) throws(LeaderError) -> Result {
        try config.validate()
        let start = ContinuousClock.now
        let threads = try Threads.resolve(config.threads, "pipeline: threads")
        try SyntheticCohort.makeDirectories(config.out)
        let plan = try steps(threads: threads)
        var state = try loadState()
        var ran = Set<String>()
        var summaries: [StepSummary] = []
        var measured: [String: [Double]] = [:]   // seconds of steps run now, by kind
        let total = plan.count + 1
        func remaining(after index: Int, current: (kind: String, elapsed: Double, fraction: Double)?) -> Double? {
            var left = 0.0, known = true
            if let c = current {
                if c.fraction > 0.02 { left += c.elapsed / c.fraction - c.elapsed } else { known = false }
            }
            for s in plan[(index + 1)...] {
                if let m = measured[s.kind], !m.isEmpty { left += m.reduce(0, +) / Double(m.count) } else { known = false }
            }
            return known ? left : nil
        }
        for (i, step) in plan.enumerated() {
            if ran.isDisjoint(with: step.inputs), let rec = state.steps.first(where: { $0.name == step.name }),
               rec.key == step.key, step.outputs.allSatisfy({ access($0, R_OK) == 0 }) {
                summaries.append(StepSummary(name: step.name, seconds: rec.seconds, reused: true))
                try report(progress, JobEvent(task: "pipeline", stage: "\(step.name)/reused", done: i + 1, total: total,
                                              values: ["elapsed": seconds(since: start)]))
                continue
            }
            ran.insert(step.name)
            if state.steps.contains(where: { $0.name == step.name }) {
                // It finished before with other inputs (or before a step it depends on re-ran): its train state
                // is not a resume point of this run.
                for o in step.outputs { unlink(o + ".state") }
                state.steps.removeAll { $0.name == step.name }
            }
            let t0 = ContinuousClock.now
            let r = try step.run { (stage, fraction, values) throws(LeaderError) in
                var v = values
                v["elapsed"] = seconds(since: start)
                v["stepFraction"] = fraction
                if let left = remaining(after: i, current: (step.kind, seconds(since: t0), fraction)) { v["remaining"] = left + 5 }
                try report(progress, JobEvent(task: "pipeline", stage: "\(step.name)/\(stage)", done: i, total: total, values: v))
            }
            let s = seconds(since: t0)
            measured[step.kind, default: []].append(s)
            state.steps.append(StepRecord(name: step.name, key: step.key, seconds: s, values: r.values, curve: r.curve))
            try saveState(state)
            summaries.append(StepSummary(name: step.name, seconds: s, reused: false))
        }
        try report(progress, JobEvent(task: "pipeline", stage: "report/evaluate", done: plan.count, total: total,
                                      values: ["elapsed": seconds(since: start)]))
        let t0 = ContinuousClock.now
        let records = plan.compactMap { p in state.steps.first { $0.name == p.name } }
        let summary = try PipelineReport.build(self, records: records, threads: threads)
        let (json, md) = (path("report.json"), path("report.md"))
        try FileWriting.write(Array(try Self.json(summary).utf8), to: json)
        try FileWriting.write(Array(summary.markdown().utf8), to: md)
        summaries.append(StepSummary(name: "report", seconds: seconds(since: t0), reused: false))
        try report(progress, JobEvent(task: "pipeline", stage: "report/write", done: total, total: total,
                                      values: ["elapsed": seconds(since: start)]))
        return Result(out: config.out, report: json, reportMarkdown: md, steps: summaries, seconds: seconds(since: start),
                      checkpoint: servedCheckpoint, summary: summary)
    }
}

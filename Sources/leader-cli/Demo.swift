import ArgumentParser
import Foundation
import LeaderCore

/// `make demo`: the whole LEADER method on the built-in default data (the synthetic cohort, no download needed).
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the whole LEADER method on the built-in synthetic cohort: kernels self-check, then `leader "
            + "pipeline` (cohort, LLM teacher, students with and without distillation over 3 seeds, report).",
        discussion: """
            Writes everything under --out (default out/demo): report.md, report.json, plots/, the checkpoints. \
            Re-running resumes (finished steps are reused). Ends with the report table, the served checkpoint's \
            path and one example recommendation with its explanation. The same run with your own settings: \
            leader pipeline --config FILE (docs/pipeline.md). Sized for about 10 minutes on 2 cores (docs/pipeline.md).
            """)

    @Option(help: "Threads (0 = online CPUs).") var threads = 0
    @Option(help: "Synthetic patients.") var patients = Demo.defaultPatients
    @Option(help: "Seed of the synthetic cohort and the split.") var seed: UInt64 = 1
    @Option(help: "Training seeds of the students.") var seeds = 3
    @Option(help: "Output folder.") var out = "out/demo"
    @Flag(help: "Leave the teacher out (students without distillation and baselines only).") var noTeacher = false
    @Option(help: "Base model: a GGUF file or a Hugging Face folder (default: the SmolLM2 teacher, looked for in $LEADER_MODEL, ./models, the project's models/, ~/.cache/leader/models).")
    var model: String?

    /// The demo cohort: small enough for the teacher's fine-tune to fit the 15-minute budget on 2 cores.
    static let defaultPatients = 400

    /// The pipeline's teacher recipe cut to the demo's budget: LoRA on the top 4 layers (not 6), 2 epochs (not 4)
    /// at a higher learning rate, prompts cut to 128 tokens (not 256) (docs/pipeline.md, "The demo").
    static var teacherRecipe: TeacherTrainConfig {
        var c = PipelineConfig.defaultTeacher
        c.epochs = 2
        c.learningRate = 1e-3
        c.maxTokens = 128
        c.lora.topLayers = 4
        return c
    }

    func validate() throws { try requireAtLeast([("--seeds", seeds, 1), ("--threads", threads, 0)]) }

    func run() throws {
        let threads = try Threads.resolve(threads)
        print("leader \(LeaderVersion.string) (ABI \(LeaderVersion.abi)) — kernels: \(Threads.isaName), threads: \(threads)")

        section("1. GEMM kernels against the naive reference, every ISA this CPU has")
        let checks = KernelSelfCheck().run(threads: threads)
        print(pad("isa", 8) + pad("M x N x K", 18) + pad("threads", 9) + pad("max rel err", 13) + pad("GFLOP/s", 9) + "ok")
        for r in checks {
            print(pad(r.isa, 8) + pad(r.shape.map(String.init).joined(separator: " x "), 18) + pad("\(r.threads)", 9)
                  + pad(String(format: "%.1e", r.maxRelativeError), 13) + pad(String(format: "%.1f", r.gflops), 9)
                  + (r.passed ? "yes" : "NO"))
        }
        guard checks.allSatisfy(\.passed) else { throw ExitCode.failure }

        var config = PipelineConfig(out: out)
        config.patients = patients
        config.seed = seed
        config.seeds = (1...UInt64(max(1, seeds))).map { $0 }
        config.threads = threads
        if noTeacher {
            config.teacher = nil
        } else {
            var t = PipelineConfig.Teacher()
            t.model = model
            t.config = Demo.teacherRecipe
            config.teacher = t
            _ = try TeacherSetup.resolveModel(model)   // a missing model is an error now, not after the cohort
        }
        section("2. leader pipeline: \(patients) synthetic patients (seed \(seed)), "
            + (noTeacher ? "no teacher" : "teacher \(URL(fileURLWithPath: try TeacherSetup.resolveModel(model)).lastPathComponent)")
            + ", students × \(config.seeds.count) seeds")
        let r = try PipelineJob(config: config).run(progress: PipelineProgress().event)
        stderr("\n")
        for s in r.steps {
            print(s.name.padding(toLength: 36, withPad: " ", startingAt: 0) + String(format: "%7.1f s", s.seconds)
                + (s.reused ? " (reused)" : ""))
        }

        section("3. Report (test patients; \(r.reportMarkdown))")
        print(r.summary.table())
        for n in r.summary.notes { print("\nNote: \(n)") }
        print("\nplots: " + r.summary.plots.joined(separator: ", "))

        section("4. The served checkpoint and one recommendation")
        print("checkpoint: \(r.checkpoint)")
        try example(checkpoint: r.checkpoint, data: out + "/cohort.ldata")
        print("\ndemo finished in \(PipelineProgress.clock(r.seconds)); everything is in \(out)/")
        print("try: leader recommend --checkpoint \(r.checkpoint) --patient PATIENT.json (format: docs/student.md)")
    }

    /// The first multi-visit test patient of the cohort: its recommendation and why the top medication scored.
    private func example(checkpoint: String, data: String) throws {
        let ds = try StudentDataset(path: data)
        let cohort = ds.data.cohort
        guard let e = try ds.examples(.test, maxVisits: 10).first(where: { $0.visitCount > 1 }) else { return }
        func names(_ ids: [Int32], _ v: Vocabulary) -> [String] { ids.map { v.keys[Int($0)] } }
        let past = (0..<(e.visitCount - 1)).map { j in
            PatientRecord.PastVisit(diagnoses: names(e.diagnoses[j], cohort.diagnoses),
                                    procedures: names(e.procedures[j], cohort.procedures),
                                    medications: j < e.medications.count ? names(e.medications[j], cohort.medications) : [])
        }
        var profileValues: [String: String] = [:]
        for (f, i) in zip(cohort.profile.fields, e.profile) where Int(i) < f.values.count { profileValues[f.name] = f.values[Int(i)] }
        let record = PatientRecord(visits: past, current: .init(diagnoses: names(e.diagnoses[e.visitCount - 1], cohort.diagnoses),
                                                                procedures: names(e.procedures[e.visitCount - 1], cohort.procedures)),
                                   profile: profileValues)
        let patient = record.codes
        let session = try ServingSession(model: try ServingModel(path: checkpoint))
        let rec = try session.recommendation(record)
        print("test patient with \(e.visitCount) visits; current visit: \(patient.diagnoses.last?.count ?? 0) diagnoses, "
            + "\(patient.procedures.last?.count ?? 0) procedures")
        print("recommended (score ≥ \(String(format: "%.2f", rec.threshold))), ✓ = given at that visit:")
        let truth = Set(e.targetMedications.map { cohort.medications.keys[Int($0)] })
        for i in rec.recommended.prefix(12) {
            print(String(format: "  %@ %@  %.3f  %@", truth.contains(i.code) ? "✓" : " ", i.code, i.score, i.title))
        }
        guard let top = rec.recommended.first, let id = cohort.medications.keys.firstIndex(of: top.code) else { return }
        let why = try session.explain(patient, medication: id)
        let last = patient.visitCount - 1
        func flat(_ sets: [[String]], _ kind: String, _ v: Vocabulary) -> [(String, String, Vocabulary)] {
            sets.enumerated().flatMap { (j, codes) in
                codes.map { (kind + (j == last ? " (current visit)" : " (visit \(j + 1))"), $0, v) }
            }
        }
        let inputs = flat(patient.diagnoses, "diagnosis", cohort.diagnoses) + flat(patient.procedures, "procedure", cohort.procedures)
            + flat(patient.medications, "medication", cohort.medications)
        print("why \(top.code) (\(top.title)) scored \(String(format: "%.3f", why.score)): the score without each input (occlusion), largest drops:")
        for item in why.items.prefix(5) {
            if item.position < inputs.count {
                let (kind, code, v) = inputs[item.position]
                let title = v.keys.firstIndex(of: code).map { v.titles[$0] } ?? ""
                print(String(format: "  %+.3f  %@ %@  %@", -item.contribution, kind, code, title))
            } else if item.position - inputs.count < patient.profile.count {
                let pair = patient.profile[item.position - inputs.count]
                print(String(format: "  %+.3f  profile %@ = %@", -item.contribution, pair.key, pair.value))
            }
        }
    }

    private func section(_ title: String) { print("\n== \(title)\n") }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }
}

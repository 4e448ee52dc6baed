import ArgumentParser
import Foundation
import LeaderCore

/// `make demo`: the main job on the built-in default data (the synthetic cohort, no download needed).
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the main job on the built-in synthetic cohort: synthesise, prepare, train the student, evaluate.",
        discussion: """
            Writes everything under --out (default out/demo); deterministic for a given --seed and thread count.
            Each step is also a command of its own: leader synth | prepare | stats | student train | eval.
            """)

    @Option(help: "Threads (0 = online CPUs).") var threads = 0
    @Option(help: "Synthetic patients.") var patients = 2000
    @Option(help: "Seed of the synthetic cohort and the split.") var seed: UInt64 = 1
    @Option(help: "Output folder.") var out = "out/demo"
    @Option(help: "Maximum student epochs (early stopping on validation PRAUC may end sooner).") var epochs = 25
    @Option(help: "DDI pair file for the evaluation (default: the project's data/ddi_atc3_pairs.csv).")
    var ddi: String?
    @Flag(help: "Also run the teacher half of LEADER: LoRA fine-tune of the LLM (top 2 layers; frozen products in bf16 on AMX CPUs, else int8), export its features, distil a second student and evaluate it (≈ 15 more minutes on 2 cores).")
    var teacher = false
    @Option(help: "Base model: a GGUF file or a Hugging Face folder (default: the SmolLM2 teacher, looked for in $LEADER_MODEL, ./models, the project's models/, ~/.cache/leader/models).")
    var model: String?

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

        section("2-3. Synthetic cohort (\(patients) patients, seed \(seed)) in MIMIC-III format, prepared with the MIMIC-III loader "
            + "(LEADER filtering, one sample per patient, 80/10/10 split)")
        let cohortDir = out + "/cohort", ldata = out + "/cohort.ldata"
        var config = PrepareConfig.defaults(for: .mimic3)
        config.seed = seed
        let prep = try PrepareJob(source: "synthetic", input: cohortDir, maps: nil, out: ldata, config: config,
                                  patients: patients, seed: seed).run()
        if let s = prep.synthetic {
            print("wrote \(cohortDir): \(s.admissions) admissions, \(s.prescriptionsRows) prescription rows, "
                  + String(format: "%.1f %% single-visit patients", s.singleVisitShare * 100))
        }
        print("wrote \(ldata)")
        print(StatsText.render(prep.statistics, report: prep.report))

        section("4. Student LEADER(S): BCE, Adam, early stopping on validation PRAUC (no teacher features here)")
        let checkpoint = out + "/student.safetensors", plots = out + "/plots"
        var studentConfig = StudentConfig()
        studentConfig.epochs = epochs
        studentConfig.patience = 5
        studentConfig.seed = seed
        try trainStudent(StudentJob(data: ldata, out: checkpoint, config: studentConfig, threads: threads,
                                    statePath: checkpoint + ".state", plot: plots))

        section("5. Test patients: the student against the two trivial baselines (same evaluation code)")
        let ddiFile = ddi
        for job in [EvaluateJob(data: ldata, checkpoint: checkpoint, ddi: ddiFile, threads: threads, plot: plots),
                    EvaluateJob(data: ldata, baseline: "frequency", ddi: ddiFile, threads: threads, plot: plots),
                    EvaluateJob(data: ldata, baseline: "copy-previous", ddi: ddiFile, threads: threads, plot: plots)] {
            try evaluate(job)
        }
        if teacher {
            try runTeacher(ldata: ldata, plots: plots, threads: threads, ddi: ddiFile, studentConfig: studentConfig)
        }
        print("\ndemo finished: \(out) holds the cohort, the prepared dataset, the student checkpoint and plots/ (SVG);")
        print("try: leader recommend --checkpoint \(checkpoint) --patient PATIENT.json (format: docs/student.md)")
    }

    private func trainStudent(_ job: StudentJob) throws {
        let r = try job.run(progress: StudentProgressBar(epochs: job.config.epochs, threshold: job.config.threshold).event)
        print(String(format: "wrote %@: %d epochs (best %d, validation PRAUC %.4f), best-Jaccard threshold %.2f, %.1f s",
                     job.out, r.epochs, r.bestEpoch, r.bestValidationPRAUC, r.bestValidationJaccardThreshold, r.seconds))
        for p in r.plots { print("wrote \(p)") }
    }

    private func evaluate(_ job: EvaluateJob) throws {
        let r = try job.run()
        printReports(r.reports)
        for p in r.plots { print("wrote \(p)") }
    }

    /// Steps 6-8: teacher fine-tune, feature export for the training split, distilled student, evaluation.
    private func runTeacher(ldata: String, plots: String, threads: Int, ddi: String?, studentConfig: StudentConfig) throws {
        let model: String
        do { model = try TeacherSetup.resolveModel(self.model) } catch {
            print("\n(--teacher skipped: \(error.message))")
            return
        }
        // bf16 where the CPU has AMX tiles (faster, and closer to fp32), else int8
        let precision: QuantPrecision = QuantPrecision.bf16Path == "amx" ? .bf16 : .int8
        let teacherOut = out + "/teacher.safetensors", features = out + "/teacher-features.safetensors"
        section("6. Teacher: LoRA fine-tune of \(URL(fileURLWithPath: model).lastPathComponent) (top 2 layers, 1 epoch)")
        var cfg = TeacherTrainConfig()
        cfg.epochs = 1
        cfg.learningRate = 1e-3
        cfg.maxTokens = 256
        cfg.lora = LoRAConfig(rank: 8, alpha: 32, dropout: 0.1, topLayers: 2)
        let t = try TeacherTrainJob(data: ldata, model: model, out: teacherOut, config: cfg, threads: threads,
                                    precision: precision).run { ev in
            if ev.stage == "step" && (ev.done % 10 == 0 || ev.done == ev.total) {
                FileHandle.standardError.write(Data(String(format: "step %d/%d loss %.4f\n", ev.done, ev.total,
                                                           ev.values["loss"] ?? 0).utf8))
            }
            return true
        }
        print(String(format: "wrote %@: %d steps, loss %.4f -> %.4f, %.0f tok/s", teacherOut, t.steps, t.firstLoss ?? .nan,
                     t.lastLoss, t.tokensPerSecond))
        try TeacherEval.parse(["--data", ldata, "--model", model, "--threads", "\(threads)", "--precision",
                               precision.rawValue, "--teacher", teacherOut, "--split", "test", "--threshold", "0.3"]).run()
        section("7. Teacher features of the training samples (final hidden state at the last prompt token)")
        let e = try TeacherExportJob(data: ldata, model: model, teacher: teacherOut, out: features, threads: threads,
                                     precision: precision).run()
        print("wrote \(features): \(e.samples) samples × \(e.hiddenSize) hidden")
        section("8. Student distilled from the teacher (BCE + α·MSE on the projected hidden state)")
        let distilled = out + "/student-distilled.safetensors"
        try trainStudent(StudentJob(data: ldata, out: distilled, config: studentConfig, teacherFeatures: features,
                                    threads: threads, statePath: distilled + ".state"))
        try evaluate(EvaluateJob(data: ldata, checkpoint: distilled, ddi: ddi, threads: threads, plot: plots + "/distilled"))
    }

    private func section(_ title: String) { print("\n== \(title)\n") }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }
}

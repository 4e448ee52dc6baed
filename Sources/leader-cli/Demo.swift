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
    @Option(help: "DDI pair file for the evaluation (skipped when absent).")
    var ddi = "../shared/data/medmaps/ddi_atc3_pairs.csv"
    @Flag(help: "Also run the teacher half of LEADER: LoRA fine-tune of the LLM (top 2 layers; frozen products in bf16 on AMX CPUs, else int8), export its features, distil a second student and evaluate it (≈ 15 more minutes on 2 cores).")
    var teacher = false
    @Option(help: "Teacher base model (GGUF file or Hugging Face folder), for --teacher.")
    var model = "models/SmolLM2-135M-Instruct.Q4_1.gguf"

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

        section("2. Synthetic cohort (\(patients) patients, seed \(seed)) in MIMIC-III format")
        let cohortDir = out + "/cohort"
        let summary = try SyntheticCohort.write(SyntheticConfig(patients: patients, seed: seed), to: cohortDir) { _ in true }
        print("wrote \(cohortDir): \(summary.admissions) admissions, \(summary.prescriptionsRows) prescription rows, "
              + String(format: "%.1f %% single-visit patients", summary.singleVisitShare * 100))

        section("3. Preparation with the MIMIC-III loader (LEADER filtering, one sample per patient, 80/10/10 split)")
        var config = PrepareConfig.defaults(for: .mimic3)
        config.seed = seed
        let data = try DataPreparation.prepare(source: .mimic3, input: cohortDir, maps: cohortDir + "/maps",
                                               config: config)
        let ldata = out + "/cohort.ldata"
        try LDataFile.write(data, to: ldata)
        print("wrote \(ldata)")
        print(StatsText.render(DataStatistics(data), report: data.cohort.report))

        section("4. Student LEADER(S): BCE, Adam, early stopping on validation PRAUC (no teacher features here)")
        let checkpoint = out + "/student.safetensors"
        let plots = out + "/plots"
        let train = try StudentTrain.parse([
            "--data", ldata, "--out", checkpoint, "--threads", "\(threads)", "--plot", plots,
            "--config", #"{"epochs": \#(epochs), "patience": 5, "seed": \#(seed)}"#,
        ])
        try train.run()

        section("5. Test patients: the student against the two trivial baselines (same evaluation code)")
        var common = ["--data", ldata, "--threads", "\(threads)"]
        if FileManager.default.fileExists(atPath: ddi) { common += ["--ddi", ddi] }
        for which in [["--checkpoint", checkpoint], ["--baseline", "frequency"], ["--baseline", "copy-previous"]] {
            let eval = try Eval.parse(common + which + ["--plot", plots])
            try eval.run()
        }
        if teacher { try runTeacher(ldata: ldata, plots: plots, threads: threads, evalArgs: common) }
        print("\ndemo finished: \(out) holds the cohort, the prepared dataset, the student checkpoint and plots/ (SVG);")
        print("try: leader recommend --checkpoint \(checkpoint) --patient PATIENT.json (format: docs/student.md)")
    }

    /// Steps 6-8: teacher fine-tune, feature export for the training split, distilled student, evaluation.
    private func runTeacher(ldata: String, plots: String, threads: Int, evalArgs: [String]) throws {
        guard FileManager.default.fileExists(atPath: model) else {
            print("\n(--teacher skipped: no model at \(model); `make model` fetches the default one)")
            return
        }
        // bf16 where the CPU has AMX tiles (faster, and closer to fp32), else int8
        let precision = QuantPrecision.bf16Path == "amx" ? "bf16" : "int8"
        let common = ["--data", ldata, "--model", model, "--threads", "\(threads)", "--precision", precision]
        let teacherOut = out + "/teacher.safetensors", features = out + "/teacher-features.safetensors"
        section("6. Teacher: LoRA fine-tune of \(URL(fileURLWithPath: model).lastPathComponent) (top 2 layers, 1 epoch)")
        try TeacherTrain.parse(common + ["--out", teacherOut, "--top-layers", "2", "--epochs", "1", "--lr", "1e-3"]).run()
        try TeacherEval.parse(common + ["--teacher", teacherOut, "--split", "test", "--threshold", "0.3"]).run()
        section("7. Teacher features of the training samples (final hidden state at the last prompt token)")
        try TeacherExport.parse(common + ["--teacher", teacherOut, "--out", features]).run()
        section("8. Student distilled from the teacher (BCE + α·MSE on the projected hidden state)")
        let distilled = out + "/student-distilled.safetensors"
        try StudentTrain.parse([
            "--data", ldata, "--out", distilled, "--threads", "\(threads)", "--teacher-features", features,
            "--config", #"{"epochs": \#(epochs), "patience": 5, "seed": \#(seed)}"#,
        ]).run()
        try Eval.parse(evalArgs + ["--checkpoint", distilled, "--plot", plots + "/distilled"]).run()
    }

    private func section(_ title: String) { print("\n== \(title)\n") }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }
}

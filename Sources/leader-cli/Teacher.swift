import ArgumentParser
import Foundation
import LeaderCore

struct TeacherCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "teacher",
        abstract: "The LLM teacher: LoRA fine-tuning of a LLaMA-family model with a medication head, evaluation, "
            + "feature export.",
        subcommands: [TeacherTrain.self, TeacherEval.self, TeacherExport.self, TeacherBench.self])
}

/// Options shared by the teacher commands.
struct TeacherCommon: ParsableArguments {
    @Option(help: "Prepared dataset (.ldata, `leader prepare`).") var data: String
    @Option(help: "Base model: a GGUF file or a Hugging Face folder (default: the SmolLM2 teacher, looked for in $LEADER_MODEL, ./models, the project's models/, ~/.cache/leader/models).")
    var model: String?
    @Option(help: "Threads (0 = all cores).") var threads = 0
    @Option(help: "Frozen quantised products: fp32 (exact), int8 (int8 activations × integer dot products, ~2× faster) or bf16 (bf16 operands on AMX tiles where the CPU has them; slow elsewhere).")
    var precision = "fp32"
    @Flag(help: "Leave the profile sentence out of the prompts.") var noProfile = false
    @Flag(help: "Print one JSON object; no progress on stderr.") var json = false

    func loadModel() throws -> LlamaModelFile { try TeacherSetup.loadModel(model) }

    /// The model path used: --model, else the default teacher found by `TeacherSetup.resolveModel`.
    func modelPath() throws -> String { try TeacherSetup.resolveModel(model) }

    /// The dataset, the base model, a trained teacher checkpoint on it, and the prompts of `split`.
    func loadTrained(_ teacher: String, split: String) throws -> TrainedTeacher {
        try TeacherSetup.loadTrained(data: data, model: model, teacher: teacher, split: split, threads: threads,
                                     precision: try cliPrecision(precision), profile: !noProfile)
    }

    func builder(_ d: PreparedDataset) throws -> PromptBuilder { try TeacherSetup.builder(d, profile: !noProfile) }

    func log(_ s: String) { if !json { FileHandle.standardError.write(Data((s + "\n").utf8)) } }
}


func parseSplit(_ s: String) throws -> SplitPart? { try TeacherSetup.split(s) }

struct TeacherTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "LoRA fine-tune the teacher on the training split; writes LoRA + head only (teacher.safetensors).")

    @OptionGroup var common: TeacherCommon
    @Option(help: "Output checkpoint (LoRA adapters + medication head).") var out: String
    @Option(help: "LoRA on the top N layers only; the frozen lower layers run once per sample.") var topLayers: Int?
    @Option(help: "Token budget per prompt (EOS included); older history is dropped first.") var maxTokens = 256
    @Option(help: "Epochs.") var epochs = 1
    @Option(help: "Stop after this many optimiser steps.") var maxSteps: Int?
    @Option(help: "Batch size.") var batchSize = 8
    @Option(help: "Gradient accumulation steps.") var gradAccumulation = 1
    @Option(help: "Learning rate (linear decay to 0).") var lr: Float = 2e-4
    @Option(help: "LoRA rank.") var rank = 8
    @Option(help: "LoRA alpha.") var alpha: Float = 32
    @Option(help: "LoRA dropout.") var loraDropout: Float = 0.1
    @Option(help: "Use at most this many training samples (for quick runs).") var limit: Int?
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "Activation recomputation of the adapted layers: on, off or auto (on above \(RecomputeMode.autoLayers) adapted layers); trades about one extra forward of those layers for their saved activations.")
    var recompute = "auto"

    func run() throws {
        var cfg = TeacherTrainConfig()
        cfg.epochs = epochs
        cfg.maxSteps = maxSteps
        cfg.batchSize = batchSize
        cfg.gradAccumulation = gradAccumulation
        cfg.learningRate = lr
        cfg.maxTokens = maxTokens
        cfg.seed = seed
        cfg.lora = LoRAConfig(rank: rank, alpha: alpha, dropout: loraDropout, topLayers: topLayers)
        cfg.recompute = try RecomputeMode(parsing: recompute)
        let job = TeacherTrainJob(data: common.data, model: common.model, out: out, config: cfg, threads: common.threads,
                                  precision: try cliPrecision(common.precision), profile: !common.noProfile, limit: limit)
        let log = common.log
        let o = try job.run(progress: common.json ? nil : { ev in
            let v = ev.values
            if ev.stage == "step" {
                log(String(format: "step %d/%d  epoch %d  loss %.4f  lr %.2e  |g| %.3f  %.0f tok/s  %.0f s", ev.done, ev.total,
                           Int(v["epoch"] ?? 0), v["loss"] ?? 0, v["learningRate"] ?? 0, v["gradNorm"] ?? 0,
                           v["tokensPerSecond"] ?? 0, v["seconds"] ?? 0))
            }
            return true
        })
        if common.json {
            struct Out: Encodable { var result: TeacherTrainJob.Result; var peakRSSBytes: Int? }
            try printJSON(Out(result: o, peakRSSBytes: peakRSS()))
        } else {
            print(String(format: "wrote %@: %d samples, %d steps (LoRA on layers %@), loss %.4f -> %.4f, %.0f tok/s, "
                         + "prefix cache %.1f s, total %.1f s, peak RSS %d MB",
                         out, o.samples, o.steps, o.adaptedLayers, o.firstLoss ?? .nan, o.lastLoss, o.tokensPerSecond,
                         o.prefixSeconds, o.totalSeconds, (peakRSS() ?? 0) >> 20))
        }
    }
}

struct TeacherEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a teacher checkpoint with the student's metrics (Jaccard, F1, PRAUC, all / single / multi-visit) "
            + "against the frequency baseline.")

    @OptionGroup var common: TeacherCommon
    @Option(help: "Teacher checkpoint from `leader teacher train`.") var teacher: String
    @Option(help: "train, validation, test or all.") var split = "test"
    @Option(help: "Probability thresholds, comma-separated (one forward pass for all).") var threshold = "0.5"
    @Option(help: "Batch size.") var batchSize = 8
    @Option(help: "Use at most this many samples.") var limit: Int?
    @Option(help: "Seed of the random test subsets.") var seed: UInt64 = 42

    func run() throws {
        let thresholds = threshold.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !thresholds.isEmpty, thresholds.allSatisfy({ $0 > 0 && $0 < 1 }) else {
            throw ValidationError("--threshold: values in (0, 1), comma-separated")
        }
        let loaded = try common.loadTrained(teacher, split: split)
        let d = loaded.data, model = loaded.model
        var examples = loaded.examples
        if let limit { examples = Array(examples.prefix(max(0, limit))) }
        let t0 = ContinuousClock.now
        let m = model.medications
        var logits = [Float](repeating: 0, count: examples.count * m)
        try model.predict(examples, batchSize: batchSize, threads: common.threads) { idx, _, l in
            let lv = l.toArray()
            for (r, i) in idx.enumerated() { logits.replaceSubrange((i * m)..<((i + 1) * m), with: lv[(r * m)..<((r + 1) * m)]) }
        }
        // Probabilities, then the same evaluation code as the student and the baselines (Eval/).
        let probabilities = logits.map { 1 / (1 + exp(-$0)) }
        let truths = examples.map { $0.medications.map { Int32($0) } }
        let visits = examples.map(\.visitCount)
        let scored = try ScoredSamples(medications: m, scores: probabilities, truths: truths, visitCounts: visits)
        let frequency = Baseline.frequencies(targets: TeacherData.medications(d, part: .train), medications: m)
        var frequencyScores = [Float]()
        frequencyScores.reserveCapacity(try Checked.product(examples.count, m, "baseline scores"))
        for _ in examples { frequencyScores += frequency }
        let baseline = try ScoredSamples(medications: m, scores: frequencyScores, truths: truths, visitCounts: visits)
        var reports = try thresholds.map { th throws(LeaderError) in
            try EvaluationReport.evaluate(scored, recommender: "teacher", threshold: Float(th), ddi: nil, seed: seed)
        }
        reports.append(try .evaluate(baseline, recommender: "frequency", threshold: 0.3, ddi: nil, seed: seed))
        if common.json {
            struct Out: Encodable { var split: String; var samples: Int; var reports: [EvaluationReport]; var seconds: Double }
            try printJSON(Out(split: split, samples: examples.count, reports: reports, seconds: seconds(since: t0)))
        } else {
            print("\(split) (\(examples.count) samples)\n")
            printReports(reports)
        }
    }
}

struct TeacherExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write teacher-features.safetensors: final hidden state + logits per sample, keyed by sample id "
            + "(docs/teacher-features.md).")

    @OptionGroup var common: TeacherCommon
    @Option(help: "Teacher checkpoint from `leader teacher train`.") var teacher: String
    @Option(help: "Output features file.") var out: String
    @Option(help: "train, validation, test or all.") var split = "train"
    @Option(help: "Batch size.") var batchSize = 8

    func run() throws {
        let job = TeacherExportJob(data: common.data, model: common.model, teacher: teacher, out: out, split: split,
                                   threads: common.threads, precision: try cliPrecision(common.precision),
                                   profile: !common.noProfile, batchSize: batchSize)
        let log = common.log
        let o = try job.run(progress: common.json ? nil : { ev in
            if ev.stage == "score" {
                log(String(format: "export: %d/%d samples, %.0f tok/s", ev.done, ev.total, ev.values["tokensPerSecond"] ?? 0))
            }
            return true
        })
        if common.json { try printJSON(o) } else {
            print("wrote \(out): \(o.samples) samples × \(o.hiddenSize) hidden + \(o.medications) logits")
        }
    }
}

struct Prompts: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the teacher prompts of a prepared dataset as JSON lines "
            + "({id, split, text, tokens, medications, data_fingerprint}); bindings/python/tools/export_hf_teacher.py reads them.")

    @Option(help: "Prepared dataset (.ldata).") var data: String
    @Option(help: "Output .jsonl file.") var out: String
    @Option(help: "Base model: a GGUF file or a Hugging Face folder (default: the SmolLM2 teacher, looked for in $LEADER_MODEL, ./models, the project's models/, ~/.cache/leader/models).")
    var model: String?
    @Option(help: "Token budget per prompt (EOS included).") var maxTokens = 256
    @Option(help: "train, validation, test or all.") var split = "all"
    @Flag(help: "Leave the profile sentence out.") var noProfile = false

    func run() throws {
        let ds = try StudentDataset(path: data)
        let d = ds.data
        let path = try TeacherSetup.resolveModel(model)
        let file = try TeacherSetup.loadModel(path)
        guard let tok = file.tokenizer else { throw LeaderError.incompatible("\(path): no tokenizer") }
        let examples = try TeacherData.examples(d, part: try parseSplit(split), tokenizer: tok,
                                                builder: try TeacherSetup.builder(d, profile: !noProfile),
                                                maxTokens: maxTokens)
        // data_fingerprint: the dataset's (StudentDataset.fingerprint); export_hf_teacher.py stores it in the
        // features file so the student can check the file belongs to its dataset.
        struct Line: Encodable { var id: String; var split: String; var text: String; var tokens: Int; var medications: [String]
            var data_fingerprint: String }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var text = ""
        let keys = d.cohort.medications.keys
        for e in examples {
            // The text given to an HF tokenizer: the prompt; the exporter appends EOS itself.
            let line = Line(id: e.id, split: e.split.name, text: e.text, tokens: e.tokens.count,
                            medications: e.medications.map { keys.indices.contains($0) ? keys[$0] : "?" },
                            data_fingerprint: ds.fingerprint)
            text += String(decoding: try enc.encode(line), as: UTF8.self) + "\n"
        }
        try text.write(toFile: out, atomically: true, encoding: .utf8)
        print("wrote \(out): \(examples.count) prompts")
    }
}

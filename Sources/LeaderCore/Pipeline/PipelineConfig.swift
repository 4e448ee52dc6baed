import FoundationEssentials

/// What `leader pipeline --config pipeline.json` (and the trainer task `pipeline`) runs: the whole LEADER method
/// on one dataset, every artifact in `out` (docs/pipeline.md). Unknown keys are errors at every level.
public struct PipelineConfig: Decodable, Sendable {
    /// The output folder: cohort, teacher, features, students, report, plots and the resume state.
    public var out: String
    /// Where the data comes from: `synthetic` (the built-in cohort), `mimic3`, `mimic4` or `omop` (with `input`,
    /// and `maps` for MIMIC), or an already prepared `.ldata` in `data`.
    public var source = "synthetic"
    public var input: String?
    public var maps: String?
    /// A prepared dataset to use as is (no preparation step).
    public var data: String?
    /// `PrepareConfig` keys over the source's defaults.
    public var prepare: PrepareConfig?
    /// Synthetic patients and the seed of the cohort and its split.
    public var patients = 2000
    public var seed: UInt64 = 1
    /// The teacher, or nil (`"teacher": null`) for a run without one (students without KD and baselines only).
    public var teacher: Teacher? = Teacher()
    /// The student configuration of every student run; the distillation keys (alpha, distillTarget,
    /// distillTemperature) apply to the distilled runs, beta to all.
    public var student = PipelineConfig.defaultStudent
    /// Training seeds of the students (each variant is trained once per seed).
    public var seeds: [UInt64] = [1, 2, 3]
    /// Also train the ablations: distilled without profile alignment (β = 0) and without the profile (prompt off,
    /// β = 0). The plain student is α = 0.
    public var ablations = true
    /// Evaluation: `rounds` random subsets of `fraction` of the test patients; DDI pairs (nil = the shipped
    /// file); the DDI filter row; a code is rare below `rareCodeCount` training samples (nil: 0.5 % of the
    /// training samples, at least 2).
    public var rounds = 10
    public var fraction = 0.8
    public var ddi: String?
    public var ddiFilter = true
    public var rareCodeCount: Int?
    /// γ > 0 adds a student variant trained with the SafeDrug-style DDI penalty (`StudentConfig.ddiWeight`).
    public var ddiPenalty: Float = 0
    /// Systems trained outside leader, by name: `ExternalScores` files holding the validation and test samples
    /// (`bench/peers/` writes them for the PyHealth models); each is a row of the report.
    public var peers: [String: String] = [:]
    public var threads = 0

    /// The teacher half: base model (nil = the default teacher), LoRA fine-tune settings, frozen-product
    /// precision (`auto` = bf16 on AMX CPUs, else int8), the profile sentence in the prompts. A trained teacher
    /// `checkpoint` skips the fine-tune; a teacher-features file `features` (e.g. of a 7B teacher exported by
    /// export_hf_teacher.py) skips both teacher steps.
    public struct Teacher: Decodable, Sendable {
        public var model: String?
        public var config = PipelineConfig.defaultTeacher
        public var precision = "auto"
        public var profile = true
        public var checkpoint: String?
        public var features: String?

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try StrictKeys.container(decoder, ["model", "config", "precision", "profile", "checkpoint", "features"],
                                             "pipeline teacher")
            checkpoint = try c.decodeIfPresent(String.self, forKey: .init("checkpoint"))
            features = try c.decodeIfPresent(String.self, forKey: .init("features"))
            model = try c.decodeIfPresent(String.self, forKey: .init("model"))
            config = try c.decodeIfPresent(TeacherTrainConfig.self, forKey: .init("config")) ?? PipelineConfig.defaultTeacher
            precision = try c.decodeIfPresent(String.self, forKey: .init("precision")) ?? "auto"
            profile = try c.decodeIfPresent(Bool.self, forKey: .init("profile")) ?? true
        }

        /// The precision this CPU runs: for "auto", bf16 on AMX tiles, else int8 (on AVX512-BF16 without AMX,
        /// int8's VNNI products ran the teacher 1.4× faster than VDPBF16PS: docs/benchmarks-teacher.md).
        public func resolvedPrecision() throws(LeaderError) -> QuantPrecision {
            if precision == "auto" { return QuantPrecision.bf16Path == "amx" ? .bf16 : .int8 }
            return try QuantPrecision(parsing: precision)
        }
    }

    /// The best teacher recipe measured here (docs/pipeline.md, "Choosing the defaults"): LoRA on the top 6
    /// layers, 4 epochs at lr 5e-4, prompts of up to 256 tokens. At 128 tokens nearly every synthetic prompt lost
    /// its history and profile; at 256 the teacher beat the plain student on 600 patients (not on 1,000).
    public static var defaultTeacher: TeacherTrainConfig {
        var c = TeacherTrainConfig()
        c.epochs = 4
        c.learningRate = 5e-4
        c.maxTokens = 256
        c.lora = LoRAConfig(rank: 8, alpha: 32, dropout: 0.1, topLayers: 6)
        return c
    }

    /// The student defaults with the distillation that measured best (docs/pipeline.md).
    public static var defaultStudent: StudentConfig {
        var c = StudentConfig()
        c.epochs = 40
        c.patience = 8
        c.distillTarget = .soft
        c.alpha = 0.5
        c.distillTemperature = 1
        return c
    }

    public init(out: String) { self.out = out }

    /// Parses a JSON object (strict at every level; absent keys take this type's defaults: the student and
    /// teacher keys over `defaultStudent` and `defaultTeacher`, the prepare keys over the source's defaults),
    /// then validates.
    public static func parse(json: String) throws(LeaderError) -> PipelineConfig {
        struct Head: Decodable { var source: String? }
        let head = try StrictJSON.decode(Head.self, json, "pipeline config")
        let source = DataSource(rawValue: head.source ?? "") ?? .mimic3
        let c = try StrictJSON.decode(PipelineConfig.self, json, "pipeline config", userInfo: [
            PrepareConfig.baseKey: PrepareConfig.defaults(for: source), StudentConfig.baseKey: defaultStudent,
            TeacherTrainConfig.baseKey: defaultTeacher])
        try c.validate()
        return c
    }

    static let keys = ["out", "source", "input", "maps", "data", "prepare", "patients", "seed", "teacher", "student",
                       "seeds", "ablations", "rounds", "fraction", "ddi", "ddiFilter", "rareCodeCount", "ddiPenalty", "peers",
                       "threads"]

    public init(from decoder: any Decoder) throws {
        let c = try jobContainer(decoder, Self.keys, "pipeline config")
        func opt<T: Decodable>(_ k: String, _ t: T.Type = T.self) throws -> T? { try c.decodeIfPresent(T.self, forKey: .init(k)) }
        out = try c.decode(String.self, forKey: .init("out"))
        source = try opt("source") ?? "synthetic"
        input = try opt("input"); maps = try opt("maps"); data = try opt("data")
        prepare = try opt("prepare")
        patients = try opt("patients") ?? 2000
        seed = try opt("seed") ?? 1
        if c.contains(.init("teacher")) {
            teacher = try c.decodeNil(forKey: .init("teacher")) ? nil : try opt("teacher", Teacher.self)
        }
        student = try opt("student") ?? Self.defaultStudent
        seeds = try opt("seeds") ?? [1, 2, 3]
        ablations = try opt("ablations") ?? true
        rounds = try opt("rounds") ?? 10
        fraction = try opt("fraction") ?? 0.8
        ddi = try opt("ddi")
        ddiFilter = try opt("ddiFilter") ?? true
        rareCodeCount = try opt("rareCodeCount")
        ddiPenalty = try opt("ddiPenalty") ?? 0
        peers = try opt("peers") ?? [:]
        threads = try opt("threads") ?? 0
    }

    /// The checks that need no file.
    public func validate() throws(LeaderError) {
        func need(_ ok: Bool, _ what: String) throws(LeaderError) {
            guard ok else { throw .invalidArgument("pipeline config: \(what)") }
        }
        try need(!out.isEmpty, "\"out\" is empty")
        if data == nil {
            try need(source == "synthetic" || DataSource(rawValue: source) != nil,
                     "source '\(source.prefix(32))' (expected synthetic, mimic3, mimic4 or omop)")
            try need(source == "synthetic" || input != nil, "source \(source) needs \"input\" (the tables' folder)")
            if source == "synthetic" { try SyntheticConfig(patients: patients, seed: seed).validate() }
            try prepare?.validate()
        }
        try need(!seeds.isEmpty && seeds.count <= 100 && Set(seeds).count == seeds.count,
                 "\"seeds\" must hold 1 to 100 distinct seeds")
        try need((1...1000).contains(rounds), "rounds \(rounds) (expected 1...1000)")
        try need(fraction > 0 && fraction <= 1, "fraction \(fraction) (expected (0, 1])")
        try need(ddiPenalty >= 0 && ddiPenalty.isFinite, "ddiPenalty \(ddiPenalty) (expected >= 0)")
        for (name, file) in peers {
            try need(!name.isEmpty && name.count <= 64 && !file.isEmpty, "\"peers\": names of 1 to 64 characters, each with a scores file")
        }
        if let r = rareCodeCount { try need((1...1_000_000).contains(r), "rareCodeCount \(r) (expected >= 1)") }
        try student.validate()
        if let teacher {
            try teacher.config.validate()
            try need(teacher.precision == "auto" || QuantPrecision(rawValue: teacher.precision) != nil,
                     "teacher precision '\(teacher.precision.prefix(16))' (expected auto, fp32, int8 or bf16)")
        }
        _ = try Threads.resolve(threads, "pipeline config: threads")
    }
}

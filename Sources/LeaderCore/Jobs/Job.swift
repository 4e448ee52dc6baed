import FoundationEssentials

/// One progress event of a running job (the C ABI hands it to the host's callback as JSON).
public struct JobEvent: Encodable, Sendable {
    /// The job's task ("prepare", "student", ...).
    public var task: String
    /// What is running: "read", "synthesise", "step", "epoch", "score", "write", ...
    public var stage: String
    public var done: Int
    public var total: Int
    /// Figures of the stage (loss, validation PRAUC, tokens per second, ...).
    public var values: [String: Double]

    public init(task: String, stage: String, done: Int, total: Int, values: [String: Double] = [:]) {
        self.task = task; self.stage = stage; self.done = done; self.total = total; self.values = values
    }
}

/// A progress handler: called on the job's thread; returns false to cancel (the job then throws `.cancelled`
/// before it writes anything).
public typealias JobProgress = (JobEvent) -> Bool

/// Reports `event` to `progress`, throwing `.cancelled` when the handler asks to stop.
func report(_ progress: JobProgress?, _ event: JobEvent) throws(LeaderError) {
    guard let progress else { return }
    guard progress(event) else { throw .cancelled("\(event.task): cancelled by the progress callback at \(event.stage)") }
}

/// A job of `leader_trainer` (and of the CLI commands that do the same): preparation, student training,
/// evaluation, teacher fine-tune and feature export, the whole pipeline, each a `Decodable` description that rejects unknown
/// keys and a `run(progress:)` that returns an `Encodable` result. Outputs are written atomically at the end,
/// so a failed or cancelled job leaves no partial file (docs/trainer.md).
public enum Job: Sendable {
    case prepare(PrepareJob)
    case student(StudentJob)
    case evaluate(EvaluateJob)
    case teacherTrain(TeacherTrainJob)
    case teacherExport(TeacherExportJob)
    case pipeline(PipelineJob)

    public static let tasks = ["prepare", "student", "evaluate", "teacher-train", "teacher-export", "pipeline"]

    /// The job of a JSON object `{"task": ..., ...}`.
    public static func parse(json: String) throws(LeaderError) -> Job {
        struct Head: Decodable { var task: String?; var source: String? }
        let head = try StrictJSON.decode(Head.self, json, "trainer config")
        guard let task = head.task else {
            throw .invalidArgument("trainer config: missing \"task\" (one of \(tasks.joined(separator: ", ")))")
        }
        switch task {
        case "prepare":
            let source = DataSource(rawValue: head.source ?? "") ?? .mimic3
            let job = try StrictJSON.decode(PrepareJob.self, json, "prepare job",
                                            userInfo: [PrepareConfig.baseKey: PrepareConfig.defaults(for: source)])
            try job.validate()
            return .prepare(job)
        case "student":
            let job = try StrictJSON.decode(StudentJob.self, json, "student job")
            try job.validate()
            return .student(job)
        case "evaluate":
            let job = try StrictJSON.decode(EvaluateJob.self, json, "evaluate job")
            try job.validate()
            return .evaluate(job)
        case "teacher-train":
            let job = try StrictJSON.decode(TeacherTrainJob.self, json, "teacher-train job")
            try job.config.validate()
            _ = try Threads.resolve(job.threads, "teacher-train job: threads")
            return .teacherTrain(job)
        case "teacher-export":
            let job = try StrictJSON.decode(TeacherExportJob.self, json, "teacher-export job")
            _ = try TeacherSetup.split(job.split)
            _ = try Threads.resolve(job.threads, "teacher-export job: threads")
            guard job.batchSize >= 1 else { throw .invalidArgument("teacher-export job: batchSize \(job.batchSize) < 1") }
            return .teacherExport(job)
        case "pipeline":
            return .pipeline(PipelineJob(config: try PipelineConfig.parse(json: json)))
        default:
            throw .invalidArgument("trainer config: unknown task '\(task.prefix(32))' (one of \(tasks.joined(separator: ", ")))")
        }
    }

    /// Runs the job; its result as a JSON object.
    public func run(progress: JobProgress? = nil) throws(LeaderError) -> String {
        switch self {
        case .prepare(let j): return try Self.json(try j.run(progress: progress))
        case .student(let j): return try Self.json(try j.run(progress: progress))
        case .evaluate(let j): return try Self.json(try j.run(progress: progress))
        case .teacherTrain(let j): return try Self.json(try j.run(progress: progress))
        case .teacherExport(let j): return try Self.json(try j.run(progress: progress))
        case .pipeline(let j): return try Self.json(try j.run(progress: progress))
        }
    }

    static func json<T: Encodable>(_ v: T) throws(LeaderError) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return String(decoding: try e.encode(v), as: UTF8.self) } catch {
            throw .internalError("job result: cannot encode (\(error))")
        }
    }
}

/// The keys a job object may hold: its own and "task".
func jobContainer(_ decoder: any Decoder, _ keys: [String], _ what: String) throws -> KeyedDecodingContainer<StrictKey> {
    try StrictKeys.container(decoder, keys + ["task"], what)
}

/// Seconds since `start`.
public func seconds(since start: ContinuousClock.Instant) -> Double { (ContinuousClock.now - start) / .seconds(1) }

/// Writes `svg` as `folder/name` (the folder created when missing); returns its path.
func writePlot(_ folder: String, _ name: String, _ svg: String) throws(LeaderError) -> String {
    try SyntheticCohort.makeDirectories(folder)
    let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
    try FileWriting.write(Array(svg.utf8), to: path)
    return path
}

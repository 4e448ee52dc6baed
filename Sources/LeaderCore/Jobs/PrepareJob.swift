import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// `{"task": "prepare"}`: load MIMIC-III, MIMIC-IV or OMOP tables (or synthesise the built-in cohort and load
/// it through the MIMIC-III loader) and write a prepared dataset (`.ldata`, atomic).
public struct PrepareJob: Decodable, Sendable {
    /// mimic3, mimic4, omop or synthetic.
    public var source: String
    /// The source tables' folder (synthetic: where to write the cohort's CSVs; default: a temporary folder
    /// beside `out`, removed afterwards), or for OMOP a `postgresql://` URI.
    public var input: String?
    /// PostgreSQL input: the schema of the clinical tables (default `public`) and of the vocabulary (default: `schema`).
    public var schema: String?
    public var vocabularySchema: String?
    /// Medication maps folder (MIMIC; synthetic: the cohort's own maps).
    public var maps: String?
    public var out: String
    /// `PrepareConfig` keys over the source's defaults.
    public var config: PrepareConfig
    /// Synthetic patients and seed.
    public var patients = 2000
    public var seed: UInt64 = 1

    public init(source: String, input: String?, maps: String?, out: String, config: PrepareConfig,
                patients: Int = 2000, seed: UInt64 = 1) {
        self.source = source; self.input = input; self.maps = maps; self.out = out; self.config = config
        self.patients = patients; self.seed = seed
    }

    public init(from decoder: any Decoder) throws {
        let c = try jobContainer(decoder, ["source", "input", "maps", "out", "config", "patients", "seed", "schema",
                                           "vocabularySchema"], "prepare job")
        source = try c.decode(String.self, forKey: .init("source"))
        input = try c.decodeIfPresent(String.self, forKey: .init("input"))
        maps = try c.decodeIfPresent(String.self, forKey: .init("maps"))
        schema = try c.decodeIfPresent(String.self, forKey: .init("schema"))
        vocabularySchema = try c.decodeIfPresent(String.self, forKey: .init("vocabularySchema"))
        out = try c.decode(String.self, forKey: .init("out"))
        let base = (decoder.userInfo[PrepareConfig.baseKey] as? PrepareConfig) ?? PrepareConfig()
        config = try c.decodeIfPresent(PrepareConfig.self, forKey: .init("config")) ?? base
        patients = try c.decodeIfPresent(Int.self, forKey: .init("patients")) ?? 2000
        seed = try c.decodeIfPresent(UInt64.self, forKey: .init("seed")) ?? 1
    }

    public struct Result: Encodable, Sendable {
        public var output: String
        public var seconds: Double
        public var statistics: DataStatistics
        public var report: PreparationReport
        /// The synthetic cohort's summary (source synthetic only).
        public var synthetic: SyntheticSummary?
    }

    /// The checks that need no file: source, config, synthetic size.
    public func validate() throws(LeaderError) {
        guard source == "synthetic" || DataSource(rawValue: source) != nil else {
            throw .invalidArgument("prepare job: source '\(source.prefix(32))' (expected mimic3, mimic4, omop or synthetic)")
        }
        try config.validate()
        if source == "synthetic" { try SyntheticConfig(patients: patients, seed: seed).validate() }
    }

    public func run(progress: JobProgress? = nil) throws(LeaderError) -> Result {
        try validate()
        let start = ContinuousClock.now
        var input = self.input, maps = self.maps, loader: DataSource
        var synthetic: SyntheticSummary?
        var scratch: String?
        defer { if let scratch { removeTree(scratch) } }
        if source == "synthetic" {
            let folder = input ?? "\(out).cohort.tmp.\(getpid())"
            if input == nil { scratch = folder }
            try report(progress, JobEvent(task: "prepare", stage: "synthesise", done: 0, total: patients))
            var cancelled = false
            do {
                synthetic = try SyntheticCohort.write(SyntheticConfig(patients: patients, seed: seed), to: folder) { done in
                    cancelled = (try? report(progress, JobEvent(task: "prepare", stage: "synthesise", done: done,
                                                                total: patients))) == nil
                    return !cancelled
                }
            } catch {
                if cancelled { throw .cancelled("prepare: cancelled by the progress callback at synthesise") }
                throw error
            }
            input = folder
            maps = maps ?? folder + "/maps"
            loader = .mimic3
        } else {
            guard let s = DataSource(rawValue: source) else {
                throw .invalidArgument("prepare job: source '\(source.prefix(32))' (expected mimic3, mimic4, omop or synthetic)")
            }
            loader = s
        }
        guard let input else { throw .invalidArgument("prepare job: \"input\" (the source tables' folder) is missing") }
        var cancelled = false
        let data = try DataPreparation.prepare(source: loader, input: input, maps: maps, config: config, schema: schema,
                                               vocabularySchema: vocabularySchema) { stage in
            // the loaders report stages by name; a cancel request is honoured when the loading returns
            if !cancelled, (try? report(progress, JobEvent(task: "prepare", stage: stage, done: 0, total: 0))) == nil {
                cancelled = true
            }
        }
        if cancelled { throw .cancelled("prepare: cancelled by the progress callback") }
        try report(progress, JobEvent(task: "prepare", stage: "write", done: 0, total: 1))
        try LDataFile.write(data, to: out)
        return Result(output: out, seconds: seconds(since: start), statistics: DataStatistics(data),
                      report: data.cohort.report, synthetic: synthetic)
    }
}

/// `rm -rf path` for a folder this process made (best effort: a scratch folder).
func removeTree(_ path: String) {
    guard let dir = opendir(path) else { unlink(path); return }
    var entries: [String] = []
    while let e = readdir(dir) {
        let name = withUnsafePointer(to: e.pointee.d_name) { p in
            p.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name != "." && name != ".." { entries.append(name) }
    }
    closedir(dir)
    for name in entries {
        let child = path + "/" + name
        var st = stat()
        if lstat(child, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR { removeTree(child) } else { unlink(child) }
    }
    rmdir(path)
}

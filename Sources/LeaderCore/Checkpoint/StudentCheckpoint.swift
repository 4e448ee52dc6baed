import FoundationEssentials

/// The codes of one vocabulary with their titles (index = model id).
public struct CodeList: Codable, Equatable, Sendable {
    public var keys: [String]
    public var titles: [String]
    public init(keys: [String], titles: [String]) { self.keys = keys; self.titles = titles }
    public init(_ v: Vocabulary) { keys = v.keys; titles = v.titles }
    public var count: Int { keys.count }
    /// key → id (first occurrence).
    public func index() -> [String: Int32] {
        var d: [String: Int32] = [:]
        for (i, k) in keys.enumerated() where d[k] == nil { d[k] = Int32(i) }
        return d
    }
}

public struct CheckpointVocabularies: Codable, Equatable, Sendable {
    public var medications: CodeList
    public var diagnoses: CodeList
    public var procedures: CodeList
    public init(medications: CodeList, diagnoses: CodeList, procedures: CodeList) {
        self.medications = medications; self.diagnoses = diagnoses; self.procedures = procedures
    }
}

extension StudentDataset {
    /// The vocabularies a checkpoint trained on this dataset carries.
    public var vocabularies: CheckpointVocabularies {
        CheckpointVocabularies(medications: CodeList(data.cohort.medications), diagnoses: CodeList(data.cohort.diagnoses),
                               procedures: CodeList(data.cohort.procedures))
    }
}

public struct CheckpointThresholds: Codable, Equatable, Sendable {
    /// The configured threshold (default 0.3).
    public var configured: Float
    /// The threshold maximising validation Jaccard, when known.
    public var bestValidationJaccard: Float?
    public init(configured: Float, bestValidationJaccard: Float? = nil) {
        self.configured = configured; self.bestValidationJaccard = bestValidationJaccard
    }
}

/// Where a checkpoint came from: never patient data.
public struct CheckpointProvenance: Codable, Equatable, Sendable {
    public var libraryVersion: String
    /// CRC-32 of the prepared-dataset file plus its counts, e.g. "crc32:1a2b3c4d/patients:5000/samples:5000".
    public var dataFingerprint: String
    public var source: String
    public var epochs: Int
    public var bestEpoch: Int
    public var bestValidationPRAUC: Double
    public init(libraryVersion: String = "\(LeaderVersion.string)", dataFingerprint: String, source: String,
                epochs: Int, bestEpoch: Int, bestValidationPRAUC: Double) {
        self.libraryVersion = libraryVersion; self.dataFingerprint = dataFingerprint; self.source = source
        self.epochs = epochs; self.bestEpoch = bestEpoch; self.bestValidationPRAUC = bestValidationPRAUC
    }
}

/// A student checkpoint (docs/checkpoint-format.md): safetensors, F32 tensors named like the parameters,
/// `__metadata__` = format "leader", format_version "1", kind "student", config, vocabularies, profile,
/// thresholds, provenance (each a JSON string).
public struct StudentCheckpoint: Sendable {
    public static let format = "leader"
    public static let formatVersion = "1"
    public static let kind = "student"

    public var config: StudentConfig
    public var vocabularies: CheckpointVocabularies
    public var profile: ProfileSchema
    public var thresholds: CheckpointThresholds
    public var provenance: CheckpointProvenance
    /// name → (shape, values), in the model's registration order.
    public var tensors: [(name: String, shape: [Int], values: [Float])]

    public var sizes: StudentVocabularySizes {
        StudentVocabularySizes(medications: vocabularies.medications.count, diagnoses: vocabularies.diagnoses.count,
                               procedures: vocabularies.procedures.count,
                               profileCardinalities: profile.fields.map(\.values.count))
    }

    public init(model: StudentModel, vocabularies: CheckpointVocabularies, profile: ProfileSchema,
                thresholds: CheckpointThresholds, provenance: CheckpointProvenance) throws(LeaderError) {
        guard model.sizes == StudentVocabularySizes(
            medications: vocabularies.medications.count, diagnoses: vocabularies.diagnoses.count,
            procedures: vocabularies.procedures.count, profileCardinalities: profile.fields.map(\.values.count))
        else { throw .invalidArgument("checkpoint: vocabularies do not match the model's sizes") }
        config = model.config
        self.vocabularies = vocabularies
        self.profile = profile
        self.thresholds = thresholds
        self.provenance = provenance
        tensors = model.store.parameters.map { ($0.name, $0.shape, model.store.value($0).toArray()) }
    }

    /// A model with these weights.
    public func makeModel(threads: Int = 1) throws(LeaderError) -> StudentModel {
        let m = try StudentModel(config: config, sizes: sizes, threads: threads)
        for t in tensors { try m.store.load(t.name, values: t.values, shape: t.shape) }
        return m
    }

    static func json<T: Encodable>(_ v: T) throws(LeaderError) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        do { return String(decoding: try e.encode(v), as: UTF8.self) } catch {
            throw .internalError("checkpoint: cannot encode metadata")
        }
    }

    public func metadata() throws(LeaderError) -> [String: String] {
        ["format": Self.format, "format_version": Self.formatVersion, "kind": Self.kind,
         "config": try config.json(), "vocabularies": try Self.json(vocabularies), "profile": try Self.json(profile),
         "thresholds": try Self.json(thresholds), "provenance": try Self.json(provenance)]
    }

    /// Atomic write (temp file, fsync, rename).
    public func write(to path: String) throws(LeaderError) {
        let st = tensors.map { SafetensorsTensor(name: $0.name, shape: $0.shape, floats: $0.values) }
        try SafetensorsWriter.write(st, metadata: try metadata(), to: path)
    }

    /// Reads and validates a checkpoint: `.badFile` for anything malformed or missing, `.incompatible` for
    /// another format version or kind, or a tensor dtype other than F32.
    public static func read(_ path: String) throws(LeaderError) -> StudentCheckpoint {
        let f = try SafetensorsFile(path: path)
        let meta = f.metadata
        func field(_ k: String) throws(LeaderError) -> String {
            guard let v = meta[k] else { throw .badFile("\(path): metadata key '\(k)' is missing") }
            return v
        }
        guard try field("format") == format else { throw .badFile("\(path): metadata format is not '\(format)'") }
        let version = try field("format_version")
        guard version == formatVersion else {
            throw .incompatible("\(path): checkpoint format_version '\(version.prefix(16))' (this library reads '\(formatVersion)')")
        }
        let kind = try field("kind")
        guard kind == Self.kind else { throw .incompatible("\(path): checkpoint kind '\(kind.prefix(32))', expected 'student'") }
        func decode<T: Decodable>(_ k: String, _ t: T.Type) throws(LeaderError) -> T {
            let s = try field(k)
            do { return try JSONDecoder().decode(T.self, from: Data(s.utf8)) } catch {
                throw .badFile("\(path): metadata '\(k)': \(StudentConfig.describe(error))")
            }
        }
        let config: StudentConfig
        do { config = try StudentConfig.decode(json: try field("config")) } catch {
            throw .badFile("\(path): metadata 'config': \(error.message)")
        }
        let vocab = try decode("vocabularies", CheckpointVocabularies.self)
        for (n, l) in [("medications", vocab.medications), ("diagnoses", vocab.diagnoses), ("procedures", vocab.procedures)] {
            guard l.keys.count == l.titles.count else {
                throw .badFile("\(path): vocabulary '\(n)' has \(l.keys.count) keys and \(l.titles.count) titles")
            }
        }
        let profile = try decode("profile", ProfileSchema.self)
        let thresholds = try decode("thresholds", CheckpointThresholds.self)
        let provenance = try decode("provenance", CheckpointProvenance.self)
        var ck = StudentCheckpoint(config: config, vocabularies: vocab, profile: profile, thresholds: thresholds,
                                   provenance: provenance, tensors: [])
        // The expected tensors come from the shape table of config + vocabularies (validates both); the
        // file must hold every one of them before anything is allocated.
        let table: [(name: String, shape: [Int])]
        let expectedCount: Int
        do {
            table = try StudentParameters.shapes(config: config, sizes: ck.sizes)
            expectedCount = try StudentParameters.count(config: config, sizes: ck.sizes)
        } catch {
            throw .badFile("\(path): metadata does not describe a valid student (\(error.message))")
        }
        let stored = f.tensors.reduce(0) { $0 + $1.offsets.count }
        guard expectedCount <= stored / 4 else {
            throw .badFile("\(path): config and vocabularies need \(expectedCount) parameters, the file holds \(stored / 4)")
        }
        let expected = Set(table.map(\.name))
        if let extra = f.tensorNames.first(where: { !expected.contains($0) }) {
            throw .badFile("\(path): unexpected tensor '\(extra.prefix(128))'")
        }
        for (name, shape) in table {
            guard let info = f.info(name) else { throw .badFile("\(path): tensor '\(name)' is missing") }
            guard info.dtype == .f32 else {
                throw .incompatible("\(path): tensor '\(name)' has dtype \(info.dtype.rawValue), expected F32")
            }
            guard info.shape == shape else {
                throw .badFile("\(path): tensor '\(name)' has shape \(info.shape), expected \(shape)")
            }
            let count = shape.reduce(1, *)   // bounded: the table's sizes were checked above
            let bytes = try f.bytes(name)
            guard bytes.count == count * 4 else { throw .badFile("\(path): tensor '\(name)' has a wrong byte count") }
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { dst in bytes.withUnsafeBytes { src in dst.copyMemory(from: src) } }
            #if _endian(big)
            values = values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
            #endif
            guard values.allSatisfy(\.isFinite) else { throw .badFile("\(path): tensor '\(name)' has non-finite values") }
            ck.tensors.append((name, shape, values))
        }
        return ck
    }

    init(config: StudentConfig, vocabularies: CheckpointVocabularies, profile: ProfileSchema,
         thresholds: CheckpointThresholds, provenance: CheckpointProvenance,
         tensors: [(name: String, shape: [Int], values: [Float])]) {
        self.config = config; self.vocabularies = vocabularies; self.profile = profile
        self.thresholds = thresholds; self.provenance = provenance; self.tensors = tensors
    }
}

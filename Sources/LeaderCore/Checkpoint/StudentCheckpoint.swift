import FoundationEssentials

/// The three vocabularies of a checkpoint. A checkpoint stores each as its keys and titles,
/// `{"keys": [...], "titles": [...]}` (ids are positions; coding systems are not stored), and two checkpoint
/// vocabularies are equal when their keys and titles are.
public struct CheckpointVocabularies: Encodable, Equatable, Sendable {
    public var medications: Vocabulary
    public var diagnoses: Vocabulary
    public var procedures: Vocabulary
    public init(medications: Vocabulary, diagnoses: Vocabulary, procedures: Vocabulary) {
        self.medications = medications; self.diagnoses = diagnoses; self.procedures = procedures
    }

    /// One vocabulary as a checkpoint stores it.
    struct Stored: Codable {
        var keys: [String], titles: [String]
    }

    private struct StoredAll: Decodable {
        var medications: Stored, diagnoses: Stored, procedures: Stored
    }

    /// Reads the checkpoint form; errors name `path` and the vocabulary.
    static func read(_ json: String, path: String) throws(LeaderError) -> CheckpointVocabularies {
        let all: StoredAll
        do { all = try JSONDecoder().decode(StoredAll.self, from: Data(json.utf8)) } catch {
            throw .badFile("\(path): metadata 'vocabularies': \(StrictJSON.describe(error))")
        }
        func vocabulary(_ s: Stored, _ kind: CodeKind, _ name: String) throws(LeaderError) -> Vocabulary {
            guard s.keys.count == s.titles.count else {
                throw .badFile("\(path): vocabulary '\(name)' has \(s.keys.count) keys and \(s.titles.count) titles")
            }
            do { return try Vocabulary(kind: kind, keys: s.keys, titles: s.titles) } catch {
                throw .badFile("\(path): \(error.message)")
            }
        }
        return CheckpointVocabularies(medications: try vocabulary(all.medications, .medication, "medications"),
                                      diagnoses: try vocabulary(all.diagnoses, .diagnosis, "diagnoses"),
                                      procedures: try vocabulary(all.procedures, .procedure, "procedures"))
    }

    enum CodingKeys: String, CodingKey { case medications, diagnoses, procedures }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Stored(keys: medications.keys, titles: medications.titles), forKey: .medications)
        try c.encode(Stored(keys: diagnoses.keys, titles: diagnoses.titles), forKey: .diagnoses)
        try c.encode(Stored(keys: procedures.keys, titles: procedures.titles), forKey: .procedures)
    }

    public static func == (a: CheckpointVocabularies, b: CheckpointVocabularies) -> Bool {
        func same(_ x: Vocabulary, _ y: Vocabulary) -> Bool { x.keys == y.keys && x.titles == y.titles }
        return same(a.medications, b.medications) && same(a.diagnoses, b.diagnoses) && same(a.procedures, b.procedures)
    }
}

extension StudentDataset {
    /// The vocabularies a checkpoint trained on this dataset carries.
    public var vocabularies: CheckpointVocabularies {
        CheckpointVocabularies(medications: data.cohort.medications, diagnoses: data.cohort.diagnoses,
                               procedures: data.cohort.procedures)
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
                throw .badFile("\(path): metadata '\(k)': \(StrictJSON.describe(error))")
            }
        }
        let config: StudentConfig
        do { config = try StudentConfig.decode(json: try field("config")) } catch {
            throw .badFile("\(path): metadata 'config': \(error.message)")
        }
        let vocab = try CheckpointVocabularies.read(try field("vocabularies"), path: path)
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

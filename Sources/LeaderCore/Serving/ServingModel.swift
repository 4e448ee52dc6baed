import FoundationEssentials

/// A student checkpoint ready to serve: the weights packed once (`PackedStudent`, for fp32 and bf16, straight from
/// the checkpoint's validated tensors: no training model, no random init), the vocabularies with their
/// indexes, the profile encoders, thresholds and provenance. Immutable after `init`, so any number of threads
/// share it; each thread serves through its own `ServingSession`. This is `leader_model` of the C ABI.
public final class ServingModel: Sendable {
    /// The checkpoint's metadata (its `tensors` are empty: the weights live packed in `packed`).
    public let checkpoint: StudentCheckpoint
    public let packed: PackedStudent
    /// Code → id per kind (`CodeKindIndex`: diagnosis, procedure, medication).
    let indexes: [[String: Int32]]
    /// Profile field name → its position in the checkpoint's profile.
    let fieldIndex: [String: Int]
    /// `infoJSON()`, made once.
    public let info: String

    public var config: StudentConfig { checkpoint.config }
    public var sizes: StudentVocabularySizes { packed.sizes }
    public var profile: ProfileSchema { checkpoint.profile }

    /// Reads and validates `path` (`StudentCheckpoint.read`) and packs it.
    public convenience init(path: String) throws(LeaderError) {
        try self.init(checkpoint: try StudentCheckpoint.read(path))
    }

    public init(checkpoint full: StudentCheckpoint) throws(LeaderError) {
        packed = try PackedStudent(checkpoint: full, precisions: [.fp32, .bf16])
        var meta = full
        meta.tensors = []
        checkpoint = meta
        let v = full.vocabularies
        indexes = [v.diagnoses.ids, v.procedures.ids, v.medications.ids]
        var fields: [String: Int] = [:]
        for (i, f) in full.profile.fields.enumerated() where fields[f.name] == nil { fields[f.name] = i }
        fieldIndex = fields
        info = try Self.infoJSON(meta)
    }

    /// The vocabulary of `kind` (0 diagnosis, 1 procedure, 2 medication, as `LEADER_KIND_*`), nil otherwise.
    public func vocabulary(_ kind: Int) -> Vocabulary? {
        switch kind {
        case 0: return checkpoint.vocabularies.diagnoses
        case 1: return checkpoint.vocabularies.procedures
        case 2: return checkpoint.vocabularies.medications
        default: return nil
        }
    }

    /// The id of `code` in vocabulary `kind`, nil when unknown (or a bad kind).
    public func id(of code: String, kind: Int) -> Int32? {
        guard (0..<3).contains(kind) else { return nil }
        return indexes[kind][code]
    }

    /// The JSON of `leader_model_info_json`: config, vocabularies with titles, profile, thresholds, metrics
    /// recorded at training, provenance.
    private static func infoJSON(_ ck: StudentCheckpoint) throws(LeaderError) -> String {
        struct Metrics: Encodable {
            var epochs: Int, bestEpoch: Int, bestValidationPRAUC: Double, bestValidationJaccardThreshold: Float?
        }
        struct Info: Encodable {
            var format: String, formatVersion: String, kind: String
            var config: StudentConfig, vocabularies: CheckpointVocabularies, profile: ProfileSchema
            var thresholds: CheckpointThresholds, metrics: Metrics, provenance: CheckpointProvenance
        }
        let p = ck.provenance
        return try StudentCheckpoint.json(Info(
            format: StudentCheckpoint.format, formatVersion: StudentCheckpoint.formatVersion, kind: StudentCheckpoint.kind,
            config: ck.config, vocabularies: ck.vocabularies, profile: ck.profile, thresholds: ck.thresholds,
            metrics: Metrics(epochs: p.epochs, bestEpoch: p.bestEpoch, bestValidationPRAUC: p.bestValidationPRAUC,
                             bestValidationJaccardThreshold: ck.thresholds.bestValidationJaccard),
            provenance: p))
    }
}

extension PackedStudent {
    /// Straight from a checkpoint's tensors (validated against `StudentParameters` when it was read), packed
    /// for each of `precisions` (the first is the passes' default).
    public convenience init(checkpoint: StudentCheckpoint, precisions: [StudentPrecision]) throws(LeaderError) {
        var index: [String: Int] = [:]
        for (i, t) in checkpoint.tensors.enumerated() { index[t.name] = i }
        try self.init(config: checkpoint.config, sizes: checkpoint.sizes, precisions: precisions) {
            (name) throws(LeaderError) -> Tensor? in
            guard let i = index[name] else { return nil }
            let t = checkpoint.tensors[i]
            return try Tensor(shape: t.shape, values: t.values)   // transient: packed below, then released
        }
    }
}

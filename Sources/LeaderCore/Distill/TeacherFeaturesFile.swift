import FoundationEssentials

/// `teacher-features.safetensors` (docs/teacher-features.md): `hidden` (N, H) and `logits` (N, M) F32, row i
/// belonging to sample `sample_ids[i]` (metadata, JSON array). `write` is used by `leader teacher export` (and
/// mirrored by `bindings/python/tools/export_hf_teacher.py`); `init(path:)` reads a file as untrusted input
/// for the student's offline distillation.
public struct TeacherFeaturesFile: Sendable {
    public static let format = "leader-teacher-features"
    public static let formatVersion = "1"
    /// The tensors of a version-1 file; any other tensor is an error.
    static let tensorNames: Set<String> = ["hidden", "logits"]

    public let path: String
    /// Row i of `hidden` / `logits` belongs to sample `sampleIDs[i]` (`<patient id>:<target visit id>`).
    public let sampleIDs: [String]
    public let hiddenSize: Int
    /// (N, hiddenSize), row-major.
    public let hidden: [Float]
    /// Column j of `logits` is medication `medications[j]`.
    public let medications: [String]
    /// (N, medications.count), row-major; all zeros when the exporter had no medication head.
    public let logits: [Float]
    /// `__metadata__` as stored.
    public let metadata: [String: String]
    private let rowOfID: [String: Int]

    public var count: Int { sampleIDs.count }
    /// The prepared dataset the prompts came from (`StudentDataset.fingerprint`); nil when the writer stored none.
    public var dataFingerprint: String? { metadata["data_fingerprint"].flatMap { $0.isEmpty ? nil : $0 } }
    /// Row of sample `id`, if present.
    public func row(of id: String) -> Int? { rowOfID[id] }

    // MARK: writing

    /// Writes a features file atomically. `dataFingerprint` identifies the prepared dataset the samples come
    /// from (`StudentDataset.fingerprint`), so the student can refuse features of another dataset.
    public static func write(ids: [String], hidden: [Float], hiddenSize: Int, logits: [Float], medications: [String],
                             dataFingerprint: String, metadata extra: [String: String], to path: String) throws(LeaderError) {
        let n = ids.count
        guard hiddenSize > 0, hidden.count == (try Checked.product(n, hiddenSize, "features")),
              logits.count == (try Checked.product(n, medications.count, "features")) else {
            throw .invalidArgument("teacher features: sizes do not match \(n) samples")
        }
        guard Set(ids).count == n else { throw .invalidArgument("teacher features: duplicate sample ids") }
        var meta = extra
        meta["format"] = format
        meta["format_version"] = formatVersion
        meta["sample_ids"] = try TeacherCheckpoint.json(ids)
        meta["medications"] = try TeacherCheckpoint.json(medications)
        meta["hidden_size"] = String(hiddenSize)
        meta["data_fingerprint"] = dataFingerprint
        try SafetensorsWriter.write([SafetensorsTensor(name: "hidden", shape: [n, hiddenSize], floats: hidden),
                                     SafetensorsTensor(name: "logits", shape: [n, medications.count], floats: logits)],
                                    metadata: meta, to: path)
    }

    // MARK: reading

    /// Reads and validates a features file as untrusted input: the safetensors layout (`SafetensorsFile`),
    /// `format` / `format_version`, exactly the tensors `hidden` F32 (N, H ≥ 1) and `logits` F32 (N, M), `hidden_size`
    /// = H, `sample_ids` a JSON array of N distinct non-empty strings, `medications` a JSON array of M strings,
    /// and every value finite. Failures are `.badFile` (or `.incompatible` for another version) naming the file
    /// and the field.
    public init(path: String) throws(LeaderError) {
        let f = try SafetensorsFile(path: path)
        let m = f.metadata
        guard m["format"] == Self.format else {
            throw .badFile("\(path): metadata 'format' is '\(m["format"] ?? "(missing)")', expected '\(Self.format)' "
                + "(not a teacher-features file)")
        }
        guard m["format_version"] == Self.formatVersion else {
            throw .incompatible("\(path): metadata 'format_version' is '\(m["format_version"] ?? "(missing)")'; "
                + "this library reads version \(Self.formatVersion)")
        }
        for name in f.tensorNames where !Self.tensorNames.contains(name) {
            throw .badFile("\(path): unexpected tensor '\(name)' (a version-1 file holds 'hidden' and 'logits')")
        }
        func matrix(_ name: String) throws(LeaderError) -> (rows: Int, cols: Int, values: [Float]) {
            guard let info = f.info(name) else { throw .badFile("\(path): tensor '\(name)' is missing") }
            guard info.dtype == .f32 else {
                throw .badFile("\(path): tensor '\(name)' has dtype \(info.dtype.rawValue), expected F32")
            }
            guard info.shape.count == 2 else {
                throw .badFile("\(path): tensor '\(name)' has shape \(info.shape), expected 2 dimensions (samples, width)")
            }
            let count = try Checked.product(info.shape[0], info.shape[1], "\(path): tensor '\(name)'")
            // SafetensorsFile checked that the span matches dtype × shape and lies inside the file; copy the
            // mapped bytes straight into the array (no intermediate byte copy: 7B-teacher files are large).
            guard info.offsets.count == (try Checked.product(count, 4, "\(path): tensor '\(name)'")) else {
                throw .badFile("\(path): tensor '\(name)' has \(info.offsets.count) bytes for \(count) F32 values")
            }
            let start = try Checked.sum(f.dataOffset, info.offsets.lowerBound, "\(path): tensor '\(name)'")
            let end = try Checked.sum(f.dataOffset, info.offsets.upperBound, "\(path): tensor '\(name)'")
            guard end <= f.file.count else { throw .badFile("\(path): tensor '\(name)' extends past the end of the file") }
            var v = [Float](repeating: 0, count: count)
            v.withUnsafeMutableBytes { d in
                f.file.withUnsafeBytes(in: start..<end) { src in if src.count > 0 { d.copyMemory(from: src) } }
            }
            #if _endian(big)
            for i in v.indices { v[i] = Float(bitPattern: UInt32(littleEndian: v[i].bitPattern)) }
            #endif
            return (info.shape[0], info.shape[1], v)
        }
        let h = try matrix("hidden"), l = try matrix("logits")
        guard h.rows > 0 else { throw .badFile("\(path): tensor 'hidden' has no rows (no samples)") }
        guard h.cols > 0 else { throw .badFile("\(path): tensor 'hidden' has shape [\(h.rows), 0]: width 0") }
        guard l.rows == h.rows else {
            throw .badFile("\(path): tensor 'logits' has \(l.rows) rows but 'hidden' has \(h.rows)")
        }
        guard let hs = m["hidden_size"], let hsv = Int(hs) else {
            throw .badFile("\(path): metadata 'hidden_size' is missing or not an integer")
        }
        guard hsv == h.cols else {
            throw .badFile("\(path): metadata 'hidden_size' is \(hsv) but tensor 'hidden' has width \(h.cols)")
        }
        let ids = try Self.strings(m, "sample_ids", path)
        guard ids.count == h.rows else {
            throw .badFile("\(path): metadata 'sample_ids' has \(ids.count) entries for \(h.rows) rows")
        }
        var rowOf: [String: Int] = [:]
        rowOf.reserveCapacity(ids.count)
        for (i, id) in ids.enumerated() {
            guard !id.isEmpty else { throw .badFile("\(path): metadata 'sample_ids' entry \(i) is empty") }
            if let first = rowOf.updateValue(i, forKey: id) {
                throw .badFile("\(path): metadata 'sample_ids' has '\(id)' twice (rows \(first) and \(i))")
            }
        }
        let meds = try Self.strings(m, "medications", path)
        guard meds.count == l.cols else {
            throw .badFile("\(path): metadata 'medications' has \(meds.count) entries but tensor 'logits' has \(l.cols) columns")
        }
        for (name, t) in [("hidden", h), ("logits", l)] {
            if let bad = t.values.firstIndex(where: { !$0.isFinite }) {
                let r = bad / max(t.cols, 1)
                throw .badFile("\(path): tensor '\(name)' row \(r) (sample '\(ids[r])') holds a non-finite value "
                    + "(\(t.values[bad]))")
            }
        }
        self.path = path
        sampleIDs = ids
        hiddenSize = h.cols
        hidden = h.values
        medications = meds
        logits = l.values
        metadata = m
        rowOfID = rowOf
    }

    private static func strings(_ m: [String: String], _ key: String, _ path: String) throws(LeaderError) -> [String] {
        guard let s = m[key] else { throw .badFile("\(path): metadata '\(key)' is missing") }
        do { return try JSONDecoder().decode([String].self, from: Data(s.utf8)) } catch {
            throw .badFile("\(path): metadata '\(key)' is not a JSON array of strings")
        }
    }

    // MARK: joining

    /// Checks that the file was exported from the dataset with fingerprint `fingerprint`. Returns false when
    /// the file records none (then only the sample ids tie it to the dataset); `.incompatible` on a mismatch.
    public func checkDataFingerprint(_ fingerprint: String, dataName: String) throws(LeaderError) -> Bool {
        guard let mine = dataFingerprint else { return false }
        guard mine == fingerprint else {
            throw .incompatible("\(path): exported from the dataset '\(mine)', but \(dataName) is '\(fingerprint)' "
                + "(re-export the teacher features for this dataset)")
        }
        return true
    }

    /// One row per id of `ids` (in that order) of the chosen tensor: the distillation targets of the training
    /// examples. Every id must be in the file (`.incompatible` with the count and the first few missing ids);
    /// rows of other samples are ignored and counted in `extra`.
    public func features(for ids: [String], target: StudentDistillTarget) throws(LeaderError) -> TeacherFeatureJoin {
        let (dim, source): (Int, [Float])
        switch target {
        case .hidden: (dim, source) = (hiddenSize, hidden)
        case .logits, .soft:
            guard !medications.isEmpty else {
                throw .incompatible("\(path): distillTarget '\(target.rawValue)' but the file has no logits columns")
            }
            guard logits.contains(where: { $0 != 0 }) else {
                throw .incompatible("\(path): distillTarget '\(target.rawValue)' but the logits are all zeros "
                    + "(exported without a medication head)")
            }
            (dim, source) = (medications.count, logits)
        }
        var missing: [String] = []
        var used = Set<Int>()
        var out = [Float]()
        out.reserveCapacity(try Checked.product(ids.count, dim, "\(path): teacher features"))
        for id in ids {
            guard let r = rowOfID[id] else { missing.append(id); continue }
            used.insert(r)
            out += source[(r * dim)..<((r + 1) * dim)]
        }
        guard missing.isEmpty else {
            let first = missing.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
            throw .incompatible("\(path): no teacher features for \(missing.count) of \(ids.count) training samples "
                + "(first: \(first)\(missing.count > 5 ? ", …" : "")); export the training split of this dataset")
        }
        return TeacherFeatureJoin(features: try TeacherFeatures(dim: dim, values: out, rows: ids.count),
                                  matched: ids.count, extra: count - used.count)
    }
}

/// The teacher rows of a dataset's training examples, and how the file's samples matched them.
public struct TeacherFeatureJoin: Sendable {
    public let features: TeacherFeatures
    /// Training examples that found their row (all of them: missing ones are an error).
    public let matched: Int
    /// Rows of the file that belong to no training example (e.g. an `all` export); ignored.
    public let extra: Int
}

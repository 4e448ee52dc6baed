import CLeaderIO

/// The bridge from a prepared dataset (`.ldata`) to the student: examples per split, vocabularies for the
/// checkpoint, and a fingerprint that identifies the data without containing any of it.
public struct StudentDataset: Sendable {
    public let data: PreparedDataset
    public let fingerprint: String

    public init(path: String) throws(LeaderError) {
        let bytes = try FileBytes.read(path)
        let crc = bytes.withUnsafeBufferPointer { lio_crc32(0, $0.baseAddress, $0.count) }
        data = try LDataFile.decode(bytes, name: path)
        fingerprint = Self.fingerprint(crc: UInt32(truncatingIfNeeded: crc), data)
    }

    public init(data: PreparedDataset, fingerprint: String) {
        self.data = data
        self.fingerprint = fingerprint
    }

    static func fingerprint(crc: UInt32, _ d: PreparedDataset) -> String {
        let hex = String(crc, radix: 16)
        return "crc32:\(String(repeating: "0", count: 8 - hex.count))\(hex)/patients:\(d.cohort.patients.count)"
            + "/samples:\(d.samples.count)"
    }

    public var sizes: StudentVocabularySizes {
        StudentVocabularySizes(medications: data.cohort.medications.count, diagnoses: data.cohort.diagnoses.count,
                               procedures: data.cohort.procedures.count,
                               profileCardinalities: data.cohort.profile.fields.map(\.values.count))
    }

    /// Medication keys (ATC3) in vocabulary order: the columns of the student's and the teacher's logits.
    public var medicationKeys: [String] { data.cohort.medications.keys }

    /// Indices (into `data.samples`) of the samples of one split part, in the order `examples` returns them.
    public func sampleIndices(_ part: SplitPart) -> [Int] {
        data.samples.indices.filter { i in
            let p = Int(data.samples[i].patient)
            return p >= 0 && p < data.split.count && data.split[p] == part
        }
    }

    /// Source ids `<patient id>:<target visit id>` of the samples of one split part, in the order `examples`
    /// returns them: the keys of a teacher-features file (the same ids `leader prompts` writes).
    public func sampleIDs(_ part: SplitPart) throws(LeaderError) -> [String] {
        try sampleIndices(part).map { i throws(LeaderError) in try data.sampleID(data.samples[i]) }
    }

    /// Examples of one split part (samples in file order).
    public func examples(_ part: SplitPart, maxVisits: Int) throws(LeaderError) -> [StudentExample] {
        var out: [StudentExample] = []
        for s in data.samples {
            let p = Int(s.patient)
            guard p >= 0, p < data.split.count else { throw .badFile("dataset: sample patient out of range") }
            if data.split[p] == part { out.append(try StudentExample(data, s, maxVisits: maxVisits)) }
        }
        return out
    }
}

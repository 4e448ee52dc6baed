import FoundationEssentials

/// One patient for `leader recommend`: earlier visits (codes as strings), the current visit's diagnoses and
/// procedures, and the profile as field → value. Unknown keys are rejected; unknown codes are reported.
public struct PatientRecord: Codable, Sendable {
    public struct PastVisit: Codable, Sendable {
        public var diagnoses: [String] = []
        public var procedures: [String] = []
        public var medications: [String] = []
        public init(diagnoses: [String], procedures: [String], medications: [String]) {
            self.diagnoses = diagnoses; self.procedures = procedures; self.medications = medications
        }
        public init(from decoder: any Decoder) throws {
            let c = try StrictKeys.container(decoder, ["diagnoses", "procedures", "medications"], "visit")
            diagnoses = try c.decodeIfPresent([String].self, forKey: .init("diagnoses")) ?? []
            procedures = try c.decodeIfPresent([String].self, forKey: .init("procedures")) ?? []
            medications = try c.decodeIfPresent([String].self, forKey: .init("medications")) ?? []
        }
    }
    public struct CurrentVisit: Codable, Sendable {
        public var diagnoses: [String] = []
        public var procedures: [String] = []
        public init(diagnoses: [String], procedures: [String]) { self.diagnoses = diagnoses; self.procedures = procedures }
        public init(from decoder: any Decoder) throws {
            let c = try StrictKeys.container(decoder, ["diagnoses", "procedures"], "current")
            diagnoses = try c.decodeIfPresent([String].self, forKey: .init("diagnoses")) ?? []
            procedures = try c.decodeIfPresent([String].self, forKey: .init("procedures")) ?? []
        }
    }
    public var visits: [PastVisit] = []
    public var current: CurrentVisit
    public var profile: [String: String] = [:]

    public init(visits: [PastVisit], current: CurrentVisit, profile: [String: String]) {
        self.visits = visits; self.current = current; self.profile = profile
    }

    public init(from decoder: any Decoder) throws {
        let c = try StrictKeys.container(decoder, ["visits", "current", "profile"], "patient")
        visits = try c.decodeIfPresent([PastVisit].self, forKey: .init("visits")) ?? []
        current = try c.decode(CurrentVisit.self, forKey: .init("current"))
        profile = try c.decodeIfPresent([String: String].self, forKey: .init("profile")) ?? [:]
    }

    public static func decode(json: String) throws(LeaderError) -> PatientRecord {
        do { return try JSONDecoder().decode(PatientRecord.self, from: Data(json.utf8)) } catch let e as LeaderError {
            throw e
        } catch {
            throw .invalidArgument("patient record: \(StudentConfig.describe(error)) (expected {\"visits\": [{\"diagnoses\", "
                + "\"procedures\", \"medications\"}], \"current\": {\"diagnoses\", \"procedures\"}, \"profile\": {field: value}})")
        }
    }
}

public struct Recommendation: Codable, Sendable {
    public struct Item: Codable, Sendable {
        public var code: String
        public var title: String
        public var score: Float
    }
    /// Medications with score ≥ threshold, best first.
    public var recommended: [Item]
    /// The next best ones below the threshold (up to `extra`).
    public var others: [Item]
    public var threshold: Float
    /// Codes not in the checkpoint's vocabularies, as "kind:code" (ignored for the prediction).
    public var unknownCodes: [String]
    /// Profile fields or values the checkpoint does not know (encoded as "unknown").
    public var unknownProfile: [String]
}

/// Serves one checkpoint: code strings in, scored medications with titles out.
public final class StudentRecommender {
    public let checkpoint: StudentCheckpoint
    public let model: StudentModel
    let session: StudentSession
    let med: [String: Int32], diag: [String: Int32], proc: [String: Int32]

    /// `precision`: the serving engine's arithmetic (fp32 default, or bf16; `StudentInference`).
    public init(checkpoint: StudentCheckpoint, threads: Int = 1, precision: QuantPrecision = .fp32) throws(LeaderError) {
        self.checkpoint = checkpoint
        model = try checkpoint.makeModel(threads: threads)
        session = try StudentInference(model, precision: precision).makeSession()
        med = checkpoint.vocabularies.medications.index()
        diag = checkpoint.vocabularies.diagnoses.index()
        proc = checkpoint.vocabularies.procedures.index()
    }

    public func recommend(_ r: PatientRecord, threshold: Float? = nil, extra: Int = 5) throws(LeaderError) -> Recommendation {
        var unknown: [String] = []
        func ids(_ codes: [String], _ map: [String: Int32], _ kind: String) -> [Int32] {
            var out: [Int32] = []
            for c in codes { if let i = map[c] { out.append(i) } else { unknown.append("\(kind):\(c)") } }
            return Array(Set(out)).sorted()
        }
        let maxV = checkpoint.config.maxVisits
        let past = r.visits.suffix(maxV - 1)
        var d = past.map { ids($0.diagnoses, diag, "diagnosis") }
        var p = past.map { ids($0.procedures, proc, "procedure") }
        let m = past.map { ids($0.medications, med, "medication") }
        d.append(ids(r.current.diagnoses, diag, "diagnosis"))
        p.append(ids(r.current.procedures, proc, "procedure"))
        var unknownProfile: [String] = []
        let known = Set(checkpoint.profile.fields.map(\.name))
        for k in r.profile.keys.sorted() where !known.contains(k) { unknownProfile.append(k) }
        let prof = checkpoint.profile.fields.map { f -> Int32 in
            guard let v = r.profile[f.name] else { return 0 }
            let l = f.encode(v)
            if l == 0 && !v.isEmpty && v != ProfileSchema.unknown { unknownProfile.append("\(f.name)=\(v)") }
            return l
        }
        let ex = StudentExample(diagnoses: d, procedures: p, medications: Array(m), profile: prof)
        var scores = [Float](repeating: 0, count: model.sizes.medications)
        try scores.withUnsafeMutableBufferPointer { (out) throws(LeaderError) in
            guard let o = out.baseAddress else { return }
            try session.predict([ex][...], into: o)
        }
        let th = threshold ?? checkpoint.thresholds.configured
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        let v = checkpoint.vocabularies.medications
        let items = order.map { Recommendation.Item(code: v.keys[$0], title: v.titles[$0], score: scores[$0]) }
        let rec = items.filter { $0.score >= th }
        return Recommendation(recommended: rec, others: Array(items.dropFirst(rec.count).prefix(extra)), threshold: th,
                              unknownCodes: unknown, unknownProfile: unknownProfile)
    }
}

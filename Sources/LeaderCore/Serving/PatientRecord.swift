import FoundationEssentials

/// One patient as JSON (`leader recommend --patient`): earlier visits (codes as strings), the current visit's
/// diagnoses and procedures, and the profile as field → value. Unknown keys are rejected; unknown codes are
/// reported. `codes` turns it into the serving input.
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

    /// The serving input: the earlier visits, then the current one (no medications).
    public var codes: PatientCodes {
        PatientCodes(diagnoses: visits.map(\.diagnoses) + [current.diagnoses],
                     procedures: visits.map(\.procedures) + [current.procedures],
                     medications: visits.map(\.medications) + [[]],
                     profile: profile.keys.sorted().map { ($0, profile[$0] ?? "") })
    }

    public static func decode(json: String) throws(LeaderError) -> PatientRecord {
        do { return try JSONDecoder().decode(PatientRecord.self, from: Data(json.utf8)) } catch let e as LeaderError {
            throw e
        } catch {
            throw .invalidArgument("patient record: \(StrictJSON.describe(error)) (expected {\"visits\": [{\"diagnoses\", "
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

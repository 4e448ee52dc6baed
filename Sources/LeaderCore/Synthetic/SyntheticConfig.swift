/// Settings of the synthetic cohort. The defaults are the documented cohort (`docs/synthetic-cohort.md`);
/// decoding rejects unknown keys.
public struct SyntheticConfig: Codable, Sendable, Equatable {
    /// Number of patients (1...10_000_000).
    public var patients: Int
    /// Seed of the generator: the same seed and settings give byte-identical files.
    public var seed: UInt64
    /// Probability that a patient has exactly one admission.
    public var singleVisitShare: Double = 0.35
    /// Per admission, probability of one extra drug class unrelated to the diagnoses.
    public var noiseRate: Double = 0.3
    /// Per admission, probability that a drug called for by a rule is left out (on top of the rule's own rate).
    public var omissionRate: Double = 0.05
    /// Largest number of admissions of one patient.
    public var maxVisits: Int = 15

    public init(patients: Int, seed: UInt64) {
        self.patients = patients
        self.seed = seed
    }

    /// Throws `.invalidArgument` naming the first bad field.
    public func validate() throws(LeaderError) {
        guard patients >= 1, patients <= 10_000_000 else {
            throw .invalidArgument("synthetic cohort: patients must be in 1...10000000 (got \(patients))")
        }
        for (name, v) in [("singleVisitShare", singleVisitShare), ("noiseRate", noiseRate),
                          ("omissionRate", omissionRate)] where !(v >= 0 && v <= 1) {
            throw .invalidArgument("synthetic cohort: \(name) must be in 0...1 (got \(v))")
        }
        guard maxVisits >= 2, maxVisits <= 100 else {
            throw .invalidArgument("synthetic cohort: maxVisits must be in 2...100 (got \(maxVisits))")
        }
    }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case patients, seed, singleVisitShare, noiseRate, omissionRate, maxVisits
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self, "synthetic cohort config")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        patients = try c.decode(Int.self, forKey: .patients)
        seed = try c.decode(UInt64.self, forKey: .seed)
        singleVisitShare = try c.decodeIfPresent(Double.self, forKey: .singleVisitShare) ?? 0.35
        noiseRate = try c.decodeIfPresent(Double.self, forKey: .noiseRate) ?? 0.3
        omissionRate = try c.decodeIfPresent(Double.self, forKey: .omissionRate) ?? 0.05
        maxVisits = try c.decodeIfPresent(Int.self, forKey: .maxVisits) ?? 15
    }
}

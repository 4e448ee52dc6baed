import FoundationEssentials

/// Settings of `leader prepare` (JSON; unknown keys are rejected). Defaults follow LEADER except where
/// `docs/data.md` says why not.
public struct PrepareConfig: Codable, Equatable, Sendable {
    /// Keep the K most frequent medications (ATC3), counted as LEADER does: de-duplicated prescription rows.
    public var topMedications: Int? = 300
    /// Keep the K most frequent diagnoses, counted over distinct (visit, code) rows.
    public var topDiagnoses: Int? = 2000
    /// Keep the K most frequent procedures; nil keeps all (MIMIC-IV default: 1000, see `defaults(for:)`).
    public var topProcedures: Int? = nil
    /// A visit needs diagnoses, procedures and medications (LEADER's inner join); false keeps visits with any.
    public var requireAllCodeSets: Bool = true
    /// Patients need at least this many kept visits (1 keeps single-visit patients, LEADER's point).
    public var minVisits: Int = 1
    /// Up to this many most recent earlier visits form a sample's history.
    public var maxHistory: Int = 10
    /// One sample per visit (every visit a target) instead of one per patient (the last visit).
    public var samplePerVisit: Bool = false
    /// "shuffle" (seeded, default) or "sequential" (LEADER: patients in id order, sliced).
    public var split: String = "shuffle"
    public var seed: UInt64 = 42
    /// Train and validation fractions; test gets the rest.
    public var trainFraction: Double = 0.8
    public var validationFraction: Double = 0.1
    /// Add gender and age bucket to the profile (LEADER has neither).
    public var profileGender: Bool = true
    public var profileAge: Bool = true
    /// Profile of a sample: "target" (the target visit's admission values, age at that visit) or "first"
    /// (LEADER: the patient's first visit).
    public var profileVisit: String = "target"
    /// OMOP: where visits come from. "table": the rows of visit_occurrence (events pointing at other visit ids
    /// are dropped and counted); "referenced": every visit id the clinical tables reference (person from those
    /// rows, start = the visit row's start or else the earliest date of its rows, visit type from the visit row
    /// where one exists); "auto" (default): "referenced" when at least `referencedShare` of the clinical rows
    /// point at visit ids the table lacks, else "table" — the report says which and why.
    public var visitSource: String = "auto"
    /// The share of clinical rows pointing at missing visits above which "auto" takes "referenced".
    public static let referencedShare = 0.05
    /// OMOP: drug concepts of these vocabularies are not prescriptions (CVX: immunisations) — their drug_exposure
    /// rows are dropped and counted.
    public var excludedDrugVocabularies: [String] = ["CVX"]
    /// A prepared cohort with fewer patients is an error that says what was dropped and why (default 1: only an
    /// empty cohort; a cohort that kept less than half of its input gets a note either way).
    public var minPatients: Int = 1

    public init() {}

    /// Defaults for a source: MIMIC-IV keeps the 1000 most frequent procedures.
    public static func defaults(for source: DataSource) -> PrepareConfig {
        var c = PrepareConfig()
        if source == .mimic4 { c.topProcedures = 1000 }
        return c
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case topMedications, topDiagnoses, topProcedures, requireAllCodeSets, minVisits, maxHistory, samplePerVisit
        case split, seed, trainFraction, validationFraction, profileGender, profileAge, profileVisit, visitSource
        case minPatients, excludedDrugVocabularies
    }

    /// Decodes over `base`: absent keys keep base values; unknown keys are an error.
    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self, "config")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var d = (decoder.userInfo[PrepareConfig.baseKey] as? PrepareConfig) ?? PrepareConfig()
        if c.contains(.topMedications) { d.topMedications = try c.decodeIfPresent(Int.self, forKey: .topMedications) }
        if c.contains(.topDiagnoses) { d.topDiagnoses = try c.decodeIfPresent(Int.self, forKey: .topDiagnoses) }
        if c.contains(.topProcedures) { d.topProcedures = try c.decodeIfPresent(Int.self, forKey: .topProcedures) }
        d.requireAllCodeSets = try c.decodeIfPresent(Bool.self, forKey: .requireAllCodeSets) ?? d.requireAllCodeSets
        d.minVisits = try c.decodeIfPresent(Int.self, forKey: .minVisits) ?? d.minVisits
        d.maxHistory = try c.decodeIfPresent(Int.self, forKey: .maxHistory) ?? d.maxHistory
        d.samplePerVisit = try c.decodeIfPresent(Bool.self, forKey: .samplePerVisit) ?? d.samplePerVisit
        d.split = try c.decodeIfPresent(String.self, forKey: .split) ?? d.split
        d.seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        d.trainFraction = try c.decodeIfPresent(Double.self, forKey: .trainFraction) ?? d.trainFraction
        d.validationFraction = try c.decodeIfPresent(Double.self, forKey: .validationFraction) ?? d.validationFraction
        d.profileGender = try c.decodeIfPresent(Bool.self, forKey: .profileGender) ?? d.profileGender
        d.profileAge = try c.decodeIfPresent(Bool.self, forKey: .profileAge) ?? d.profileAge
        d.profileVisit = try c.decodeIfPresent(String.self, forKey: .profileVisit) ?? d.profileVisit
        d.visitSource = try c.decodeIfPresent(String.self, forKey: .visitSource) ?? d.visitSource
        d.minPatients = try c.decodeIfPresent(Int.self, forKey: .minPatients) ?? d.minPatients
        d.excludedDrugVocabularies = try c.decodeIfPresent([String].self, forKey: .excludedDrugVocabularies)
            ?? d.excludedDrugVocabularies
        self = d
        try validate()
    }

    static let baseKey: CodingUserInfoKey = {
        guard let k = CodingUserInfoKey(rawValue: "leader.prepareConfig.base") else { preconditionFailure("key") }
        return k
    }()

    /// Parses a JSON config over `base` (absent keys keep base values; unknown keys and bad values are errors).
    public static func parse(json: String, base: PrepareConfig) throws(LeaderError) -> PrepareConfig {
        let dec = JSONDecoder()
        dec.userInfo[baseKey] = base
        do {
            return try dec.decode(PrepareConfig.self, from: Data(json.utf8))
        } catch let e as LeaderError {
            throw e
        } catch let e as DecodingError {
            throw .invalidArgument("config: \(LDataFile.describe(e))")
        } catch {
            throw .invalidArgument("config: not valid JSON")
        }
    }

    /// Encodes every key; `null` top-K limits mean "all".
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        for (k, v) in [(CodingKeys.topMedications, topMedications), (.topDiagnoses, topDiagnoses),
                       (.topProcedures, topProcedures)] {
            if let v { try c.encode(v, forKey: k) } else { try c.encodeNil(forKey: k) }
        }
        try c.encode(requireAllCodeSets, forKey: .requireAllCodeSets)
        try c.encode(minVisits, forKey: .minVisits)
        try c.encode(maxHistory, forKey: .maxHistory)
        try c.encode(samplePerVisit, forKey: .samplePerVisit)
        try c.encode(split, forKey: .split)
        try c.encode(seed, forKey: .seed)
        try c.encode(trainFraction, forKey: .trainFraction)
        try c.encode(validationFraction, forKey: .validationFraction)
        try c.encode(profileGender, forKey: .profileGender)
        try c.encode(profileAge, forKey: .profileAge)
        try c.encode(profileVisit, forKey: .profileVisit)
        try c.encode(visitSource, forKey: .visitSource)
        try c.encode(minPatients, forKey: .minPatients)
        try c.encode(excludedDrugVocabularies, forKey: .excludedDrugVocabularies)
    }

    /// Checks ranges and enumerations.
    public func validate() throws(LeaderError) {
        for (name, v) in [("topMedications", topMedications), ("topDiagnoses", topDiagnoses),
                          ("topProcedures", topProcedures)] {
            if let v, v < 1 { throw .invalidArgument("config: \(name) must be at least 1 or null (all), got \(v)") }
        }
        guard minPatients >= 1 else {
            throw .invalidArgument("config: minPatients must be at least 1, got \(minPatients)")
        }
        guard minVisits >= 1 else { throw .invalidArgument("config: minVisits must be at least 1, got \(minVisits)") }
        guard maxHistory >= 0 else { throw .invalidArgument("config: maxHistory must be >= 0, got \(maxHistory)") }
        guard split == "shuffle" || split == "sequential" else {
            throw .invalidArgument("config: split must be \"shuffle\" or \"sequential\", got \"\(split)\"")
        }
        guard profileVisit == "target" || profileVisit == "first" else {
            throw .invalidArgument("config: profileVisit must be \"target\" or \"first\", got \"\(profileVisit)\"")
        }
        guard ["auto", "table", "referenced"].contains(visitSource) else {
            throw .invalidArgument("config: visitSource must be \"auto\", \"table\" or \"referenced\", got \"\(visitSource)\"")
        }
        guard trainFraction >= 0, validationFraction >= 0, trainFraction + validationFraction <= 1 else {
            throw .invalidArgument("config: trainFraction and validationFraction must be >= 0 with a sum <= 1")
        }
    }
}

/// The EHR sources `prepare` reads.
public enum DataSource: String, Codable, CaseIterable, Sendable {
    case mimic3, mimic4, omop
}

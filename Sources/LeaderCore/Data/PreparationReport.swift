/// What `prepare` did: rows read, rows dropped by reason, medication mapping coverage, codes kept by top-K.
/// Holds counts only, never patient values.
public struct PreparationReport: Codable, Equatable, Sendable {
    /// Data rows read per table (header excluded), keyed by table name.
    public var rowsRead: [String: Int] = [:]
    /// Rows or visits dropped, keyed by "table: reason".
    public var dropped: [String: Int] = [:]
    /// Medication rows by mapping route: MIMIC "ndc" (NDC → ATC3), "name" (drug name → ATC), "unmapped";
    /// OMOP "atc" (ATC through the vocabulary), "ingredient" (RxNorm ingredient), "drug_concept" (kept as is).
    public var medicationRows: [String: Int] = [:]
    /// Distinct codes seen per kind before top-K, and kept after filtering.
    public var codesSeen: [String: Int] = [:]
    public var codesKept: [String: Int] = [:]
    /// Codes of the final vocabularies without a title in the description tables, per kind.
    public var codesWithoutTitle: [String: Int] = [:]
    /// Visits and patients before and after filtering.
    public var visitsLoaded: Int = 0
    public var visitsKept: Int = 0
    public var patientsLoaded: Int = 0
    public var patientsKept: Int = 0
    /// What a reader of the report must see first: a choice made for the input (e.g. OMOP visits taken from
    /// the clinical tables) and why. Counts and setting names only.
    public var notes: [String] = []

    public init() {}

    enum CodingKeys: String, CodingKey {
        case rowsRead, dropped, medicationRows, codesSeen, codesKept, codesWithoutTitle, visitsLoaded, visitsKept
        case patientsLoaded, patientsKept, notes
    }

    /// Files written before `notes` existed have none.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rowsRead = try c.decode([String: Int].self, forKey: .rowsRead)
        dropped = try c.decode([String: Int].self, forKey: .dropped)
        medicationRows = try c.decode([String: Int].self, forKey: .medicationRows)
        codesSeen = try c.decode([String: Int].self, forKey: .codesSeen)
        codesKept = try c.decode([String: Int].self, forKey: .codesKept)
        codesWithoutTitle = try c.decode([String: Int].self, forKey: .codesWithoutTitle)
        visitsLoaded = try c.decode(Int.self, forKey: .visitsLoaded)
        visitsKept = try c.decode(Int.self, forKey: .visitsKept)
        patientsLoaded = try c.decode(Int.self, forKey: .patientsLoaded)
        patientsKept = try c.decode(Int.self, forKey: .patientsKept)
        notes = try c.decodeIfPresent([String].self, forKey: .notes) ?? []
    }

    mutating func drop(_ reason: String, _ n: Int = 1) {
        guard n > 0 else { return }
        dropped[reason, default: 0] += n
    }

    /// A share (0…1) as the report's notes write it: "30.4 %".
    static func percent(_ share: Double) -> String { String(format: "%.1f %%", share * 100) }

    /// Share of medication rows mapped to a medication code (0…1), 0 when none were read.
    public var medicationCoverage: Double {
        let total = medicationRows.values.reduce(0, +)
        return total == 0 ? 0 : Double(total - medicationRows["unmapped", default: 0]) / Double(total)
    }
}

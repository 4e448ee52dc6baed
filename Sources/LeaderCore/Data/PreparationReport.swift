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

    public init() {}

    mutating func drop(_ reason: String, _ n: Int = 1) {
        guard n > 0 else { return }
        dropped[reason, default: 0] += n
    }

    /// Share of medication rows mapped to a medication code (0…1), 0 when none were read.
    public var medicationCoverage: Double {
        let total = medicationRows.values.reduce(0, +)
        return total == 0 ? 0 : Double(total - medicationRows["unmapped", default: 0]) / Double(total)
    }
}

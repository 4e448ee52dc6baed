/// No silent shrinking: when preparation drops most of a table's rows, or keeps less than half of the loaded visits
/// or patients, the report opens with a note naming the biggest cause and the setting that changes it; a cohort
/// below `PrepareConfig.minPatients` is an error with the same explanation (counts and setting names only).
enum ShrinkCheck {
    /// Below this share of rows, visits or patients kept, the report says so first.
    static let keptShare = 0.5

    static func apply(_ cohort: inout Cohort, config: PrepareConfig) throws(LeaderError) {
        cohort.report.notes += rowNotes(cohort.report)
        let r = cohort.report
        let visits = share(r.visitsKept, r.visitsLoaded), patients = share(r.patientsKept, r.patientsLoaded)
        let small = r.patientsKept < config.minPatients
        guard visits < keptShare || patients < keptShare || small else { return }
        let what = "\(r.visitsKept) of \(r.visitsLoaded) visits (\(PreparationReport.percent(visits))) and \(r.patientsKept) of "
            + "\(r.patientsLoaded) patients (\(PreparationReport.percent(patients))) kept"
        let text = "\(what); \(cause(r, config))"
        if small {
            throw .invalidArgument("\(cohort.source): the cohort has \(r.patientsKept) patients, fewer than minPatients "
                + "\(config.minPatients): \(text)")
        }
        cohort.report.notes.append("most of the input was dropped: \(text)")
    }

    /// The biggest visit- or patient-level drop, the row-level drop behind it where one is, and the setting.
    static func cause(_ r: PreparationReport, _ config: PrepareConfig) -> String {
        let visitLevel = r.dropped.filter { $0.key.hasPrefix("visits: no ") || $0.key.hasPrefix("patients: fewer") }
        guard let top = visitLevel.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }) else {
            return "see the report's dropped counts"
        }
        let biggest = "the biggest cause: '\(top.key)' (\(top.value))"
        if top.key.hasPrefix("patients: fewer") {
            return "\(biggest); lower \"minVisits\" (now \(config.minVisits))"
        }
        let orphan = r.dropped.filter { $0.key.hasSuffix("visit_occurrence_id not in visit_occurrence") }.values.reduce(0, +)
        if orphan > 0 {
            return "\(biggest), after \(orphan) clinical rows of visits visit_occurrence lacks were dropped; set "
                + "\"visitSource\": \"referenced\""
        }
        if top.key.hasPrefix("visits: no medication"), let unmapped = r.medicationRows["unmapped"], unmapped > 0 {
            let total = r.medicationRows.values.reduce(0, +)
            return "\(biggest), after \(unmapped) of \(total) prescription rows (\(PreparationReport.percent(share(unmapped, total)))) "
                + "mapped to no ATC3 class; check the medication maps (--maps)"
        }
        return "\(biggest); set \"requireAllCodeSets\": false to keep visits without every code set"
    }

    /// One note per table that lost more than half of its rows: the count, the biggest reason, what to change.
    /// Rows of visits the OMOP visit table lacks are left to the visitSource note.
    static func rowNotes(_ r: PreparationReport) -> [String] {
        var notes: [String] = []
        for (table, rows) in r.rowsRead.sorted(by: { $0.key < $1.key }) where rows > 0 {
            // row-level reasons of this table (not the cohort-level "patients: …" that share the MIMIC table's name)
            let reasons = r.dropped.filter {
                $0.key.hasPrefix(table + ": ") && !$0.key.hasPrefix("patients: no visit kept")
                    && !$0.key.hasPrefix("patients: fewer than")
            }
            let lost = reasons.values.reduce(0, +)
            guard share(rows - lost, rows) < keptShare,
                  let top = reasons.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }),
                  !top.key.hasSuffix("not in visit_occurrence")
            else { continue }
            notes.append("most rows of \(table) were dropped: \(lost) of \(rows) (\(PreparationReport.percent(share(lost, rows)))); "
                + "the biggest cause: '\(top.key)' (\(top.value)); \(advice(top.key))")
        }
        return notes
    }

    /// What to change for a row-level drop reason.
    static func advice(_ reason: String) -> String {
        if reason.hasSuffix("drug not mapped to ATC3") { return "check the medication maps (--maps)" }
        if reason.contains("excludedDrugVocabularies") { return "see \"excludedDrugVocabularies\"" }
        if reason.contains("visit_detail") { return "give the visit_detail table, or fill visit_occurrence_id" }
        if reason.hasSuffix("not in admissions") || reason.hasSuffix("person_id differs from the visit's") {
            return "check that the tables come from the same export"
        }
        if reason.hasSuffix("concept 0 (no standard concept)") { return "map the source codes to standard concepts" }
        return "see the report's dropped counts"
    }

    static func share(_ a: Int, _ b: Int) -> Double { b == 0 ? 1 : Double(a) / Double(b) }
}

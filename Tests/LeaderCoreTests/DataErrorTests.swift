import Foundation
import Testing
@testable import LeaderCore

/// Bad input: each a typed error naming file, line and column, without the offending cell value.
@Suite struct DataErrorTests {
    typealias V = DataTestSupport.MiniVisit

    static func base() -> (String, String) {
        DataTestSupport.writeMIMIC3([(1, [V(dx: ["D1"], px: ["P1"], drugs: ["A01A"])]),
                                     (2, [V(dx: ["D2"], px: ["P1"], drugs: ["A01A"])])])
    }

    func prepare(_ dir: String, _ maps: String) throws(LeaderError) {
        _ = try DataPreparation.prepare(source: .mimic3, input: dir, maps: maps, config: PrepareConfig())
    }

    func replace(_ path: String, _ a: String, _ b: String) throws {
        let t = try String(contentsOfFile: path, encoding: .utf8)
        DataTestSupport.write(t.replacingOccurrences(of: a, with: b), to: path)
    }

    @Test func missingTable() throws {
        let (dir, maps) = Self.base()
        try FileManager.default.removeItem(atPath: dir + "/PRESCRIPTIONS.csv")
        #expect(throws: LeaderError.io("\(dir): missing table PRESCRIPTIONS.csv or PRESCRIPTIONS.csv.gz (any case)")) {
            try prepare(dir, maps)
        }
    }

    @Test func missingColumn() throws {
        let (dir, maps) = Self.base()
        try replace(dir + "/ADMISSIONS.csv", "admittime", "admit_time")
        #expect(throws: LeaderError.badFile("\(dir)/ADMISSIONS.csv: missing column 'admittime' in the header (line 1)")) {
            try prepare(dir, maps)
        }
    }

    @Test func unparsableDateNamesLineAndColumnNotValue() throws {
        let (dir, maps) = Self.base()
        try replace(dir + "/ADMISSIONS.csv", "2150-01-01 10:00:00,Medicare,ENGL,CATHOLIC,MARRIED,WHITE\n102",
                    "SECRET-2150,Medicare,ENGL,CATHOLIC,MARRIED,WHITE\n102")
        do {
            try prepare(dir, maps)
            Issue.record("expected an error")
        } catch {
            #expect(error == .badFile("\(dir)/ADMISSIONS.csv: line 2, column 4 ('admittime'): not a date (YYYY-MM-DD[ HH:MM:SS])"))
            #expect(!error.message.contains("SECRET"))
        }
    }

    @Test func unparsableIdNamesLineAndColumnNotValue() throws {
        let (dir, maps) = Self.base()
        try replace(dir + "/DIAGNOSES_ICD.csv", "1,2,102,1,D2", "1,2,SECRET102,1,D2")
        do {
            try prepare(dir, maps)
            Issue.record("expected an error")
        } catch {
            #expect(error == .badFile("\(dir)/DIAGNOSES_ICD.csv: line 3, column 3 ('hadm_id'): not an integer"))
            #expect(!error.message.contains("SECRET"))
        }
    }

    @Test func unknownVisitsAndCodesAreCountedDrops() throws {
        let (dir, maps) = Self.base()
        let dx = try String(contentsOfFile: dir + "/DIAGNOSES_ICD.csv", encoding: .utf8)
        DataTestSupport.write(dx + "1,9,999,1,D1\n1,1,101,1,\n1,1,,1,D7\n", to: dir + "/DIAGNOSES_ICD.csv")
        let rx = try String(contentsOfFile: dir + "/PRESCRIPTIONS.csv", encoding: .utf8)
        DataTestSupport.write(rx + "1,1,101,2150-01-01 00:00:00,Unknown Drug,0\n", to: dir + "/PRESCRIPTIONS.csv")
        let d = try DataPreparation.prepare(source: .mimic3, input: dir, maps: maps, config: PrepareConfig())
        let dropped = d.cohort.report.dropped
        #expect(dropped["diagnoses_icd: hadm_id not in admissions"] == 1)
        #expect(dropped["diagnoses_icd: empty code"] == 1)
        #expect(dropped["diagnoses_icd: empty hadm_id"] == 1)
        #expect(dropped["prescriptions: drug not mapped to ATC3"] == 1)
        #expect(d.cohort.report.medicationRows["unmapped"] == 1)
        #expect(d.cohort.patients.count == 2)
    }

    @Test func missingMapsFolder() throws {
        let (dir, _) = Self.base()
        #expect(throws: LeaderError.io("/nonexistent-maps: medication map folder not found")) {
            try prepare(dir, "/nonexistent-maps")
        }
    }

    /// A badly mapped MIMIC-III folder: 7 of 10 patients' drugs map to no ATC3 class, so their visits lack
    /// medications and are dropped. The report opens with what was kept, the biggest cause and what to change;
    /// with `minPatients` above what is left, the same text is the error.
    @Test func mostOfTheInputDroppedIsSaidFirstAndBelowMinPatientsIsAnError() throws {
        let (dir, maps) = DataTestSupport.writeMIMIC3((1...10).map { ($0, [V(dx: ["D1"], px: ["P1"], drugs: [$0 <= 3 ? "A01A" : "B01A"])]) })
        DataTestSupport.write("drug,atc_code\nA01A,A01A01\n", to: maps + "/mimic_drug_to_atc.csv")
        let text = "3 of 10 visits (30.0 %) and 3 of 10 patients (30.0 %) kept; the biggest cause: 'visits: no medication "
            + "codes (after top-K; a visit may lack several)' (7), after 7 of 10 prescription rows (70.0 %) mapped to no "
            + "ATC3 class; check the medication maps (--maps)"
        let d = try DataPreparation.prepare(source: .mimic3, input: dir, maps: maps, config: PrepareConfig())
        let rows = "most rows of prescriptions were dropped: 7 of 10 (70.0 %); the biggest cause: 'prescriptions: drug "
            + "not mapped to ATC3' (7); check the medication maps (--maps)"
        #expect(d.cohort.report.notes == [rows, "most of the input was dropped: " + text])
        var strict = PrepareConfig()
        strict.minPatients = 5
        expectError(.invalidArgument, "mimic3: the cohort has 3 patients, fewer than minPatients 5: " + text) {
            try DataPreparation.prepare(source: .mimic3, input: dir, maps: maps, config: strict)
        }
        // a cohort that keeps most of its input has no note
        let (full, fullMaps) = Self.base()
        #expect(try DataPreparation.prepare(source: .mimic3, input: full, maps: fullMaps, config: PrepareConfig())
            .cohort.report.notes.isEmpty)
    }

    /// Most prescription rows unmapped while every visit keeps one mapped drug: no visit is lost, but the rows are,
    /// and the report says so first.
    @Test func mostRowsOfATableDroppedIsSaidFirst() throws {
        let (dir, maps) = DataTestSupport.writeMIMIC3((1...4).map { ($0, [V(dx: ["D1"], px: ["P1"], drugs: ["A01A", "B01A", "C01A"])]) })
        DataTestSupport.write("drug,atc_code\nA01A,A01A01\n", to: maps + "/mimic_drug_to_atc.csv")
        let d = try DataPreparation.prepare(source: .mimic3, input: dir, maps: maps, config: PrepareConfig())
        #expect(d.cohort.patients.count == 4)
        #expect(d.cohort.report.notes == ["most rows of prescriptions were dropped: 8 of 12 (66.7 %); the biggest cause: "
            + "'prescriptions: drug not mapped to ATC3' (8); check the medication maps (--maps)"])
    }

    @Test func rowDropAdviceNamesTheSetting() {
        #expect(ShrinkCheck.advice("drug_exposure: CVX concept, not a prescription (excludedDrugVocabularies)")
            == "see \"excludedDrugVocabularies\"")
        #expect(ShrinkCheck.advice("drug_exposure: only a visit_detail_id, and no visit_detail table to find its visit")
            == "give the visit_detail table, or fill visit_occurrence_id")
        #expect(ShrinkCheck.advice("diagnoses_icd: hadm_id not in admissions") == "check that the tables come from the same export")
        #expect(ShrinkCheck.advice("condition_occurrence: concept 0 (no standard concept)")
            == "map the source codes to standard concepts")
    }

    /// Patients dropped for too few visits: the note names minVisits.
    @Test func droppedForMinVisitsNamesTheSetting() throws {
        let (dir, maps) = DataTestSupport.writeMIMIC3([(1, [V(dx: ["D1"], px: ["P1"], drugs: ["A01A"]), V(dx: ["D2"], px: ["P1"], drugs: ["A01A"])]),
                                                       (2, [V(dx: ["D2"], px: ["P1"], drugs: ["A01A"])]),
                                                       (3, [V(dx: ["D2"], px: ["P1"], drugs: ["A01A"])])])
        var c = PrepareConfig()
        c.minVisits = 2
        let d = try DataPreparation.prepare(source: .mimic3, input: dir, maps: maps, config: c)
        #expect(d.cohort.report.notes == ["most of the input was dropped: 2 of 4 visits (50.0 %) and 1 of 3 patients "
            + "(33.3 %) kept; the biggest cause: 'patients: fewer than 2 kept visits' (2); lower \"minVisits\" (now 2)"])
    }
}

import Foundation
import Testing
@testable import LeaderCore

/// The synthetic cohort in every input format (`SyntheticFormat`) goes through its own loader to the same cohort:
/// same patients, visits, code occurrences and medication classes. Each loader is thereby tested end to end against
/// the other two (the 10^5-patient run of the same check is in Tests/cli/test_cli.py).
@Suite struct SyntheticFormatTests {
    static let patients = 400

    static func prepared(_ format: SyntheticFormat, visitTableShare: Double = 1,
                         config: PrepareConfig = PrepareConfig()) throws -> (PreparedDataset, SyntheticSummary) {
        let dir = SyntheticTestSupport.tempDir("fmt-\(format.rawValue)")
        defer { SyntheticTestSupport.remove(dir) }
        let summary = try SyntheticCohort.write(SyntheticConfig(patients: patients, seed: 5), to: dir, format: format,
                                                visitTableShare: visitTableShare)
        let source: DataSource = format == .mimic3 ? .mimic3 : format == .mimic4 ? .mimic4 : .omop
        let d = try DataPreparation.prepare(source: source, input: dir, maps: format == .omop ? nil : dir + "/maps",
                                            config: config)
        return (d, summary)
    }

    /// Per patient id: per visit id, the titles of its diagnoses and procedures and its medication keys.
    static func shape(_ d: PreparedDataset) -> [Int64: [Int64: [[String]]]] {
        let c = d.cohort
        var out: [Int64: [Int64: [[String]]]] = [:]
        for p in c.patients {
            var visits: [Int64: [[String]]] = [:]
            for v in p.visits {
                visits[v.id] = [v.codes(.diagnosis).map { c.diagnoses.titles[Int($0)] }.sorted(),
                                v.codes(.procedure).map { c.procedures.titles[Int($0)] }.sorted(),
                                v.codes(.medication).map { c.medications.keys[Int($0)] }.sorted()]
            }
            out[p.id] = visits
        }
        return out
    }

    @Test func everyFormatLoadsToTheSameCohort() throws {
        let (m3, s3) = try Self.prepared(.mimic3)
        let (m4, s4) = try Self.prepared(.mimic4)
        let (om, so) = try Self.prepared(.omop)
        // the same patients were written: the summaries differ only in format and bytes
        for var s in [s4, so] {
            s.format = .mimic3
            s.bytes = s3.bytes
            #expect(s == s3)
        }
        #expect(m3.cohort.patients.count > 300 && m3.cohort.visitCount == s3.admissions)
        // MIMIC-IV keys are MIMIC-III's with the ICD version in front; titles: MIMIC-IV and OMOP use the long title
        #expect(m4.cohort.diagnoses.keys.sorted() == m3.cohort.diagnoses.keys.map { "9:" + $0 }.sorted())
        #expect(m4.cohort.medications.keys.sorted() == m3.cohort.medications.keys.sorted())
        #expect(Self.shape(m4) == Self.shape(om))
        #expect(m3.samples == m4.samples && m3.split == m4.split)
        #expect(m4.samples == om.samples && m4.split == om.split)
        // OMOP keys carry the vocabulary and the dotted ICD-9 code; every drug reached its ATC3 class
        #expect(om.cohort.diagnoses.keys.allSatisfy { $0.hasPrefix("ICD9CM:") })
        #expect(om.cohort.diagnoses.keys.contains("ICD9CM:401.9") && m3.cohort.diagnoses.keys.contains("4019"))
        #expect(om.cohort.procedures.keys.allSatisfy { $0.hasPrefix("ICD9Proc:") })
        #expect(om.cohort.report.medicationRows == ["atc": so.prescriptionsRows])
        #expect(om.cohort.profile.fields.map(\.name) == OMOPLoader.profileColumns)
    }

    /// A visit table that lacks 30 % of the visits: `auto` takes the visits from the clinical tables (same cohort,
    /// their visit type unknown) and says so first; `table` keeps the visit table's and says what it dropped.
    @Test func partialOMOPVisitTableIsRestoredOrReported() throws {
        let (full, _) = try Self.prepared(.omop)
        let (auto, summary) = try Self.prepared(.omop, visitTableShare: 0.7)
        #expect(summary.visitsMissingFromVisitTable > summary.admissions / 5)
        #expect(summary.visitsMissingFromVisitTable < summary.admissions * 2 / 5)
        #expect(summary.admissionsRows + summary.visitsMissingFromVisitTable == summary.admissions)
        #expect(Self.shape(auto) == Self.shape(full))
        #expect(auto.samples == full.samples && auto.split == full.split)
        let note = try #require(auto.cohort.report.notes.first)
        #expect(note.contains("reference \(summary.visitsMissingFromVisitTable) visit ids that visit_occurrence lacks"))
        var table = PrepareConfig()
        table.visitSource = "table"
        let (kept, _) = try Self.prepared(.omop, visitTableShare: 0.7, config: table)
        #expect(kept.cohort.visitCount < full.cohort.visitCount)
        #expect(kept.cohort.report.notes.first?.contains("were dropped (visitSource \"table\"") == true)
    }

    @Test func visitTableShareIsAnOMOPSettingInRange() throws {
        let dir = SyntheticTestSupport.tempDir("fmt-bad")
        defer { SyntheticTestSupport.remove(dir) }
        expectError(.invalidArgument, "visitTableShare must be in 0...1 (got 1.5)") {
            try SyntheticCohort.write(SyntheticConfig(patients: 3, seed: 1), to: dir, format: .omop, visitTableShare: 1.5)
        }
        expectError(.invalidArgument, "visitTableShare is an OMOP setting (format mimic4)") {
            try SyntheticCohort.write(SyntheticConfig(patients: 3, seed: 1), to: dir, format: .mimic4, visitTableShare: 0.5)
        }
    }

    @Test func dottedICD9Codes() {
        #expect(SyntheticOMOPWriter.dottedDiagnosis("4019") == "401.9")
        #expect(SyntheticOMOPWriter.dottedDiagnosis("E8782") == "E878.2")
        #expect(SyntheticOMOPWriter.dottedDiagnosis("V4581") == "V45.81")
        #expect(SyntheticOMOPWriter.dottedDiagnosis("486") == "486")
        #expect(SyntheticOMOPWriter.dottedProcedure("3893") == "38.93")
    }
}

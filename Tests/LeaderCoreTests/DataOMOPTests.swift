import Foundation
import Testing
@testable import LeaderCore

@Suite struct DataOMOPTests {
    var dir: String { DataTestSupport.fixtures + "/omop" }

    @Test func visitsPatientsAndDrops() throws {
        let c = try OMOPLoader.load(directory: dir, config: PrepareConfig())
        #expect(c.patients.map(\.id) == [1, 2, 3, 4])
        #expect(c.patients.map { $0.visits.map(\.id) } == [[101, 102, 103], [201], [301], [401]])
        #expect(c.report.dropped["condition_occurrence: empty visit_occurrence_id"] == 1)
        #expect(c.report.dropped["condition_occurrence: concept 0 (no standard concept)"] == 1)
        #expect(c.report.dropped["visits: dropped for a missing code set"] == 1)   // visit 302 has no procedure
        #expect(c.report.rowsRead["concept"] == 34)
    }

    @Test func drugsMapToATC3ThenIngredientThenConcept() throws {
        let c = try OMOPLoader.load(directory: dir, config: PrepareConfig())
        let med = c.medications
        func keys(_ v: Visit) -> [String] { v.medications.map { med.keys[Int($0)] }.sorted() }
        let p1 = c.patients[0].visits
        // metformin via concept_ancestor (ATC 3rd), aspirin via two ATC 5th ancestors truncated to 4 characters
        #expect(keys(p1[0]) == ["A10B", "B01A", "N02B"])
        // lisinopril via concept_relationship of its ingredient ("RxNorm - ATC" to C09AA03)
        #expect(keys(p1[1]) == ["A10B", "C09A"])
        // acetaminophen: no ATC anywhere ("Has tradename" is not an ATC link) -> RxNorm ingredient
        #expect(keys(p1[2]) == ["RxNorm:161"])
        // zinc paste: no ancestor at all -> the drug concept itself
        #expect(keys(c.patients[1].visits[0]) == ["RxNorm:1234567"])
        #expect(c.report.medicationRows == ["atc": 6, "ingredient": 2, "drug_concept": 1])
        func title(_ k: String) -> String? { med.id(k).map { med.titles[Int($0)] } }
        #expect(title("A10B") == "blood glucose lowering drugs, excl. insulins")
        #expect(title("C09A") == "ace inhibitors, plain")
        #expect(title("RxNorm:161") == "acetaminophen")
        #expect(med.systems[Int(med.id("A10B") ?? 0)] == "ATC3")
        let dx = c.diagnoses
        #expect(dx.id("SNOMED:59621000").map { dx.titles[Int($0)] } == "Essential hypertension")
        let px = c.procedures
        #expect(px.id("CPT4:93000").map { px.titles[Int($0)] } == "Electrocardiogram, routine ECG with at least 12 leads")
    }

    @Test func profileFromConceptNames() throws {
        let c = try OMOPLoader.load(directory: dir, config: PrepareConfig())
        let f = c.profile.fields
        #expect(f.map(\.name) == ["gender", "race", "ethnicity", "age", "visit_type"])
        #expect(f[0].values == ["unknown", "FEMALE", "MALE"])
        #expect(f[4].values == ["unknown", "Emergency Room Visit", "Inpatient Visit", "Outpatient Visit"])
        let v101 = c.patients[0].visits[0]
        #expect(f[0].values[Int(v101.profile[0])] == "MALE")
        #expect(f[3].values[Int(v101.profile[3])] == "60-69")   // born 1950-06-15, visit 2020-01-10
        #expect(f[4].values[Int(v101.profile[4])] == "Inpatient Visit")
        // person 3 has race concept 0 -> unknown
        #expect(c.patients[2].visits[0].profile[1] == 0)
        var noAge = PrepareConfig()
        noAge.profileAge = false
        noAge.profileGender = false
        let c2 = try OMOPLoader.load(directory: dir, config: noAge)
        #expect(c2.profile.fields.map(\.name) == ["race", "ethnicity", "visit_type"])
    }

    @Test func athenaStyleTabSeparatedVocabularyLoadsTheSame() throws {
        let tmp = DataTestSupport.tempDir("omop-tsv")
        for f in ["person", "visit_occurrence", "condition_occurrence", "procedure_occurrence", "drug_exposure",
                  "concept_ancestor", "concept_relationship"] {
            try FileManager.default.copyItem(atPath: "\(dir)/\(f).csv", toPath: "\(tmp)/\(f).csv")
        }
        // CONCEPT.csv as Athena ships it: upper-case name, tab-separated, no quoting.
        let csv = try DataTestSupport.rows(String(contentsOfFile: "\(dir)/concept.csv", encoding: .utf8))
        var tsv = csv.header.map { $0.uppercased() }.joined(separator: "\t") + "\n"
        for r in csv.rows { tsv += r.joined(separator: "\t") + "\n" }
        DataTestSupport.write(tsv, to: "\(tmp)/CONCEPT.csv")
        let a = try OMOPLoader.load(directory: dir, config: PrepareConfig())
        let b = try OMOPLoader.load(directory: tmp, config: PrepareConfig())
        #expect(a.patients == b.patients)
        #expect(a.medications == b.medications && a.diagnoses == b.diagnoses && a.procedures == b.procedures)
        #expect(a.profile == b.profile)
    }

    @Test func missingConceptTableIsAClearError() throws {
        let tmp = DataTestSupport.tempDir("omop")
        for f in ["person", "visit_occurrence", "condition_occurrence", "procedure_occurrence", "drug_exposure"] {
            try FileManager.default.copyItem(atPath: "\(dir)/\(f).csv", toPath: "\(tmp)/\(f).csv")
        }
        #expect(throws: LeaderError.io("\(tmp): missing table concept.csv or concept.csv.gz (any case)")) {
            try OMOPLoader.load(directory: tmp, config: PrepareConfig())
        }
    }
}

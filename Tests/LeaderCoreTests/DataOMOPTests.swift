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

    // ---- visitSource: events of visits that visit_occurrence lacks --------------------------------------------

    /// A copy of the fixture with visit rows removed from visit_occurrence (and extra clinical rows appended).
    func partialVisitTable(without ids: Set<String>, conditions extraConditions: String = "", drugs extraDrugs: String = "")
        throws -> String
    {
        let tmp = DataTestSupport.tempDir("omop-partial")
        for f in ["person", "condition_occurrence", "procedure_occurrence", "drug_exposure", "concept", "concept_ancestor",
                  "concept_relationship", "visit_occurrence"] {
            try FileManager.default.copyItem(atPath: "\(dir)/\(f).csv", toPath: "\(tmp)/\(f).csv")
        }
        let visits = try String(contentsOfFile: "\(tmp)/visit_occurrence.csv", encoding: .utf8).split(separator: "\n")
        DataTestSupport.write(visits.filter { !ids.contains(String($0.prefix { $0 != "," })) }.joined(separator: "\n") + "\n",
                              to: "\(tmp)/visit_occurrence.csv")
        for (file, extra) in [("condition_occurrence", extraConditions), ("drug_exposure", extraDrugs)] where !extra.isEmpty {
            let t = try String(contentsOfFile: "\(tmp)/\(file).csv", encoding: .utf8)
            DataTestSupport.write(t + extra, to: "\(tmp)/\(file).csv")
        }
        return tmp
    }

    func config(_ source: String) throws -> PrepareConfig {
        try PrepareConfig.parse(json: "{\"visitSource\": \"\(source)\"}", base: PrepareConfig())
    }

    /// Visits 102 and 201 missing from visit_occurrence: 7 of the 23 clinical rows (30.4 %) point at them.
    @Test func tableVisitSourceDropsTheirEventsAndSaysSo() throws {
        let tmp = try partialVisitTable(without: ["102", "201"])
        let c = try OMOPLoader.load(directory: tmp, config: try config("table"))
        #expect(c.patients.map(\.id) == [1, 3, 4])
        #expect(c.patients.map { $0.visits.map(\.id) } == [[101, 103], [301], [401]])
        #expect(c.report.dropped["condition_occurrence: visit_occurrence_id not in visit_occurrence"] == 2)
        #expect(c.report.dropped["procedure_occurrence: visit_occurrence_id not in visit_occurrence"] == 2)
        #expect(c.report.dropped["drug_exposure: visit_occurrence_id not in visit_occurrence"] == 3)
        #expect(c.report.notes == ["OMOP visits: 7 of 23 clinical rows (30.4 %) reference visit ids that visit_occurrence "
            + "lacks and were dropped (visitSource \"table\"; \"referenced\" keeps them)"])
    }

    @Test(arguments: ["auto", "referenced"])
    func referencedVisitSourceRestoresThemFromTheClinicalRows(_ source: String) throws {
        let full = try OMOPLoader.load(directory: dir, config: PrepareConfig())
        let tmp = try partialVisitTable(without: ["102", "201"])
        let c = try OMOPLoader.load(directory: tmp, config: try config(source))
        #expect(c.patients.map { $0.visits.map(\.id) } == full.patients.map { $0.visits.map(\.id) })
        // codes as with the full table; start = the earliest date of the visit's rows; visit type unknown
        #expect(c.medications == full.medications && c.diagnoses == full.diagnoses && c.procedures == full.procedures)
        for (p, q) in zip(c.patients, full.patients) {
            for (v, w) in zip(p.visits, q.visits) {
                #expect(v.diagnoses == w.diagnoses && v.procedures == w.procedures && v.medications == w.medications)
            }
        }
        let v102 = c.patients[0].visits[1]
        #expect(FieldParsing.civil(v102.time) == (2020, 6, 1))
        let visitType = try #require(c.profile.fields.firstIndex { $0.name == "visit_type" })
        #expect(v102.profile[visitType] == 0 && c.patients[0].visits[0].profile[visitType] != 0)
        #expect(c.report.dropped["condition_occurrence: visit_occurrence_id not in visit_occurrence"] == nil)
        if source == "auto" {
            #expect(c.report.notes == ["OMOP visits: 7 of 23 clinical rows (30.4 %) reference 2 visit ids that "
                + "visit_occurrence lacks, so visits were taken from the clinical tables (visitSource \"referenced\"; "
                + "set \"table\" to keep only visit_occurrence's rows)"])
        } else {
            #expect(c.report.notes.isEmpty)
        }
    }

    /// A referenced visit takes the most frequent person of its rows; rows of another person are dropped and
    /// counted (for table visits too); a referenced visit without any dated row is dropped and counted.
    @Test func referencedVisitsOwnersAndUndatedVisits() throws {
        let tmp = try partialVisitTable(without: ["102"],
                                        conditions: "11,4,320128,,,,,32817,0,,,999,,I10,0,\n",
                                        drugs: "10,3,1503328,2020-06-01,,2020-06-30,,,32817,,0,30,30,,0,,,102,,metformin,0,,\n"
                                            + "11,3,1503328,2020-06-01,,2020-06-30,,,32817,,0,30,30,,0,,,101,,metformin,0,,\n")
        let c = try OMOPLoader.load(directory: tmp, config: try config("referenced"))
        #expect(c.patients[0].visits.map(\.id) == [101, 102, 103])   // 102 stays person 1's (4 rows against 1)
        #expect(c.report.dropped["drug_exposure: person_id differs from the visit's"] == 2)
        #expect(c.report.dropped["referenced visits: no dated row"] == 1)
        #expect(!c.patients.flatMap(\.visits).contains { $0.id == 999 })
    }

    // ---- visit_detail: events keyed by a visit detail ------------------------------------------------------------

    /// A copy of the fixture whose clinical rows of visits 102 and 201 name only a visit detail (1021, 2011), with a
    /// visit_detail table (when `details` is given) mapping details to visits.
    func keyedByVisitDetail(details: String?) throws -> String {
        let tmp = try partialVisitTable(without: [])
        let detailOf = ["102": "1021", "201": "2011"]
        for file in ["condition_occurrence", "procedure_occurrence", "drug_exposure"] {
            let lines = try String(contentsOfFile: "\(tmp)/\(file).csv", encoding: .utf8).split(separator: "\n")
            let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let v = try #require(header.firstIndex(of: "visit_occurrence_id"))
            let d = try #require(header.firstIndex(of: "visit_detail_id"))
            var out = [String(lines[0])]
            for line in lines.dropFirst() {
                var f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                if let detail = detailOf[f[v]] { f[v] = ""; f[d] = detail }
                out.append(f.joined(separator: ","))
            }
            DataTestSupport.write(out.joined(separator: "\n") + "\n", to: "\(tmp)/\(file).csv")
        }
        if let details { DataTestSupport.write(details, to: "\(tmp)/visit_detail.csv") }
        return tmp
    }

    @Test func eventsKeyedByVisitDetailJoinTheirVisit() throws {
        let full = try OMOPLoader.load(directory: dir, config: PrepareConfig())
        let tmp = try keyedByVisitDetail(details: """
            visit_detail_id,person_id,visit_detail_concept_id,visit_detail_start_date,visit_occurrence_id
            1021,1,9201,2020-06-01,102
            2011,2,9201,2019-05-05,201
            3000,3,9201,2020-02-02,

            """)
        let c = try OMOPLoader.load(directory: tmp, config: PrepareConfig())
        #expect(c.patients == full.patients)
        #expect(c.medications == full.medications && c.diagnoses == full.diagnoses && c.procedures == full.procedures)
        #expect(c.report.rowsRead["visit_detail"] == 3)
        #expect(c.report.dropped["condition_occurrence: empty visit_occurrence_id"] == 1)   // row 9: neither id
        #expect(c.report.notes.isEmpty)
    }

    @Test func visitDetailsThatCannotBeResolvedAreCounted() throws {
        // no visit_detail table: their rows are dropped under a reason that names the missing table
        let none = try OMOPLoader.load(directory: try keyedByVisitDetail(details: nil), config: PrepareConfig())
        #expect(none.patients.map { $0.visits.map(\.id) } == [[101, 103], [301], [401]])
        let reason = "only a visit_detail_id, and no visit_detail table to find its visit"
        #expect(none.report.dropped["condition_occurrence: \(reason)"] == 3)   // one of them has concept 0 too
        #expect(none.report.dropped["procedure_occurrence: \(reason)"] == 2)
        #expect(none.report.dropped["drug_exposure: \(reason)"] == 2)
        // a detail without its visit, and a detail the table lacks
        let partial = try OMOPLoader.load(directory: try keyedByVisitDetail(details: """
            visit_detail_id,person_id,visit_detail_concept_id,visit_detail_start_date,visit_occurrence_id
            1021,1,9201,2020-06-01,

            """), config: PrepareConfig())
        #expect(partial.patients.map { $0.visits.map(\.id) } == [[101, 103], [301], [401]])
        #expect(partial.report.dropped["drug_exposure: visit_detail_id not in visit_detail (or its visit_occurrence_id empty)"] == 2)
        // a bad id in visit_detail is an error naming file, line and column
        let bad = try keyedByVisitDetail(details: "visit_detail_id,visit_occurrence_id\nx1,102\n")
        expectError(.badFile, "visit_detail.csv: line 2, column 1 ('visit_detail_id'): not an integer") {
            try OMOPLoader.load(directory: bad, config: PrepareConfig())
        }
    }

    @Test func visitSourceAndMinPatientsAreValidated() {
        expectError(.invalidArgument, #"config: visitSource must be "auto", "table" or "referenced", got "rows""#) {
            try PrepareConfig.parse(json: #"{"visitSource": "rows"}"#, base: PrepareConfig())
        }
        expectError(.invalidArgument, "config: minPatients must be at least 1, got 0") {
            try PrepareConfig.parse(json: #"{"minPatients": 0}"#, base: PrepareConfig())
        }
    }

    // ---- medication semantics: immunisations, pseudo-ingredients, RxNorm Extension ----------------------------

    /// Visit 101 gets three more drug rows: a CVX vaccine (excluded by default), a placebo tablet whose only
    /// ingredient is "inert ingredients" (not a drug), and an RxNorm Extension pack of ethinyl estradiol + inert
    /// ingredients (its real ingredient kept, the inert one left out).
    func withSpecialDrugs() throws -> String {
        let tmp = DataTestSupport.tempDir("omop-drugs")
        for f in ["person", "visit_occurrence", "condition_occurrence", "procedure_occurrence", "drug_exposure", "concept",
                  "concept_ancestor", "concept_relationship"] {
            try FileManager.default.copyItem(atPath: "\(dir)/\(f).csv", toPath: "\(tmp)/\(f).csv")
        }
        func append(_ file: String, _ text: String) throws {
            let t = try String(contentsOfFile: "\(tmp)/\(file).csv", encoding: .utf8)
            DataTestSupport.write(t + text, to: "\(tmp)/\(file).csv")
        }
        try append("concept", """
            9000001,influenza virus vaccine,Drug,CVX,CVX,S,141,1970-01-01,2099-12-31,
            9000002,inert ingredients,Drug,RxNorm,Ingredient,S,748794,1970-01-01,2099-12-31,
            9000003,inert ingredients 1 MG Oral Tablet,Drug,RxNorm,Clinical Drug,S,999001,1970-01-01,2099-12-31,
            9000004,ethinyl estradiol,Drug,RxNorm Extension,Ingredient,S,OMOP123,1970-01-01,2099-12-31,
            9000005,ethinyl estradiol pack,Drug,RxNorm Extension,Clinical Pack,S,OMOP124,1970-01-01,2099-12-31,

            """)
        try append("concept_ancestor", "9000002,9000003,1,1\n9000004,9000005,1,1\n9000002,9000005,1,1\n")
        try append("drug_exposure", (1...3).map { i in
            "\(20 + i),1,\(["9000001", "9000003", "9000005"][i - 1]),2020-01-10,,2020-01-15,,,32817,,0,1,1,,0,,,101,,x,0,,\n"
        }.joined())
        return tmp
    }

    @Test func immunisationsAndPseudoIngredientsAreNotPrescriptions() throws {
        let c = try OMOPLoader.load(directory: try withSpecialDrugs(), config: PrepareConfig())
        let med = c.medications
        let keys = c.patients[0].visits[0].medications.map { med.keys[Int($0)] }.sorted()
        #expect(keys == ["A10B", "B01A", "N02B", "RxNorm Extension:OMOP123"])
        #expect(med.titles[Int(try #require(med.id("RxNorm Extension:OMOP123")))] == "ethinyl estradiol")
        #expect(!med.keys.contains { $0.contains("748794") || $0.contains("999001") || $0.contains("141") })
        #expect(c.report.dropped["drug_exposure: CVX concept, not a prescription (excludedDrugVocabularies)"] == 1)
        #expect(c.report.dropped["drug_exposure: only pseudo-ingredients (inert), not a drug"] == 1)
        #expect(c.report.dropped["drug_exposure: pseudo-ingredient (inert) left out of the ingredients"] == 1)
        // the exclusion list is a setting: with none excluded the vaccine is a medication (its own concept)
        let all = try OMOPLoader.load(directory: try withSpecialDrugs(),
                                      config: try PrepareConfig.parse(json: #"{"excludedDrugVocabularies": []}"#,
                                                                      base: PrepareConfig()))
        #expect(all.medications.keys.contains("CVX:141"))
    }
}

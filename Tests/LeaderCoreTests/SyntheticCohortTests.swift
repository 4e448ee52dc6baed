import Foundation
import Testing
@testable import LeaderCore

/// The written MIMIC-III folder: determinism, format, referential integrity, sizes and visible rules.
@Suite struct SyntheticCohortTests {
    typealias S = SyntheticTestSupport

    /// One 1500-patient cohort shared by the read-only tests (written once per test process).
    struct Written: @unchecked Sendable {
        let dir: String
        let summary: SyntheticSummary
        let t: [String: S.Table]
    }
    static let shared: Result<Written, any Error> = Result {
        let (dir, summary) = try S.write(patients: 1500, seed: 42, tag: "shared")
        var tables: [String: S.Table] = [:]
        for f in S.allFiles(dir) { tables[f] = try S.readTable(dir + "/" + f) }
        return Written(dir: dir, summary: summary, t: tables)
    }

    @Test func sameSeedSameBytesOtherSeedOtherBytes() throws {
        let (a, _) = try S.write(patients: 300, seed: 7, tag: "a")
        let (b, _) = try S.write(patients: 300, seed: 7, tag: "b")
        let (c, _) = try S.write(patients: 300, seed: 8, tag: "c")
        defer { S.remove(a); S.remove(b); S.remove(c) }
        for f in S.allFiles(a) {
            let x = FileManager.default.contents(atPath: a + "/" + f)
            #expect(x != nil && x == FileManager.default.contents(atPath: b + "/" + f), "\(f) differs for one seed")
        }
        for f in ["PATIENTS.csv", "ADMISSIONS.csv", "DIAGNOSES_ICD.csv", "PRESCRIPTIONS.csv"] {
            #expect(FileManager.default.contents(atPath: a + "/" + f) != FileManager.default.contents(atPath: c + "/" + f),
                    "\(f) identical for two seeds")
        }
    }

    @Test func patientsDoNotDependOnCohortSize() throws {
        let (small, _) = try S.write(patients: 50, seed: 3, tag: "small")
        let (large, _) = try S.write(patients: 120, seed: 3, tag: "large")
        defer { S.remove(small); S.remove(large) }
        let p50 = try S.readTable(small + "/PATIENTS.csv").rows
        let p120 = try S.readTable(large + "/PATIENTS.csv").rows
        #expect(p50 == Array(p120.prefix(50)))
        let a50 = try S.readTable(small + "/ADMISSIONS.csv").rows
        let a120 = try S.readTable(large + "/ADMISSIONS.csv").rows
        #expect(a50 == Array(a120.prefix(a50.count)))
    }

    @Test func headersAndFormatsAreMIMICIII() throws {
        let w = try Self.shared.get()
        let expected: [String: String] = [
            "PATIENTS.csv": "ROW_ID,SUBJECT_ID,GENDER,DOB,DOD,DOD_HOSP,DOD_SSN,EXPIRE_FLAG",
            "ADMISSIONS.csv": "ROW_ID,SUBJECT_ID,HADM_ID,ADMITTIME,DISCHTIME,DEATHTIME,ADMISSION_TYPE,ADMISSION_LOCATION,"
                + "DISCHARGE_LOCATION,INSURANCE,LANGUAGE,RELIGION,MARITAL_STATUS,ETHNICITY,EDREGTIME,EDOUTTIME,DIAGNOSIS,"
                + "HOSPITAL_EXPIRE_FLAG,HAS_CHARTEVENTS_DATA",
            "DIAGNOSES_ICD.csv": "ROW_ID,SUBJECT_ID,HADM_ID,SEQ_NUM,ICD9_CODE",
            "PROCEDURES_ICD.csv": "ROW_ID,SUBJECT_ID,HADM_ID,SEQ_NUM,ICD9_CODE",
            "PRESCRIPTIONS.csv": "ROW_ID,SUBJECT_ID,HADM_ID,ICUSTAY_ID,STARTDATE,ENDDATE,DRUG_TYPE,DRUG,DRUG_NAME_POE,"
                + "DRUG_NAME_GENERIC,FORMULARY_DRUG_CD,GSN,NDC,PROD_STRENGTH,DOSE_VAL_RX,DOSE_UNIT_RX,FORM_VAL_DISP,"
                + "FORM_UNIT_DISP,ROUTE",
            "D_ICD_DIAGNOSES.csv": "ROW_ID,ICD9_CODE,SHORT_TITLE,LONG_TITLE",
            "D_ICD_PROCEDURES.csv": "ROW_ID,ICD9_CODE,SHORT_TITLE,LONG_TITLE",
            "maps/ndc2atc3.csv": "ndc,atc3",
            "maps/drug_to_atc.csv": "drug,atc_code",
            "maps/WHO_ATC-DDD_2021-12-03.csv": "atc_code,atc_name,ddd,uom,adm_r,note",
        ]
        for (file, header) in expected { #expect(w.t[file]?.header.joined(separator: ",") == header, "\(file)") }

        let dateTime = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/
        let a = try #require(w.t["ADMISSIONS.csv"])
        for r in a.rows {
            #expect(r[3].wholeMatch(of: dateTime) != nil && r[4].wholeMatch(of: dateTime) != nil)
            #expect(r[3] < r[4], "admission ends before it starts")
        }
        let rx = try #require(w.t["PRESCRIPTIONS.csv"])
        for r in rx.rows {
            #expect(r[4].hasSuffix(" 00:00:00") && r[4].wholeMatch(of: dateTime) != nil && r[4] <= r[5])
            #expect(r[12].wholeMatch(of: /^\d{11}$/) != nil, "NDC \(r[12]) is not 11 digits")
        }
        for file in ["DIAGNOSES_ICD.csv", "PROCEDURES_ICD.csv"] {
            let t = try #require(w.t[file])
            var lastHadm = "", expectSeq = 1
            for (i, r) in t.rows.enumerated() {
                #expect(r[0] == String(i + 1), "ROW_ID")
                #expect(r[4].wholeMatch(of: /^[0-9EV][0-9]{2,4}$/) != nil, "ICD-9 code \(r[4])")
                if r[2] != lastHadm { lastHadm = r[2]; expectSeq = 1 }
                #expect(r[3] == String(expectSeq), "SEQ_NUM")
                expectSeq += 1
            }
        }
        // Quoting round-trips: titles with commas are intact after parsing.
        let d = try #require(w.t["D_ICD_DIAGNOSES.csv"])
        #expect(d.rows.contains { $0[1] == "486" && $0[2] == "Pneumonia, organism NOS" })
    }

    @Test func everyCodeIsDefinedAndEveryDrugMaps() throws {
        let w = try Self.shared.get()
        let dxTitles = Set(try #require(w.t["D_ICD_DIAGNOSES.csv"]).rows.map { $0[1] })
        let pxTitles = Set(try #require(w.t["D_ICD_PROCEDURES.csv"]).rows.map { $0[1] })
        #expect(dxTitles.count >= 150 && pxTitles.count >= 60)
        for r in try #require(w.t["DIAGNOSES_ICD.csv"]).rows { #expect(dxTitles.contains(r[4]), "\(r[4])") }
        for r in try #require(w.t["PROCEDURES_ICD.csv"]).rows { #expect(pxTitles.contains(r[4]), "\(r[4])") }

        let ndcMap = Dictionary(try #require(w.t["maps/ndc2atc3.csv"]).rows.map { ($0[0], $0[1]) }) { a, _ in a }
        let nameMap = Dictionary(try #require(w.t["maps/drug_to_atc.csv"]).rows.map { ($0[0], $0[1]) }) { a, _ in a }
        let who = Set(try #require(w.t["maps/WHO_ATC-DDD_2021-12-03.csv"]).rows.map { $0[0] })
        var unmapped = 0, inBothMaps = 0
        let rx = try #require(w.t["PRESCRIPTIONS.csv"])
        for r in rx.rows {
            let atc3: String
            if let a = ndcMap[r[12]] {
                atc3 = a
                // Where both maps know a product they agree.
                if let n = nameMap[r[7]] {
                    inBothMaps += 1
                    #expect(String(n.prefix(4)) == a, "\(r[7])")
                }
            } else {
                unmapped += 1
                let n = try #require(nameMap[r[7]], "drug '\(r[7])' (NDC \(r[12])) is in neither map")
                atc3 = String(n.prefix(4))
            }
            #expect(who.contains(atc3), "ATC3 \(atc3) has no WHO name")
        }
        let share = Double(unmapped) / Double(rx.rows.count)
        #expect(share > 0.05 && share < 0.3, "unmapped NDC share \(share)")
        #expect(unmapped == w.summary.prescriptionsUnmappedNDC)
        #expect(inBothMaps > 0, "no product is in both maps: the agreement check above never ran")
    }

    @Test func referentialIntegrityAndSizes() throws {
        let w = try Self.shared.get()
        let patients = try #require(w.t["PATIENTS.csv"])
        let admissions = try #require(w.t["ADMISSIONS.csv"])
        #expect(patients.rows.count == 1500 && admissions.rows.count == w.summary.admissions)
        let subjects = Set(patients.rows.map { $0[1] })
        var visits: [String: Int] = [:]
        for r in admissions.rows {
            #expect(subjects.contains(r[1]))
            visits[r[1], default: 0] += 1
        }
        let hadms = Set(admissions.rows.map { $0[2] })
        #expect(hadms.count == admissions.rows.count)
        var counts: [String: [Int]] = [:]
        for (k, file) in ["DIAGNOSES_ICD.csv", "PROCEDURES_ICD.csv", "PRESCRIPTIONS.csv"].enumerated() {
            for r in try #require(w.t[file]).rows {
                #expect(hadms.contains(r[2]))
                counts[r[2], default: [0, 0, 0]][k] += 1
            }
        }
        #expect(counts.count == hadms.count, "every admission has codes")
        let n = Double(hadms.count)
        let mean = (0..<3).map { k in Double(counts.values.reduce(0) { $0 + $1[k] }) / n }
        #expect(mean[0] >= 8 && mean[0] <= 15, "diagnoses per admission \(mean[0])")
        #expect(mean[1] >= 1 && mean[1] <= 5, "procedures per admission \(mean[1])")
        #expect(mean[2] >= 8 && mean[2] <= 20, "prescriptions per admission \(mean[2])")
        #expect(counts.values.allSatisfy { $0[0] >= 1 && $0[1] >= 1 && $0[2] >= 1 })

        let single = Double(visits.values.filter { $0 == 1 }.count) / Double(subjects.count)
        #expect(single >= 0.30 && single <= 0.40, "single-visit share \(single)")
        #expect((visits.values.max() ?? 0) >= 10)
        #expect(w.summary.singleVisitShare == single)
    }

    /// Per admission: does it have any diagnosis with `dx` prefix, any drug of class prefix `atc`?
    static func conditional(_ w: Written, dx: [String], atc: String) throws -> (withDx: Double, withoutDx: Double) {
        let ndcMap = Dictionary(try #require(w.t["maps/ndc2atc3.csv"]).rows.map { ($0[0], $0[1]) }) { a, _ in a }
        let nameMap = Dictionary(try #require(w.t["maps/drug_to_atc.csv"]).rows.map { ($0[0], $0[1]) }) { a, _ in a }
        var hasDx = Set<String>(), hasRx = Set<String>()
        for r in try #require(w.t["DIAGNOSES_ICD.csv"]).rows where dx.contains(where: { r[4].hasPrefix($0) }) {
            hasDx.insert(r[2])
        }
        for r in try #require(w.t["PRESCRIPTIONS.csv"]).rows {
            let cls = ndcMap[r[12]] ?? String((nameMap[r[7]] ?? "").prefix(4))
            if cls.hasPrefix(atc) { hasRx.insert(r[2]) }
        }
        let all = Set(try #require(w.t["ADMISSIONS.csv"]).rows.map { $0[2] })
        let with = all.intersection(hasDx), without = all.subtracting(hasDx)
        return (Double(with.intersection(hasRx).count) / Double(max(1, with.count)),
                Double(without.intersection(hasRx).count) / Double(max(1, without.count)))
    }

    @Test func diseaseDrugRulesAreVisible() throws {
        let w = try Self.shared.get()
        let diabetes = try Self.conditional(w, dx: ["250"], atc: "A10")
        #expect(diabetes.withDx > 0.7 && diabetes.withoutDx < 0.2, "A10 | diabetes: \(diabetes)")
        let af = try Self.conditional(w, dx: ["42731", "42732"], atc: "C01B")
        #expect(af.withDx > 2 * af.withoutDx, "C01B | AF: \(af)")
        let sepsis = try Self.conditional(w, dx: ["038"], atc: "J01D")
        #expect(sepsis.withDx > 0.6 && sepsis.withoutDx < 0.4, "J01D | septicemia: \(sepsis)")
        let thyroid = try Self.conditional(w, dx: ["244"], atc: "H03A")
        #expect(thyroid.withDx > 0.7 && thyroid.withoutDx < 0.05, "H03A | hypothyroidism: \(thyroid)")
    }

    @Test func badArgumentsAreTypedErrors() throws {
        expectError(.invalidArgument, "synthetic cohort: patients must be in 1...10000000 (got 0)") { try SyntheticCohort.write(SyntheticConfig(patients: 0, seed: 1), to: S.tempDir("zero")) }
        expectError(.invalidArgument, "synthetic cohort: empty output directory") { try SyntheticCohort.write(SyntheticConfig(patients: 5, seed: 1), to: "") }
        let file = S.tempDir("file")
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        defer { S.remove(file) }
        do {
            _ = try SyntheticCohort.write(SyntheticConfig(patients: 5, seed: 1), to: file + "/sub")
            Issue.record("writing under a file succeeded")
        } catch {
            #expect(error.kind == .io && error.message.contains(file))
        }
        var bad = SyntheticConfig(patients: 10, seed: 1)
        bad.singleVisitShare = 1.5
        expectError(.invalidArgument, "synthetic cohort: singleVisitShare must be in 0...1 (got 1.5)") { try bad.validate() }
        expectError(.invalidArgument, "synthetic cohort config: unknown key 'sede'") {
            try JSONDecoder().decode(SyntheticConfig.self, from: Data(#"{"patients": 3, "seed": 1, "sede": 2}"#.utf8))
        }
        let ok = try JSONDecoder().decode(SyntheticConfig.self, from: Data(#"{"patients": 3, "seed": 1}"#.utf8))
        #expect(ok == SyntheticConfig(patients: 3, seed: 1))
    }

    @Test func cancelStops() throws {
        let dir = S.tempDir("cancel")
        defer { S.remove(dir) }
        expectError(.cancelled, "synthetic cohort: cancelled after 1000 patients") {
            try SyntheticCohort.write(SyntheticConfig(patients: 2500, seed: 1), to: dir) { $0 < 1000 }
        }
    }

}

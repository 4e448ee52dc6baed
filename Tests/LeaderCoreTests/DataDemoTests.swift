import Foundation
import Testing
@testable import LeaderCore

/// The two MIMIC demos against counts computed independently by `tools/count_demo_cohorts.py` (pandas),
/// stored in `Fixtures/demo_counts.json`.
@Suite struct DataDemoTests {
    struct Expected: Decodable {
        var patients: Int
        var visits: Int
        var single_visit_patients: Int
        var codes: [String: Int]
        var occurrences: [String: Int]
        var medication_rows: [String: Int]
    }

    static func expected() throws -> [String: [String: Expected]] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/demo_counts", withExtension: "json"))
        return try JSONDecoder().decode([String: [String: Expected]].self, from: Data(contentsOf: url))
    }

    static let small: PrepareConfig = {
        var c = PrepareConfig()
        c.topMedications = 40
        c.topDiagnoses = 100
        c.topProcedures = 50
        return c
    }()

    func check(_ d: PreparedDataset, _ e: Expected) {
        let c = d.cohort
        #expect(c.patients.count == e.patients)
        #expect(c.visitCount == e.visits)
        #expect(c.patients.filter { $0.visits.count == 1 }.count == e.single_visit_patients)
        for kind in CodeKind.allCases {
            #expect(c.vocabulary(kind).count == e.codes[kind.rawValue], "\(kind) vocabulary")
            let occ = c.patients.reduce(0) { $0 + $1.visits.reduce(0) { $0 + $1.codes(kind).count } }
            #expect(occ == e.occurrences[kind.rawValue], "\(kind) occurrences")
        }
        #expect(c.report.medicationRows == e.medication_rows)
    }

    @Test(.enabled(if: DataTestSupport.runsSharedDataTests, "needs ../shared/data"), arguments: ["default", "small"])
    func mimic3DemoMatchesPandas(config name: String) throws {
        let data = try #require(DataTestSupport.sharedData, "../shared/data is missing (required when CI is set)")
        let e = try #require(try Self.expected()["mimic3"]?[name])
        let cfg = name == "small" ? Self.small : PrepareConfig.defaults(for: .mimic3)
        let d = try DataPreparation.prepare(source: .mimic3, input: data + "/mimic3-demo", maps: data + "/medmaps",
                                            config: cfg)
        check(d, e)
        // Titles: ICD-9 short titles and lower-cased WHO ATC3 names.
        let dx = d.cohort.diagnoses
        #expect(dx.titles[Int(try #require(dx.id("4019")))] == "Hypertension NOS")
        let med = d.cohort.medications
        #expect(med.titles[Int(try #require(med.id("N02B")))] == "other analgesics and antipyretics")
        #expect(d.cohort.profile.fields.map(\.name) == MIMIC3Loader.profileColumns + ["gender", "age"])
    }

    /// Without `maps`, the maps the project ships in data/ give the same cohort; titles come from the project's own
    /// ATC3 catalogue, which names every class the demo keeps as the WHO file does.
    @Test(.enabled(if: DataTestSupport.runsSharedDataTests, "needs ../shared/data"), arguments: [DataSource.mimic3, .mimic4])
    func demosPrepareWithTheShippedMaps(source: DataSource) throws {
        let data = try #require(DataTestSupport.sharedData, "../shared/data is missing (required when CI is set)")
        let e = try #require(try Self.expected()[source.rawValue]?["default"])
        let input = data + (source == .mimic3 ? "/mimic3-demo" : "/mimic4-demo")
        let d = try DataPreparation.prepare(source: source, input: input, maps: nil, config: PrepareConfig.defaults(for: source))
        check(d, e)
        let withWHO = try DataPreparation.prepare(source: source, input: input, maps: data + "/medmaps",
                                                  config: PrepareConfig.defaults(for: source))
        #expect(d.cohort.medications == withWHO.cohort.medications)
        #expect(d.samples == withWHO.samples)
    }

    @Test(.enabled(if: DataTestSupport.runsSharedDataTests, "needs ../shared/data"), arguments: ["default", "small"])
    func mimic4DemoMatchesPandas(config name: String) throws {
        let data = try #require(DataTestSupport.sharedData, "../shared/data is missing (required when CI is set)")
        let e = try #require(try Self.expected()["mimic4"]?[name])
        let cfg = name == "small" ? Self.small : PrepareConfig.defaults(for: .mimic4)
        let d = try DataPreparation.prepare(source: .mimic4, input: data + "/mimic4-demo", maps: data + "/medmaps",
                                            config: cfg)
        check(d, e)
        // ICD-9 and ICD-10 codes live side by side with their version in the key.
        let keys = d.cohort.diagnoses.keys
        #expect(keys.contains { $0.hasPrefix("9:") } && keys.contains { $0.hasPrefix("10:") })
        #expect(keys.allSatisfy { $0.hasPrefix("9:") || $0.hasPrefix("10:") })
        for (i, k) in keys.enumerated() {
            #expect(d.cohort.diagnoses.systems[i] == (k.hasPrefix("9:") ? "ICD9CM" : "ICD10CM"))
        }
        #expect(d.cohort.diagnoses.titles.allSatisfy { !$0.isEmpty })
        #expect(d.cohort.profile.fields.map(\.name) == MIMIC4Loader.profileColumns + ["gender", "age"])
    }

    @Test(.enabled(if: DataTestSupport.runsSharedDataTests, "needs ../shared/data"))
    func upperCaseHeadersAndGzipReadTheSameAsTheDemo() throws {
        let data = try #require(DataTestSupport.sharedData, "../shared/data is missing (required when CI is set)")
        // Copy the MIMIC-III demo with upper-case headers, gzip two tables.
        let dir = DataTestSupport.tempDir("m3upper")
        for name in ["ADMISSIONS", "PATIENTS", "DIAGNOSES_ICD", "PROCEDURES_ICD", "PRESCRIPTIONS", "D_ICD_DIAGNOSES",
                     "D_ICD_PROCEDURES"] {
            var text = try String(contentsOfFile: "\(data)/mimic3-demo/\(name).csv", encoding: .utf8)
            let nl = try #require(text.firstIndex(of: "\n"))
            text = text[..<nl].uppercased() + text[nl...]
            if name == "PRESCRIPTIONS" || name == "DIAGNOSES_ICD" {
                let b = Array(text.utf8)
                #expect(lio_write_file_wrapper(dir + "/\(name).csv.gz", b))
            } else {
                DataTestSupport.write(text, to: dir + "/\(name).csv")
            }
        }
        let a = try DataPreparation.prepare(source: .mimic3, input: data + "/mimic3-demo", maps: data + "/medmaps",
                                            config: PrepareConfig())
        let b = try DataPreparation.prepare(source: .mimic3, input: dir, maps: data + "/medmaps", config: PrepareConfig())
        #expect(a.cohort.patients == b.cohort.patients)
        #expect(a.cohort.diagnoses == b.cohort.diagnoses)
        #expect(a.samples == b.samples && a.split == b.split)
    }
}

import CLeaderIO
func lio_write_file_wrapper(_ path: String, _ bytes: [UInt8]) -> Bool {
    lio_write_file(path, bytes, bytes.count, 6) == 0
}

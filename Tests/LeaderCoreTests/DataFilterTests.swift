import Foundation
import Testing
@testable import LeaderCore

@Suite struct DataFilterTests {
    typealias V = DataTestSupport.MiniVisit

    /// Patient 1: 13 visits (history truncation), patient 2: single visit, patient 3: a visit without procedures.
    static func cohort(_ cfg: PrepareConfig = PrepareConfig()) throws -> PreparedDataset {
        var p1: [V] = []
        for i in 0..<13 { p1.append(V(dx: ["D\(i % 3)", "D9"], px: ["P1"], drugs: ["A01A"])) }
        let p2 = [V(dx: ["D1"], px: ["P2"], drugs: ["B01A", "C01A"], insurance: "Private")]
        let p3 = [V(dx: ["D1"], px: [], drugs: ["B01A"]), V(dx: ["D2"], px: ["P1"], drugs: ["B01A"])]
        let (dir, maps) = DataTestSupport.writeMIMIC3([(1, p1), (2, p2), (3, p3)])
        return try DataPreparation.prepare(source: .mimic3, input: dir, maps: maps, config: cfg)
    }

    @Test func visitsNeedAllThreeCodeSetsUnlessConfigured() throws {
        let d = try Self.cohort()
        #expect(d.cohort.patients.map(\.visits.count) == [13, 1, 1])
        var cfg = PrepareConfig()
        cfg.requireAllCodeSets = false
        #expect(try Self.cohort(cfg).cohort.patients.map(\.visits.count) == [13, 1, 2])
        cfg = PrepareConfig()
        cfg.minVisits = 2
        #expect(try Self.cohort(cfg).cohort.patients.map(\.id) == [1])
    }

    @Test func historyKeepsTheMostRecentVisits() throws {
        let d = try Self.cohort()
        #expect(d.samples.count == 3)
        let s = d.samples[0]
        #expect(s.targetVisit == 12)
        #expect(s.historyStart == 2)     // visits 2...11: the 10 most recent, not the first 10
        #expect(s.historyCount == 10)
        #expect(d.samples[1] == Sample(patient: 1, targetVisit: 0, historyStart: 0))   // single visit kept
        var cfg = PrepareConfig()
        cfg.samplePerVisit = true
        cfg.maxHistory = 3
        let e = try Self.cohort(cfg)
        #expect(e.samples.count == 15)
        #expect(e.samples.prefix(5).map(\.historyStart) == [0, 0, 0, 0, 1])
        // Visits are in time order.
        let times = e.cohort.patients[0].visits.map(\.time)
        #expect(times == times.sorted())
    }

    @Test func topKRanksByFrequencyThenKey() throws {
        // D9 in 13 visits, D1 in 6, D0 in 5 (+0), D2 in 4 ... ties broken by key.
        var cfg = PrepareConfig()
        cfg.topDiagnoses = 2
        cfg.topMedications = 1
        cfg.requireAllCodeSets = false
        let d = try Self.cohort(cfg)
        #expect(d.cohort.diagnoses.keys == ["D9", "D1"])
        // Medications: A01A in 13 rows, B01A in 3 -> A01A only.
        #expect(d.cohort.medications.keys == ["A01A"])
        #expect(d.cohort.report.codesSeen["diagnosis"] == 4)
        // Tie: D0 and D2 both in 5/4? Count them and check key order among equals.
        cfg.topDiagnoses = nil
        let all = try Self.cohort(cfg).cohort.diagnoses.keys
        #expect(all == ["D9", "D1", "D0", "D2"])   // 13, 6, 5, 5 -> D0 before D2 by key
    }

    @Test func profileIsLabelEncodedWithUnknownFirst() throws {
        let d = try Self.cohort()
        let f = d.cohort.profile.fields
        #expect(f.map(\.name) == ["insurance", "language", "religion", "marital_status", "ethnicity", "gender", "age"])
        #expect(f[0].values == ["unknown", "Medicare", "Private"])
        #expect(f[0].encode("Private") == 2)
        #expect(f[0].encode("Never seen") == 0)
        #expect(f[0].encode("") == 0)
        #expect(f[6].values == ["unknown", "50-59"])
        let s = d.samples[1]
        #expect(d.profile(of: s)[0] == 2)
    }

    @Test func splitNeverSharesPatientsAndIsSeeded() {
        for n in [0, 1, 2, 7, 10, 1000] {
            let a = PatientSplit.assign(patientCount: n, trainFraction: 0.8, validationFraction: 0.1, sequential: false,
                                        seed: 7)
            let b = PatientSplit.assign(patientCount: n, trainFraction: 0.8, validationFraction: 0.1, sequential: false,
                                        seed: 7)
            #expect(a == b)
            #expect(a.count == n)
            #expect(a.filter { $0 == .train }.count == Int(Double(n) * 0.8))
            #expect(a.filter { $0 == .validation }.count == Int(Double(n) * 0.1))
        }
        let a = PatientSplit.assign(patientCount: 1000, trainFraction: 0.8, validationFraction: 0.1, sequential: false,
                                    seed: 7)
        let c = PatientSplit.assign(patientCount: 1000, trainFraction: 0.8, validationFraction: 0.1, sequential: false,
                                    seed: 8)
        #expect(a != c)
        // Sequential: LEADER's slicing of patients in id order.
        let s = PatientSplit.assign(patientCount: 10, trainFraction: 0.8, validationFraction: 0.1, sequential: true,
                                    seed: 7)
        #expect(s == [.train, .train, .train, .train, .train, .train, .train, .train, .validation, .test])
    }

    @Test func perVisitSamplesStayInTheirPatientsSplit() throws {
        var cfg = PrepareConfig()
        cfg.samplePerVisit = true
        let d = try Self.cohort(cfg)
        var partOf: [Int64: SplitPart] = [:]
        for s in d.samples {
            let p = d.cohort.patients[Int(s.patient)]
            let part = d.split[Int(s.patient)]
            if let old = partOf[p.id] { #expect(old == part) }
            partOf[p.id] = part
        }
        let total = SplitPart.allCases.reduce(0) { $0 + d.samples(in: $1).count }
        #expect(total == d.samples.count)
    }

    @Test func emptyCohortAfterFilteringIsAnError() throws {
        let (dir, maps) = DataTestSupport.writeMIMIC3([(1, [V(dx: ["D1"], px: [], drugs: ["A01A"])])])
        do {
            _ = try DataPreparation.prepare(source: .mimic3, input: dir, maps: maps, config: PrepareConfig())
            Issue.record("expected an error")
        } catch {
            guard case .invalidArgument(let m) = error else { Issue.record("wrong error \(error)"); return }
            #expect(m.contains("empty cohort after filtering"))
        }
    }

    @Test func configRejectsUnknownKeysAndBadValues() throws {
        let base = PrepareConfig.defaults(for: .mimic4)
        let c = try PrepareConfig.parse(json: #"{"topMedications": null, "split": "sequential"}"#, base: base)
        #expect(c.topMedications == nil && c.topProcedures == 1000 && c.split == "sequential")
        let unknown = expectError(.invalidArgument, "config: unknown key 'topMeds'") {
            try PrepareConfig.parse(json: #"{"topMeds": 3}"#, base: base)
        }
        #expect(unknown?.message.hasPrefix("config: unknown key 'topMeds'") == true)
        expectError(.invalidArgument, "config: split must be \"shuffle\" or \"sequential\", got \"random\"") { try PrepareConfig.parse(json: #"{"split": "random"}"#, base: base) }
        expectError(.invalidArgument, "config: topDiagnoses must be at least 1 or null (all), got 0") { try PrepareConfig.parse(json: #"{"topDiagnoses": 0}"#, base: base) }
        expectError(.invalidArgument, "config: not JSON top level") { try PrepareConfig.parse(json: "{", base: base) }
    }
}

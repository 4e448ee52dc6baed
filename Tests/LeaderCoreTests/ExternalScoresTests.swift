import Foundation
import Testing
@testable import LeaderCore

/// `SampleExport` (what bench/peers/ trains the PyHealth models on) and `ExternalScores` (how their scores come
/// back): the export matches the dataset sample by sample, and another tool's scores are scored exactly as the
/// same scores computed inside leader.
@Suite struct ExternalScoresTests {
    static func dataset(_ name: String) throws -> (String, StudentDataset) {
        let dir = tempPath("external-scores-\(name)")
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = try PrepareJob(source: "synthetic", input: nil, maps: nil, out: dir + "/c.ldata", config: PrepareConfig(),
                           patients: 150, seed: 5).run()
        return (dir, try StudentDataset(path: dir + "/c.ldata"))
    }

    struct Line: Decodable {
        struct Visit: Decodable { var diagnoses: [String], procedures: [String], medications: [String] }
        var id: String, split: String, visits: [Visit]
    }

    @Test func exportHoldsEverySampleWithItsVisitsAndTarget() throws {
        let (dir, ds) = try Self.dataset("export")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = ds.data
        let all = try SampleExport.jsonLines(d, part: nil)
        let lines = try all.split(separator: 0x0A).map { try JSONDecoder().decode(Line.self, from: Data($0)) }
        #expect(lines.count == d.samples.count)
        for part in SplitPart.allCases {
            let ids = try ds.sampleIDs(part)
            let rows = lines.filter { $0.split == part.name }
            #expect(rows.map(\.id) == ids)
            let ex = try ds.examples(part, maxVisits: 100)
            for (r, e) in zip(rows, ex) {
                #expect(r.visits.count == e.visitCount)
                let target = e.targetMedications.map { d.cohort.medications.keys[Int($0)] }
                #expect(r.visits.last?.medications == target)
            }
            let only = try SampleExport.jsonLines(d, part: part)
            #expect(only.split(separator: 0x0A).count == ids.count)
        }
        // The visit codes are the cohort's, oldest visit first.
        let s = d.samples[0]
        let v = d.cohort.patients[Int(s.patient)].visits[Int(s.historyStart)]
        #expect(lines[0].visits[0].diagnoses == v.diagnoses.map { d.cohort.diagnoses.keys[Int($0)] })
        #expect(lines[0].visits[0].procedures == v.procedures.map { d.cohort.procedures.keys[Int($0)] })
    }

    /// The frequency baseline's scores written as another tool's file give the baseline's own report.
    @Test func externalScoresEvaluateAsTheSameScoresInside() throws {
        let (dir, ds) = try Self.dataset("scores")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let keys = ds.medicationKeys
        let freq = Baseline.frequencies(try ds.examples(.train, maxVisits: 10), medications: keys.count)
        var text = ""
        for part in [SplitPart.validation, .test] {
            for id in try ds.sampleIDs(part) {
                // codes with zero frequency left out: they must score 0
                let pairs = zip(keys, freq).filter { $0.1 > 0 }.map { "\"\($0.0)\": \(Double($0.1))" }
                text += "{\"id\": \"\(id)\", \"scores\": {\(pairs.joined(separator: ", "))}}\n"
            }
        }
        let file = dir + "/freq.jsonl"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let ext = try EvaluateJob(data: dir + "/c.ldata", scores: file, ddi: "").run()
        let base = try EvaluateJob(data: dir + "/c.ldata", baseline: "frequency", ddi: "",
                                   threshold: ext.reports[0].threshold).run()
        #expect(ext.reports[0].all == base.reports[0].all)
        #expect(ext.reports[0].singleVisit == base.reports[0].singleVisit)

        // Error paths: each names the file and the line, never a value of the file.
        func fails(_ body: String, _ expected: String, kind: LeaderError.Kind = .badFile) throws {
            let bad = dir + "/bad.jsonl"
            try body.write(toFile: bad, atomically: true, encoding: .utf8)
            do {
                let e = try ExternalScores(path: bad, medicationKeys: keys)
                _ = try e.scored(ids: try ds.sampleIDs(.test), examples: try ds.examples(.test, maxVisits: 10),
                                 medications: keys.count)
                Issue.record("accepted: \(expected)")
            } catch {
                #expect(error.kind == kind && error.message.contains(bad) && error.message.contains(expected), "\(error)")
                #expect(!error.message.contains("ZZ9") && !error.message.contains("10001"), "\(error)")
            }
        }
        let id = try ds.sampleIDs(.test)[0]
        try fails("{\"id\": \"\(id)\", \"scores\": [1]}\n", "line 1: not an object")
        try fails("\n{\"id\": \"\(id)\", \"scores\": {\"ZZ9\": 0.5}}\n", "line 2: field scores")
        try fails("{\"id\": \"\(id)\", \"scores\": {\"\(keys[0])\": 1.5}}\n", "outside 0...1")
        try fails("{\"id\": \"10001:1\", \"scores\": {}}\n{\"id\": \"10001:1\", \"scores\": {}}\n", "line 2: field id")
        try fails("{\"id\": \"\(id)\", \"scores\": {}}\n", "have no line", kind: .incompatible)
    }
}

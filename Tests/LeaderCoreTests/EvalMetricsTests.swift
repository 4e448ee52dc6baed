import Foundation
import Testing
@testable import LeaderCore

@Suite struct EvalMetricsTests {
    func sample(_ scores: [Float], _ truth: [Int32], _ th: Float = 0.5) -> MedicationMetrics.Sample {
        scores.withUnsafeBufferPointer { MedicationMetrics.sample(scores: $0, truth: truth, threshold: th) }
    }

    @Test func handComputedMetrics() {
        // predicted {0,1,2}, truth {1,2,3}: ∩ 2, ∪ 4; P = 2/3, R = 2/3, F1 = 2/3.
        let m = sample([0.9, 0.8, 0.6, 0.1, 0.2], [1, 2, 3])
        #expect(abs(m.jaccard - 0.5) < 1e-12)
        #expect(abs(m.f1 - 2.0 / 3.0) < 1e-12)
        #expect(m.predicted == 3)
        // ranking 0(F) 1(T) 2(T) 4(F) 3(T): AP = 1/3·(1/2) + 1/3·(2/3) + 1/3·(3/5)
        #expect(abs(m.prauc - (0.5 + 2.0 / 3.0 + 0.6) / 3) < 1e-12)
        // nothing predicted: Jaccard 0, F1 0
        let z = sample([0.1, 0.2], [0])
        #expect(z.jaccard == 0 && z.f1 == 0 && z.predicted == 0)
        // perfect
        let p = sample([0.9, 0.1, 0.7], [0, 2])
        #expect(p.jaccard == 1 && p.f1 == 1 && p.prauc == 1)
        // threshold is inclusive (reference: >= threshold)
        #expect(sample([0.3, 0.1], [0], 0.3).predicted == 1)
    }

    @Test func tiesFormOneStep() {
        // all scores equal: one threshold, precision = 2/4, recall 1 → AP 0.5 (sklearn gives 0.5)
        #expect(abs(sample([0.5, 0.5, 0.5, 0.5], [0, 3]).prauc - 0.5) < 1e-12)
    }

    @Test func averagePrecisionMatchesScikitLearn() throws {
        struct Row: Decodable { let truth: [Int32]; let scores: [Float]; let ap: Double }
        let url = try #require(Bundle.module.url(forResource: "eval_average_precision", withExtension: "json",
                                                 subdirectory: "Fixtures"))
        let rows = try JSONDecoder().decode([Row].self, from: Data(contentsOf: url))
        #expect(rows.count == 40)
        for r in rows { #expect(abs(sample(r.scores, r.truth).prauc - r.ap) < 1e-9, "AP \(r.ap)") }
    }

    @Test func ddiRatePoolsPairs() {
        var d = DDIPairs()
        d.add(0, 1)
        d.add(2, 1)
        // sets {0,1,2}: pairs 01 (bad) 02 12 (bad); {0,3}: 03; {4}: none → 2 / 4
        #expect(MedicationMetrics.ddiRate(predictedSets: [[0, 1, 2], [0, 3], [4]], pairs: d) == 0.5)
        #expect(MedicationMetrics.ddiRate(predictedSets: [[4]], pairs: d) == 0)
        #expect(d.interact(1, 0) && !d.interact(0, 2))
    }

    @Test func ddiFileLoads() throws {
        let path = NSTemporaryDirectory() + "ddi-\(getpid()).csv"
        try "atc3_a,atc3_b\r\nA01A,B01A\r\nB01A,C01A\nZ99Z,A01A\r\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let ids = ["A01A": Int32(0), "B01A": 1, "C01A": 2]
        let d = try DDIPairs.load(path: path) { ids[$0] }
        #expect(d.count == 2 && d.skipped == 1 && d.interact(0, 1) && d.interact(2, 1) && !d.interact(0, 2))
        // quoted codes are read as the CSV reader reads them; a short row is an error naming file and line
        try "atc3_a,atc3_b\n\"A01A\",\"C01A\"\nB01A\n".write(toFile: path, atomically: true, encoding: .utf8)
        expectError(.badFile, "ddi-\(getpid()).csv: line 3: a DDI row has 1 columns, expected 2") {
            try DDIPairs.load(path: path) { ids[$0] }
        }
        try "atc3_a,atc3_b\n\"A01A\",\"C01A\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try DDIPairs.load(path: path) { ids[$0] }.interact(0, 2))
    }

    @Test func reportGroupsAndRounds() throws {
        // 3 samples, 2 meds: sample 0 single-visit perfect, 1 and 2 multi-visit with Jaccard 0 and 1/2.
        let s = try ScoredSamples(medications: 2, scores: [0.9, 0.1, 0.1, 0.9, 0.9, 0.9],
                                  truths: [[0], [0], [0]], visitCounts: [1, 2, 3])
        let r = try EvaluationReport.evaluate(s, recommender: "t", threshold: 0.5, ddi: nil, rounds: 10, fraction: 1)
        #expect(r.all.patients == 3 && r.singleVisit.patients == 1 && r.multiVisit.patients == 2)
        #expect(abs(r.all.jaccard.full - 0.5) < 1e-12)
        #expect(abs(r.all.jaccard.mean - 0.5) < 1e-12 && r.all.jaccard.std < 1e-12)  // fraction 1: every round equal
        #expect(abs(r.multiVisit.jaccard.full - 0.25) < 1e-12)
        #expect(abs(r.singleVisit.f1.full - 1) < 1e-12)
        #expect(abs(r.all.medications.full - 4.0 / 3.0) < 1e-12)
        let r8 = try EvaluationReport.evaluate(s, recommender: "t", threshold: 0.5, ddi: nil)
        #expect(r8.all.jaccard.std > 0)  // 80 % of 3 = 2 samples: subsets differ
        #expect(s.bestJaccardThreshold() <= 0.9)
    }

    @Test func baselines() throws {
        let train = [StudentExample(diagnoses: [[0]], procedures: [[0]], medications: [], profile: [], targetMedications: [0, 1]),
                     StudentExample(diagnoses: [[0]], procedures: [[0]], medications: [], profile: [], targetMedications: [0])]
        let f = Baseline.frequencies(train, medications: 3)
        #expect(f == [1, 0.5, 0])
        let test = [StudentExample(diagnoses: [[0], [1]], procedures: [[0], [1]], medications: [[2]], profile: [], targetMedications: [2]),
                    StudentExample(diagnoses: [[0]], procedures: [[0]], medications: [], profile: [], targetMedications: [0])]
        let c = try Baseline.copyPrevious.score(test, frequencies: f)
        #expect(c.predictedSet(0, threshold: 0.3) == [2])
        #expect(c.predictedSet(1, threshold: 0.3) == [0, 1])  // no history: frequency fallback
        let q = try Baseline.frequency.score(test, frequencies: f)
        #expect(q.predictedSet(0, threshold: 0.3) == [0, 1])
    }
}

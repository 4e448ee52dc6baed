/// Scores (N × |Med|, row-major) with the truth and visit count of every sample: what every recommender
/// (the student, a baseline) hands to the evaluation.
public struct ScoredSamples: Sendable {
    public var medications: Int
    public var scores: [Float]
    public var truths: [[Int32]]
    /// Visits of the sample including the current one (1 = single-visit patient).
    public var visitCounts: [Int]

    public init(medications: Int, scores: [Float], truths: [[Int32]], visitCounts: [Int]) throws(LeaderError) {
        guard truths.count == visitCounts.count,
              scores.count == (try Checked.product(truths.count, medications, "scores")) else {
            throw .invalidArgument("evaluation: \(scores.count) scores for \(truths.count) samples × \(medications) medications")
        }
        self.medications = medications
        self.scores = scores
        self.truths = truths
        self.visitCounts = visitCounts
    }

    public var count: Int { truths.count }

    /// Metrics of sample i at `threshold`.
    public func metrics(_ i: Int, threshold: Float) -> MedicationMetrics.Sample {
        scores.withUnsafeBufferPointer { all in
            MedicationMetrics.sample(scores: UnsafeBufferPointer(rebasing: all[(i * medications)..<((i + 1) * medications)]),
                                     truth: truths[i], threshold: threshold)
        }
    }

    public func predictedSet(_ i: Int, threshold: Float) -> [Int32] {
        (0..<medications).filter { scores[i * medications + $0] >= threshold }.map { Int32($0) }
    }

    /// Mean PRAUC (threshold-free): the early-stopping criterion.
    public func meanPRAUC() -> Double {
        guard count > 0 else { return 0 }
        return (0..<count).reduce(0.0) { $0 + metrics($1, threshold: 1).prauc } / Double(count)
    }

    /// The threshold in {0.05, 0.10, …, 0.95} with the best mean Jaccard (first best on ties).
    public func bestJaccardThreshold() -> Float {
        var best: (Float, Double) = (0.3, -1)
        for k in 1...19 {
            let th = Float(k) * 0.05
            let j = (0..<count).reduce(0.0) { $0 + metrics($1, threshold: th).jaccard } / Double(max(count, 1))
            if j > best.1 { best = (th, j) }
        }
        return best.0
    }
}

/// A metric as mean ± population standard deviation over the evaluation rounds, plus its full-set value.
public struct MeanStd: Codable, Equatable, Sendable {
    public var mean: Double
    public var std: Double
    public var full: Double
}

public struct GroupReport: Codable, Equatable, Sendable {
    public var patients: Int
    public var jaccard: MeanStd
    public var f1: MeanStd
    public var prauc: MeanStd
    public var medications: MeanStd
    /// Pooled DDI rate of the predicted sets; nil without a DDI file.
    public var ddi: MeanStd?
}

/// Evaluation of one recommender: all / single-visit / multi-visit test patients, `rounds` random subsets of
/// `fraction` of each group (seeded) for mean ± std, and the full-group values.
public struct EvaluationReport: Codable, Equatable, Sendable {
    public var recommender: String
    public var threshold: Float
    public var rounds: Int
    public var fraction: Double
    public var all: GroupReport
    public var singleVisit: GroupReport
    public var multiVisit: GroupReport
    /// The samples `evaluate` was given as the rare-code group (nil when none was given).
    public var rareCode: GroupReport?

    /// `rare`: indices of a further group to report (the pipeline's patients with a code rare in training).
    public static func evaluate(_ s: ScoredSamples, recommender: String, threshold: Float, ddi: DDIPairs?,
                                rounds: Int = 10, fraction: Double = 0.8, seed: UInt64 = 42,
                                rare: [Int]? = nil) throws(LeaderError) -> EvaluationReport
    {
        guard rounds >= 1, fraction > 0, fraction <= 1 else {
            throw .invalidArgument("evaluation: rounds must be >= 1 and fraction in (0,1]")
        }
        let per = (0..<s.count).map { s.metrics($0, threshold: threshold) }
        let sets = ddi == nil ? [] : (0..<s.count).map { s.predictedSet($0, threshold: threshold) }
        var rng = SplitMix64(seed: seed)
        func group(_ idx: [Int]) -> GroupReport {
            func stat(_ f: ([Int]) -> Double, _ subsets: [[Int]]) -> MeanStd {
                let v = subsets.map(f)
                let m = v.reduce(0, +) / Double(max(v.count, 1))
                let sd = (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(v.count, 1))).squareRoot()
                return MeanStd(mean: m, std: sd, full: f(idx))
            }
            let k = max(1, Int(Double(idx.count) * fraction))
            var subsets: [[Int]] = []
            for _ in 0..<rounds {
                var a = idx
                a.seededShuffle(using: &rng)
                subsets.append(Array(a.prefix(k)))
            }
            func mean(_ key: KeyPath<MedicationMetrics.Sample, Double>) -> ([Int]) -> Double {
                { sub in sub.isEmpty ? 0 : sub.reduce(0.0) { $0 + per[$1][keyPath: key] } / Double(sub.count) }
            }
            let meds: ([Int]) -> Double = { sub in
                sub.isEmpty ? 0 : Double(sub.reduce(0) { $0 + per[$1].predicted }) / Double(sub.count)
            }
            var ddiStat: MeanStd?
            if let ddi { ddiStat = stat({ sub in MedicationMetrics.ddiRate(predictedSets: sub.map { sets[$0] }, pairs: ddi) }, subsets) }
            return GroupReport(patients: idx.count, jaccard: stat(mean(\.jaccard), subsets), f1: stat(mean(\.f1), subsets),
                               prauc: stat(mean(\.prauc), subsets), medications: stat(meds, subsets), ddi: ddiStat)
        }
        let all = Array(0..<s.count)
        if let rare, let bad = rare.first(where: { $0 < 0 || $0 >= s.count }) {
            throw .invalidArgument("evaluation: rare-code group index \(bad) outside \(s.count) samples")
        }
        return EvaluationReport(recommender: recommender, threshold: threshold, rounds: rounds, fraction: fraction,
                                all: group(all), singleVisit: group(all.filter { s.visitCounts[$0] == 1 }),
                                multiVisit: group(all.filter { s.visitCounts[$0] > 1 }), rareCode: rare.map(group))
    }
}

import CLeaderKernels

extension TeacherModel {
    /// Runs the model (eval mode, whole decoder) over `examples` in batches of similar length and calls `each`
    /// with the example indices of a batch, the pooled final-norm hidden states (B,C) and the medication
    /// logits (B,|Med|) (views valid during the call).
    public func predict(_ examples: [TeacherExample], batchSize: Int, threads: Int,
                        each: ([Int], Tensor, Tensor) throws(LeaderError) -> Void) throws(LeaderError) {
        guard batchSize >= 1 else { throw .invalidArgument("batch size must be >= 1") }
        let ctx = try Context(threads: threads)
        let order = examples.indices.sorted { examples[$0].tokens.count < examples[$1].tokens.count }
        for start in stride(from: 0, to: order.count, by: batchSize) {
            let idx = Array(order[start..<min(order.count, start + batchSize)])
            let batch = try TeacherBatch(sequences: idx.map { examples[$0].tokens })
            let (h, l) = try forward(batch, ctx)
            try each(idx, h, l)
        }
    }
}

/// Set metrics of medication predictions as LEADER reports them (per sample, then averaged).
public struct MedicationMetrics: Codable, Equatable, Sendable {
    public var jaccard: Double
    public var f1: Double
    public var precision: Double
    public var recall: Double
    public var averageMedications: Double
    public var samples: Int

    /// Mean per-sample Jaccard, F1, precision, recall (an empty prediction and empty truth count as 1 for
    /// Jaccard and 0 for F1, as LEADER's code does) and the mean predicted set size.
    public static func compute(predicted: [Set<Int>], truth: [Set<Int>]) -> MedicationMetrics {
        var j = 0.0, f = 0.0, p = 0.0, r = 0.0, n = 0.0
        for (a, b) in zip(predicted, truth) {
            let inter = Double(a.intersection(b).count), uni = Double(a.union(b).count)
            j += uni == 0 ? 1 : inter / uni
            let prec = a.isEmpty ? 0 : inter / Double(a.count), rec = b.isEmpty ? 0 : inter / Double(b.count)
            p += prec
            r += rec
            f += prec + rec == 0 ? 0 : 2 * prec * rec / (prec + rec)
            n += Double(a.count)
        }
        let c = Double(max(1, min(predicted.count, truth.count)))
        return MedicationMetrics(jaccard: j / c, f1: f / c, precision: p / c, recall: r / c, averageMedications: n / c,
                                 samples: min(predicted.count, truth.count))
    }

    /// The frequency baseline: every sample gets the K most frequent training medications, K = the rounded
    /// mean training set size.
    public static func frequencyBaseline(train: [[Int]], medications: Int) -> Set<Int> {
        var count = [Int](repeating: 0, count: max(medications, 0))
        var total = 0
        for s in train { for m in s where m >= 0 && m < medications { count[m] += 1 }; total += s.count }
        let k = train.isEmpty ? 0 : Int((Double(total) / Double(train.count)).rounded())
        let top = count.indices.sorted { (count[$0], $1) > (count[$1], $0) }.prefix(k)
        return Set(top)
    }
}

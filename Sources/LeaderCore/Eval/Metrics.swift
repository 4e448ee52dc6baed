/// Per-sample medication-recommendation metrics (leader-method.md §6). Inputs are one score row over the
/// medication vocabulary and the true medication ids of the sample.
public enum MedicationMetrics {
    /// One sample's metrics at a threshold: predicted = {m : score[m] ≥ threshold} (the reference's
    /// `y_pred_prob >= threshold`).
    public struct Sample: Equatable, Sendable {
        public var jaccard: Double
        public var f1: Double
        public var prauc: Double
        public var predicted: Int
    }

    /// Jaccard |P∩T|/|P∪T| (0 when both are empty), F1 from per-sample precision and recall (0 when nothing
    /// is predicted or nothing matches), PRAUC = average precision, and |P|.
    public static func sample(scores: UnsafeBufferPointer<Float>, truth: [Int32], threshold: Float) -> Sample {
        let n = scores.count
        var isTrue = [Bool](repeating: false, count: n)
        var t = 0
        for c in truth where c >= 0 && Int(c) < n && !isTrue[Int(c)] { isTrue[Int(c)] = true; t += 1 }
        var p = 0, inter = 0
        for i in 0..<n where scores[i] >= threshold {
            p += 1
            if isTrue[i] { inter += 1 }
        }
        let union = p + t - inter
        let jac = union == 0 ? 0 : Double(inter) / Double(union)
        let prec = p == 0 ? 0 : Double(inter) / Double(p)
        let rec = t == 0 ? 0 : Double(inter) / Double(t)
        let f1 = prec + rec == 0 ? 0 : 2 * prec * rec / (prec + rec)
        return Sample(jaccard: jac, f1: f1, prauc: averagePrecision(scores: scores, isTrue: isTrue, positives: t),
                      predicted: p)
    }

    /// scikit-learn's `average_precision_score(y_true, y_score)` for one row: Σₙ (Rₙ − Rₙ₋₁)·Pₙ over the
    /// distinct score thresholds in descending order (tied scores form one step). 0 without positives.
    public static func averagePrecision(scores: UnsafeBufferPointer<Float>, isTrue: [Bool], positives: Int) -> Double {
        guard positives > 0 else { return 0 }
        let order = (0..<scores.count).sorted { scores[$0] > scores[$1] }
        var tp = 0, fp = 0, ap = 0.0, prevRecall = 0.0
        var i = 0
        while i < order.count {
            let s = scores[order[i]]
            while i < order.count && scores[order[i]] == s {
                if isTrue[order[i]] { tp += 1 } else { fp += 1 }
                i += 1
            }
            let recall = Double(tp) / Double(positives)
            ap += (recall - prevRecall) * Double(tp) / Double(tp + fp)
            prevRecall = recall
        }
        return ap
    }

    /// DDI rate of predicted sets pooled: (pairs i<j in a set that interact) / (all pairs); 0 without pairs.
    public static func ddiRate(predictedSets: [[Int32]], pairs: DDIPairs) -> Double {
        var all = 0, bad = 0
        for set in predictedSets where set.count > 1 {
            for a in 0..<(set.count - 1) {
                for b in (a + 1)..<set.count {
                    all += 1
                    if pairs.interact(set[a], set[b]) { bad += 1 }
                }
            }
        }
        return all == 0 ? 0 : Double(bad) / Double(all)
    }
}

/// Interacting medication pairs over a medication vocabulary (symmetric).
public struct DDIPairs: Sendable {
    private var pairs: Set<UInt64> = []
    public private(set) var count = 0
    /// Pairs whose codes are not in the vocabulary (ignored).
    public private(set) var skipped = 0

    public init() {}

    public mutating func add(_ a: Int32, _ b: Int32) {
        guard a != b else { return }
        if pairs.insert(Self.key(a, b)).inserted { count += 1 }
    }

    public func interact(_ a: Int32, _ b: Int32) -> Bool { pairs.contains(Self.key(a, b)) }

    /// For each medication id below `medications`, the ids it interacts with (sorted; pairs naming an id outside
    /// the range are left out).
    public func neighbours(medications: Int) -> [[Int32]] {
        var out = [[Int32]](repeating: [], count: max(0, medications))
        for k in pairs {
            let a = Int(Int32(bitPattern: UInt32(truncatingIfNeeded: k >> 32))), b = Int(Int32(bitPattern: UInt32(truncatingIfNeeded: k)))
            guard a >= 0, b >= 0, a < medications, b < medications else { continue }
            out[a].append(Int32(b))
            out[b].append(Int32(a))
        }
        return out.map { $0.sorted() }
    }

    private static func key(_ a: Int32, _ b: Int32) -> UInt64 {
        let lo = UInt32(bitPattern: min(a, b)), hi = UInt32(bitPattern: max(a, b))
        return UInt64(lo) << 32 | UInt64(hi)
    }

    /// Reads a two-column CSV of code pairs with a header (`atc3_a,atc3_b`) and maps codes through `idOf`; pairs
    /// with a code `idOf` does not know are counted in `skipped`.
    public static func load(path: String, idOf: (String) -> Int32?) throws(LeaderError) -> DDIPairs {
        let r = try CSVReader(path: path)
        var d = DDIPairs()
        try r.forEachRow { (row: CSVRow) throws(LeaderError) in
            guard row.count >= 2 else {
                throw .badFile("\(path): line \(row.line): a DDI row has \(row.count) columns, expected 2")
            }
            if let a = idOf(row.trimmed(0)), let b = idOf(row.trimmed(1)) { d.add(a, b) } else { d.skipped += 1 }
        }
        return d
    }
}

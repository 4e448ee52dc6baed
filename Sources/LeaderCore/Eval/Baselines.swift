/// Trivial recommenders evaluated by the same code as the student.
public enum Baseline: String, CaseIterable, Sendable {
    /// Score = training frequency of each medication (fraction of training targets containing it).
    case frequency
    /// Score 1 for the medications of the previous visit, 0.25 × frequency for the others (so the default
    /// threshold predicts exactly the previous set while PRAUC still ranks the rest by frequency); patients
    /// without a previous visit fall back to the frequency scores.
    case copyPrevious = "copy-previous"

    /// Training frequency of every medication over `train` examples' targets.
    public static func frequencies(_ train: [StudentExample], medications: Int) -> [Float] {
        frequencies(targets: train.map(\.targetMedications), medications: medications)
    }

    /// Fraction of `targets` (one medication-id list per training sample) that contain each medication.
    public static func frequencies<C: Collection>(targets: [C], medications: Int) -> [Float]
        where C.Element: BinaryInteger
    {
        var f = [Float](repeating: 0, count: max(medications, 0))
        for t in targets { for m in Set(t.map { Int($0) }) where m >= 0 && m < medications { f[m] += 1 } }
        let n = Float(max(targets.count, 1))
        return f.map { $0 / n }
    }

    public func score(_ examples: [StudentExample], frequencies: [Float]) throws(LeaderError) -> ScoredSamples {
        let m = frequencies.count
        var scores = [Float]()
        scores.reserveCapacity(try Checked.product(examples.count, m, "baseline scores"))
        for e in examples {
            switch self {
            case .frequency:
                scores += frequencies
            case .copyPrevious:
                if let last = e.medications.last {
                    var row = frequencies.map { 0.25 * $0 }
                    for c in last where c >= 0 && Int(c) < m { row[Int(c)] = 1 }
                    scores += row
                } else {
                    scores += frequencies
                }
            }
        }
        return try ScoredSamples(medications: m, scores: scores, truths: examples.map(\.targetMedications),
                                 visitCounts: examples.map(\.visitCount))
    }
}

/// DDI-aware recommendation (the paper leaves drug–drug interaction safety as future work): from medications
/// ranked best first, keep each one unless it interacts with one already kept — of an interacting pair, the
/// lower-scored drug is dropped. Used by serving sessions with a DDI file and by the evaluation's filtered report.
extension DDIPairs {
    /// The ranked list without the lower-scored member of every interacting pair (greedy, best first).
    public func keepSafe(_ ranked: [(id: Int32, score: Float)]) -> [(id: Int32, score: Float)] {
        var kept: [(id: Int32, score: Float)] = []
        kept.reserveCapacity(ranked.count)
        for r in ranked where !kept.contains(where: { interact($0.id, r.id) }) { kept.append(r) }
        return kept
    }

    /// `s` with every medication the filter drops at `threshold` scored 0 (per sample: the recommended set
    /// is filtered, everything else keeps its score).
    public func filtered(_ s: ScoredSamples, threshold: Float) throws(LeaderError) -> ScoredSamples {
        var scores = s.scores
        let m = s.medications
        for i in 0..<s.truths.count {
            var ranked: [(id: Int32, score: Float)] = []
            for j in 0..<m where scores[i * m + j] >= threshold { ranked.append((Int32(j), scores[i * m + j])) }
            ranked.sort { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
            let kept = Set(keepSafe(ranked).map(\.id))
            for r in ranked where !kept.contains(r.id) { scores[i * m + Int(r.id)] = 0 }
        }
        return try ScoredSamples(medications: m, scores: scores, truths: s.truths, visitCounts: s.visitCounts)
    }
}

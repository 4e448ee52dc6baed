import Testing

/// Element-wise comparison of a result against a reference with a mixed bound: every element must satisfy
/// `|got − want| ≤ atol + rtol·|want|`. Unlike a bound relative to `max(1, |want|)`, this one holds small entries
/// to `atol`, so it is sized per fixture (from the reference's own scale) rather than fixed.
struct Closeness {
    /// Elements over the bound (index, got, want), at most `limit` of them, and the worst ratio
    /// `|got − want| / (atol + rtol·|want|)` over all elements (≤ 1 means within the bound).
    struct Report {
        var failures: [(index: Int, got: Double, want: Double)] = []
        var failureCount = 0
        var worstRatio = 0.0
        var countMismatch: (got: Int, want: Int)?
        var passed: Bool { failureCount == 0 && countMismatch == nil }
    }

    let atol: Double
    let rtol: Double

    func compare<A: BinaryFloatingPoint, B: BinaryFloatingPoint>(_ got: [A], _ want: [B], limit: Int = 5) -> Report {
        var r = Report()
        guard got.count == want.count else { r.countMismatch = (got.count, want.count); return r }
        for i in got.indices {
            let g = Double(got[i]), w = Double(want[i])
            let bound = atol + rtol * abs(w)
            let diff = abs(g - w)
            let ratio = diff / bound
            if !(diff <= bound) {   // NaN fails
                r.failureCount += 1
                if r.failures.count < limit { r.failures.append((i, g, w)) }
            }
            r.worstRatio = max(r.worstRatio, ratio.isNaN ? .infinity : ratio)
        }
        return r
    }

    /// Records an issue naming `what` and the first elements over the bound; returns the report.
    @discardableResult
    func expect<A: BinaryFloatingPoint, B: BinaryFloatingPoint>(_ got: [A], _ want: [B], _ what: @autoclosure () -> String,
                                                                sourceLocation: SourceLocation = #_sourceLocation) -> Report {
        let r = compare(got, want)
        if let m = r.countMismatch {
            Issue.record("\(what()): \(m.got) values, want \(m.want)", sourceLocation: sourceLocation)
        } else if r.failureCount > 0 {
            let shown = r.failures.map { "[\($0.index)] \($0.got) vs \($0.want)" }.joined(separator: ", ")
            Issue.record("\(what()): \(r.failureCount) of \(got.count) values over \(atol) + \(rtol)·|want|: \(shown)",
                         sourceLocation: sourceLocation)
        }
        return r
    }

    /// The largest |value| of a reference (the scale an absolute tolerance is sized from).
    static func scale<B: BinaryFloatingPoint>(_ values: [B]) -> Double {
        values.reduce(0.0) { max($0, abs(Double($1))) }
    }

    /// A bound whose absolute part is `atol` times the reference's scale (at least `minScale`): float32
    /// accumulation error grows with the largest terms, so a gradient's bound is sized from its largest entry.
    static func scaled<B: BinaryFloatingPoint>(to want: [B], atol: Double, rtol: Double, minScale: Double = 0) -> Closeness {
        Closeness(atol: atol * max(scale(want), minScale), rtol: rtol)
    }
}

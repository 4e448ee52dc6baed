/// Plots of an evaluation (`leader eval --plot DIR`): the micro-averaged precision–recall curve of a
/// recommender's scores and Jaccard / PRAUC by number of visits of the test patient.
public enum EvaluationPlots {
    /// The micro-averaged precision–recall curve: all (patient, medication) scores pooled, one point per
    /// distinct score in descending order (ties form one step, as scikit-learn's `precision_recall_curve`),
    /// and its average precision (scikit-learn's `average_precision_score` on the flattened matrix).
    public struct PRCurve: Equatable, Sendable {
        public var recall: [Double]
        public var precision: [Double]
        public var averagePrecision: Double
        /// Positives / all (patient, medication) pairs: the precision of a random ranking.
        public var prevalence: Double
    }

    public static func precisionRecall(_ s: ScoredSamples) -> PRCurve {
        let m = s.medications
        var isTrue = [Bool](repeating: false, count: s.scores.count)
        var positives = 0
        for (i, t) in s.truths.enumerated() {
            for c in t where c >= 0 && Int(c) < m && !isTrue[i * m + Int(c)] {
                isTrue[i * m + Int(c)] = true
                positives += 1
            }
        }
        let ap = s.scores.withUnsafeBufferPointer {
            MedicationMetrics.averagePrecision(scores: $0, isTrue: isTrue, positives: positives)
        }
        var curve = PRCurve(recall: [], precision: [], averagePrecision: ap,
                            prevalence: s.scores.isEmpty ? 0 : Double(positives) / Double(s.scores.count))
        guard positives > 0 else { return curve }
        let order = s.scores.indices.sorted { s.scores[$0] > s.scores[$1] }
        var tp = 0, fp = 0, i = 0
        while i < order.count {
            let v = s.scores[order[i]]
            while i < order.count && s.scores[order[i]] == v {
                if isTrue[order[i]] { tp += 1 } else { fp += 1 }
                i += 1
            }
            curve.recall.append(Double(tp) / Double(positives))
            curve.precision.append(Double(tp) / Double(tp + fp))
        }
        return curve
    }

    /// At most `limit` (≥ 2) of `n` indices, evenly spaced, always the first and the last.
    public static func thin(_ n: Int, limit: Int) -> [Int] {
        guard n > limit, limit >= 2 else { return Array(0..<n) }
        var out: [Int] = []
        for k in 0..<limit {
            let i = Int((Double(k) * Double(n - 1) / Double(limit - 1)).rounded())
            if out.last != i { out.append(i) }
        }
        return out
    }

    /// Points drawn per curve at most (longer curves are thinned evenly; the AP is of the full curve).
    public static let maxCurvePoints = 400

    public static func precisionRecallSVG(_ s: ScoredSamples, recommender: String) -> String {
        let c = precisionRecall(s)
        var svg = SVG(width: 640, height: 480)
        let p = ChartPanel(left: 80, top: 50, width: 520, height: 360, xRange: 0...1, yRange: 0...1)
        let t = ChartPanel.ticks(0, 1)
        p.drawAxes(&svg, title: "Precision–recall, micro-averaged (\(s.count) test patients)", xLabel: "recall",
                   yLabel: "precision", xTicks: t, yTicks: t)
        var legend: [(name: String, color: String)] = []
        if c.recall.isEmpty {
            svg.text("no positive labels", x: p.left + p.width / 2, y: p.top + p.height / 2, size: 14)
        } else {
            let idx = thin(c.recall.count, limit: maxCurvePoints)
            svg.polyline(idx.map { (p.px(c.recall[$0]), p.py(c.precision[$0])) }, name: recommender,
                         color: ChartPanel.palette[0])
            legend.append(("\(recommender) (AP \(SVG.number(c.averagePrecision, decimals: 3)))", ChartPanel.palette[0]))
            svg.polyline([(p.px(0), p.py(c.prevalence)), (p.px(1), p.py(c.prevalence))], name: "chance",
                         color: "#888", width: 1, dash: "5,4")
            legend.append(("chance (prevalence \(SVG.number(c.prevalence, decimals: 3)))", "#888"))
        }
        p.drawLegend(&svg, legend)
        return svg.render()
    }

    /// Mean Jaccard (at `threshold`) and PRAUC of the samples with 1, 2, 3, 4 and 5+ visits (the current one
    /// included).
    public struct VisitGroup: Equatable, Sendable {
        public var label: String
        public var count: Int
        public var jaccard: Double
        public var prauc: Double
    }

    public static func byVisits(_ s: ScoredSamples, threshold: Float) -> [VisitGroup] {
        var g = (1...5).map { VisitGroup(label: $0 == 5 ? "5+" : String($0), count: 0, jaccard: 0, prauc: 0) }
        for i in 0..<s.count {
            let b = min(5, max(1, s.visitCounts[i])) - 1
            let r = s.metrics(i, threshold: threshold)
            g[b].count += 1
            g[b].jaccard += r.jaccard
            g[b].prauc += r.prauc
        }
        for b in g.indices where g[b].count > 0 {
            g[b].jaccard /= Double(g[b].count)
            g[b].prauc /= Double(g[b].count)
        }
        return g
    }

    public static func byVisitsSVG(_ s: ScoredSamples, recommender: String, threshold: Float) -> String {
        let groups = byVisits(s, threshold: threshold)
        var svg = SVG(width: 640, height: 480)
        let p = ChartPanel(left: 80, top: 50, width: 520, height: 340, xRange: 0...Double(groups.count), yRange: 0...1)
        p.drawAxes(&svg, title: "\(recommender): Jaccard (threshold \(SVG.number(Double(threshold)))) and PRAUC by visits",
                   xLabel: "", yLabel: "mean per test patient", xTicks: [], yTicks: ChartPanel.ticks(0, 1))
        svg.text("visits of the test patient (current one included); n = patients", x: p.left + p.width / 2,
                 y: p.top + p.height + 52, size: 12)
        let slot = p.width / Double(groups.count), bar = slot * 0.32
        let colors = [ChartPanel.palette[0], ChartPanel.palette[1]]
        for (k, g) in groups.enumerated() {
            let x0 = p.left + slot * Double(k) + slot / 2 - bar
            for (j, v) in [g.jaccard, g.prauc].enumerated() {
                let x = x0 + bar * Double(j)
                if g.count > 0 {
                    svg.rect(x, p.py(v), bar, p.py(0) - p.py(v), fill: colors[j])
                    svg.text(SVG.number(v), x: x + bar / 2, y: p.py(v) - 4, size: 10)
                }
            }
            let cx = p.left + slot * (Double(k) + 0.5)
            svg.text(g.label, x: cx, y: p.top + p.height + 16, size: 12)
            svg.text("n = \(g.count)", x: cx, y: p.top + p.height + 30, size: 10, color: "#555")
        }
        p.drawLegend(&svg, [("Jaccard", colors[0]), ("PRAUC", colors[1])])
        return svg.render()
    }
}

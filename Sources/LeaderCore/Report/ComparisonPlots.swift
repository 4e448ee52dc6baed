/// Plots that put several recommenders (or training runs) in one figure: the pipeline report's PR curves,
/// Jaccard by number of visits, and training curves of the teacher and the students.
public enum ComparisonPlots {
    /// Colour and dash of series `k`: the palette first solid, then dashed.
    static func style(_ k: Int) -> (color: String, dash: String?) {
        let p = ChartPanel.palette
        return (p[k % p.count], k < p.count ? nil : "6,4")
    }

    /// Micro-averaged precision–recall curves of every system on the same test samples, AP in the legend.
    public static func precisionRecallSVG(_ systems: [(name: String, scores: ScoredSamples)]) -> String {
        var svg = SVG(width: 760, height: 520)
        let p = ChartPanel(left: 80, top: 50, width: 640, height: 400, xRange: 0...1, yRange: 0...1)
        let t = ChartPanel.ticks(0, 1)
        let n = systems.first?.scores.count ?? 0
        p.drawAxes(&svg, title: "Precision–recall, micro-averaged (\(n) test patients)", xLabel: "recall",
                   yLabel: "precision", xTicks: t, yTicks: t)
        var legend: [(name: String, color: String)] = []
        for (k, s) in systems.enumerated() {
            let c = EvaluationPlots.precisionRecall(s.scores)
            guard !c.recall.isEmpty else { continue }
            let st = style(k)
            let idx = EvaluationPlots.thin(c.recall.count, limit: EvaluationPlots.maxCurvePoints)
            svg.polyline(idx.map { (p.px(c.recall[$0]), p.py(c.precision[$0])) }, name: s.name, color: st.color,
                         dash: st.dash)
            legend.append(("\(s.name) (AP \(SVG.number(c.averagePrecision, decimals: 3)))", st.color))
        }
        if legend.isEmpty { svg.text("no positive labels", x: p.left + p.width / 2, y: p.top + p.height / 2, size: 14) }
        p.drawLegend(&svg, legend)
        return svg.render()
    }

    /// Mean Jaccard (each system at its own threshold) of the test patients with 1, 2, 3, 4, 5+ visits.
    public static func jaccardByVisitsSVG(_ systems: [(name: String, scores: ScoredSamples, threshold: Float)]) -> String {
        var svg = SVG(width: 760, height: 500)
        let groups = systems.map { EvaluationPlots.byVisits($0.scores, threshold: $0.threshold) }
        let labels = groups.first?.map { "\($0.label) (n = \($0.count))" } ?? []
        let values = groups.flatMap { $0.filter { $0.count > 0 }.map(\.jaccard) }
        let y = ChartPanel.upperRange(values)
        let p = ChartPanel(left: 80, top: 50, width: 640, height: 370, xRange: 0...Double(max(labels.count - 1, 1)),
                           yRange: y)
        p.drawAxes(&svg, title: "Jaccard by number of visits of the test patient", xLabel: "visits (current one included)",
                   yLabel: "mean Jaccard", xTicks: labels.indices.map(Double.init),
                   yTicks: ChartPanel.ticks(y.lowerBound, y.upperBound),
                   xTickLabel: { t in labels.indices.contains(Int(t)) ? labels[Int(t)] : "" })
        var legend: [(name: String, color: String)] = []
        for (k, g) in groups.enumerated() {
            let st = style(k)
            let pts = g.enumerated().filter { $0.element.count > 0 }.map { (p.px(Double($0.offset)), p.py($0.element.jaccard)) }
            svg.polyline(pts, name: systems[k].name, color: st.color, dash: st.dash)
            for (x, yy) in pts { svg.circle(x, yy, r: 3, fill: st.color) }
            legend.append((systems[k].name, st.color))
        }
        p.drawLegend(&svg, legend, corner: "bottom-right")
        return svg.render()
    }

    /// Left: the teacher's training loss per optimiser step; right: each student run's validation PRAUC per
    /// epoch.
    public static func trainingCurvesSVG(teacher: [Double], students: [(name: String, prauc: [Double])]) -> String {
        var svg = SVG(width: 1000, height: 440)
        let steps = Double(max(teacher.count, 2))
        let yl = ChartPanel.upperRange(teacher)
        let left = ChartPanel(left: 80, top: 50, width: 380, height: 310, xRange: 1...steps, yRange: yl)
        left.drawAxes(&svg, title: "Teacher: training loss per step", xLabel: "optimiser step", yLabel: "BCE",
                      xTicks: ChartPanel.ticks(1, steps, target: 6, minStep: 1),
                      yTicks: ChartPanel.ticks(yl.lowerBound, yl.upperBound))
        if teacher.isEmpty {
            svg.text("no teacher in this run", x: left.left + left.width / 2, y: left.top + left.height / 2, size: 13)
        } else {
            TrainingPlots.draw(&svg, left, teacher.enumerated().map { (Double($0.offset + 1), $0.element) }, name: "teacher loss",
                               color: ChartPanel.palette[0])
        }
        let epochs = Double(max(students.map(\.prauc.count).max() ?? 2, 2))
        let all = students.flatMap(\.prauc)
        let lo = max(0, ((all.min() ?? 0) * 10).rounded(.down) / 10), hi = min(1, ((all.max() ?? 1) * 10).rounded(.up) / 10)
        let right = ChartPanel(left: 580, top: 50, width: 380, height: 310, xRange: 1...epochs, yRange: lo...max(hi, lo + 0.1))
        right.drawAxes(&svg, title: "Students: validation PRAUC per epoch", xLabel: "epoch", yLabel: "mean PRAUC",
                       xTicks: ChartPanel.ticks(1, epochs, target: 6, minStep: 1),
                       yTicks: ChartPanel.ticks(right.yRange.lowerBound, right.yRange.upperBound))
        var legend: [(name: String, color: String)] = []
        for (k, s) in students.enumerated() {
            let st = style(k + 1)
            TrainingPlots.draw(&svg, right, s.prauc.enumerated().map { (Double($0.offset + 1), $0.element) }, name: s.name,
                               color: st.color)
            legend.append((s.name, st.color))
        }
        right.drawLegend(&svg, legend, corner: "bottom-right")
        return svg.render()
    }
}

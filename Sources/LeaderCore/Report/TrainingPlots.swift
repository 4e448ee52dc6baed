/// The training-curve plot of `leader student train --plot DIR`: training loss per epoch (total, and the
/// BCE and distillation terms when distilling) beside validation PRAUC per epoch, the best epoch marked.
public enum TrainingPlots {
    public static func trainingSVG(_ history: [StudentEpochSummary], alpha: Float) -> String {
        var svg = SVG(width: 1000, height: 440)
        let epochs = history.map { Double($0.epoch) }
        let lo = epochs.min() ?? 1, hi = max(epochs.max() ?? 1, lo + 1)
        let xTicks = ChartPanel.ticks(lo, hi, target: 6, minStep: 1)
        let distills = history.contains { $0.distill != 0 }

        var series: [(name: String, values: [Double])] = [("total loss", history.map(\.loss))]
        if distills {
            series.append(("BCE", history.map(\.bce)))
            series.append(("α·distill (α = \(SVG.number(Double(alpha))))", history.map { Double(alpha) * $0.distill }))
        }
        let yLoss = ChartPanel.upperRange(series.flatMap(\.values))
        let left = ChartPanel(left: 80, top: 50, width: 380, height: 310, xRange: lo...hi, yRange: yLoss)
        left.drawAxes(&svg, title: "Training loss per epoch", xLabel: "epoch", yLabel: "mean loss over the epoch",
                      xTicks: xTicks, yTicks: ChartPanel.ticks(yLoss.lowerBound, yLoss.upperBound))
        var legend: [(name: String, color: String)] = []
        for (k, s) in series.enumerated() {
            let color = ChartPanel.palette[k % ChartPanel.palette.count]
            draw(&svg, left, zip(epochs, s.values).map { ($0, $1) }, name: s.name, color: color)
            legend.append((s.name, color))
        }
        left.drawLegend(&svg, legend)

        let right = ChartPanel(left: 580, top: 50, width: 380, height: 310, xRange: lo...hi, yRange: 0...1)
        right.drawAxes(&svg, title: "Validation PRAUC per epoch", xLabel: "epoch", yLabel: "mean PRAUC",
                       xTicks: xTicks, yTicks: ChartPanel.ticks(0, 1))
        let color = ChartPanel.palette[2]
        draw(&svg, right, history.map { (Double($0.epoch), $0.validationPRAUC) }, name: "validation PRAUC", color: color)
        var rightLegend = [(name: "validation PRAUC", color: color)]
        if let best = history.max(by: { $0.validationPRAUC < $1.validationPRAUC }) {
            svg.circle(right.px(Double(best.epoch)), right.py(best.validationPRAUC), r: 6, fill: "#D55E00")
            rightLegend.append(("best: epoch \(best.epoch), \(SVG.number(best.validationPRAUC, decimals: 3))", "#D55E00"))
        }
        right.drawLegend(&svg, rightLegend, corner: "bottom-right")
        if history.isEmpty { svg.text("no epochs", x: 500, y: 220, size: 14) }
        return svg.render()
    }

    /// A polyline (plus a dot per point when there are few, so one epoch is visible).
    static func draw(_ svg: inout SVG, _ p: ChartPanel, _ points: [(Double, Double)], name: String, color: String) {
        guard !points.isEmpty else { return }
        let xy = points.map { (p.px($0.0), p.py($0.1)) }
        svg.polyline(xy, name: name, color: color)
        if xy.count <= 60 { for (x, y) in xy { svg.circle(x, y, r: 2.5, fill: color) } }
    }
}

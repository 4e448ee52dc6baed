/// One plot area inside an `SVG`: linear x and y scales onto the rectangle (`left`, `top`, `width`,
/// `height`), with axes, ticks, tick labels, axis labels, a title and a legend. Values outside the ranges are
/// clamped to the frame, so nothing is drawn outside it.
public struct ChartPanel {
    public var left: Double, top: Double, width: Double, height: Double
    public var xRange: ClosedRange<Double>
    public var yRange: ClosedRange<Double>

    /// Series colours (colour-blind friendly, Okabe–Ito).
    public static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]

    public init(left: Double, top: Double, width: Double, height: Double, xRange: ClosedRange<Double>,
                yRange: ClosedRange<Double>) {
        self.left = left; self.top = top; self.width = width; self.height = height
        self.xRange = xRange.upperBound > xRange.lowerBound ? xRange : xRange.lowerBound...(xRange.lowerBound + 1)
        self.yRange = yRange.upperBound > yRange.lowerBound ? yRange : yRange.lowerBound...(yRange.lowerBound + 1)
    }

    public func px(_ v: Double) -> Double {
        let t = (v - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound)
        return left + width * (t.isFinite ? min(1, max(0, t)) : 0)
    }

    public func py(_ v: Double) -> Double {
        let t = (v - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound)
        return top + height * (1 - (t.isFinite ? min(1, max(0, t)) : 0))
    }

    /// Ticks at 1, 2 or 5 × 10^k covering [lo, hi] with about `target` intervals (at least `minStep` apart).
    public static func ticks(_ lo: Double, _ hi: Double, target: Int = 5, minStep: Double = 0) -> [Double] {
        guard lo.isFinite, hi.isFinite, hi > lo else { return lo.isFinite ? [lo] : [] }
        let raw = max((hi - lo) / Double(max(target, 1)), minStep)
        var p = 1.0
        while p * 10 <= raw { p *= 10 }
        while p > raw { p /= 10 }
        let step = [1.0, 2, 5, 10].map { $0 * p }.first { $0 >= raw * (1 - 1e-9) } ?? p * 10
        var out: [Double] = []
        var k = (lo / step).rounded(.up)
        while k * step <= hi + step * 1e-9 && out.count < 100 {
            out.append(abs(k * step) < step * 1e-9 ? 0 : k * step)
            k += 1
        }
        return out
    }

    /// Decimals needed to print ticks `ticks` distinctly.
    public static func decimals(_ ticks: [Double]) -> Int {
        guard ticks.count > 1 else { return 2 }
        var step = abs(ticks[1] - ticks[0]), d = 0
        while step < 1 - 1e-9 && d < 6 { step *= 10; d += 1 }
        return d
    }

    /// A range from 0 (or the data's minimum when negative) to a tick at or above the maximum of `values`.
    public static func upperRange(_ values: [Double], floor: Double = 0) -> ClosedRange<Double> {
        let finite = values.filter(\.isFinite)
        let lo = min(floor, finite.min() ?? floor)
        let hi = max(lo + 1e-9, finite.max() ?? (lo + 1))
        let t = ticks(lo, hi)
        guard t.count > 1 else { return lo...hi }
        let step = t[1] - t[0]
        return lo...max(hi, (hi / step).rounded(.up) * step)
    }

    /// Frame, ticks with labels, axis labels and the title.
    public func drawAxes(_ svg: inout SVG, title: String, xLabel: String, yLabel: String, xTicks: [Double],
                         yTicks: [Double], xTickLabel: ((Double) -> String)? = nil) {
        let xd = Self.decimals(xTicks), yd = Self.decimals(yTicks)
        for t in yTicks where yRange.contains(t) {
            let y = py(t)
            svg.line(left, y, left + width, y, color: "#e5e5e5")
            svg.line(left - 5, y, left, y)
            svg.text(SVG.number(t, decimals: yd), x: left - 8, y: y + 4, size: 11, anchor: "end")
        }
        for t in xTicks where xRange.contains(t) {
            let x = px(t)
            svg.line(x, top + height, x, top + height + 5)
            svg.text(xTickLabel?(t) ?? SVG.number(t, decimals: xd), x: x, y: top + height + 18, size: 11)
        }
        svg.line(left, top, left, top + height)
        svg.line(left, top + height, left + width, top + height)
        svg.text(title, x: left + width / 2, y: top - 14, size: 14, weight: "bold")
        svg.text(xLabel, x: left + width / 2, y: top + height + 40, size: 12)
        svg.text(yLabel, x: left - 48, y: top + height / 2, size: 12, rotate: -90)
    }

    /// A legend box in the plot's `corner` ("top-right", "bottom-left", ...), one swatch per entry.
    public func drawLegend(_ svg: inout SVG, _ entries: [(name: String, color: String)], corner: String = "top-right") {
        guard !entries.isEmpty else { return }
        let longest = entries.map { $0.name.count }.max() ?? 0
        let w = min(width - 8, 34 + 6.6 * Double(longest)), h = 8 + 18 * Double(entries.count)
        let x = corner.hasSuffix("left") ? left + 8 : left + width - w - 8
        let y = corner.hasPrefix("bottom") ? top + height - h - 8 : top + 8
        svg.rect(x, y, w, h, fill: "white", stroke: "#999")
        for (i, e) in entries.enumerated() {
            let cy = y + 13 + 18 * Double(i)
            svg.rect(x + 8, cy - 5, 16, 10, fill: e.color)
            svg.text(e.name, x: x + 30, y: cy + 4, size: 11, anchor: "start")
        }
    }
}

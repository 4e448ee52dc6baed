import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import LeaderCore

/// What an SVG holds, read back with an XML parser: the viewBox, every `data-series` polyline's points, the
/// rects, circles and the text contents.
final class SVGContents: NSObject, XMLParserDelegate {
    var viewBox: [Double] = []
    var series: [String: [(Double, Double)]] = [:]
    var rects = 0, circles: [(Double, Double)] = []
    var texts: [String] = []
    private var text: String?
    var otherCoordinates: [(Double, Double)] = []

    static func parse(_ svg: String) throws -> SVGContents {
        let c = SVGContents()
        let p = XMLParser(data: Data(svg.utf8))
        p.delegate = c
        guard p.parse() else { throw LeaderError.badFile("SVG does not parse: \(String(describing: p.parserError))") }
        return c
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes a: [String: String] = [:]) {
        func d(_ k: String) -> Double { Double(a[k] ?? "") ?? .nan }
        switch name {
        case "svg": viewBox = (a["viewBox"] ?? "").split(separator: " ").compactMap { Double($0) }
        case "polyline":
            let pts = (a["points"] ?? "").split(separator: " ").map { p -> (Double, Double) in
                let xy = p.split(separator: ",").compactMap { Double($0) }
                return xy.count == 2 ? (xy[0], xy[1]) : (.nan, .nan)
            }
            if let s = a["data-series"] { series[s] = pts }
        case "rect":
            rects += 1
            otherCoordinates += [(d("x"), d("y")), (d("x") + d("width"), d("y") + d("height"))]
        case "circle": circles.append((d("cx"), d("cy")))
        case "line": otherCoordinates += [(d("x1"), d("y1")), (d("x2"), d("y2"))]
        case "text":
            text = ""
            otherCoordinates.append((d("x"), d("y")))
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text? += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text", let t = text { texts.append(t); text = nil }
    }

    /// Every coordinate lies inside the viewBox.
    var allInside: Bool {
        guard viewBox.count == 4 else { return false }
        let pts = series.values.flatMap { $0 } + circles + otherCoordinates
        return pts.allSatisfy { $0.0 >= viewBox[0] && $0.0 <= viewBox[0] + viewBox[2] && $0.1 >= viewBox[1]
            && $0.1 <= viewBox[1] + viewBox[3] }
    }
}

@Suite struct ReportPlotTests {
    /// 2 patients × 3 medications with distinct scores: pooled ranking T F F T T F (3 positives).
    static func small() throws -> ScoredSamples {
        try ScoredSamples(medications: 3, scores: [0.9, 0.8, 0.1, 0.7, 0.6, 0.3], truths: [[0], [1, 2]], visitCounts: [1, 3])
    }

    @Test func precisionRecallCurveByHand() throws {
        let c = EvaluationPlots.precisionRecall(try Self.small())
        let third = 1.0 / 3
        let recall: [Double] = [third, third, third, 2 * third, 1, 1]
        let precision: [Double] = [1, 0.5, third, 0.5, 0.6, 0.5]
        #expect(c.recall == recall)
        #expect(c.precision == precision)
        #expect(abs(c.averagePrecision - 0.7) < 1e-12)  // 1/3·1 + 1/3·1/2 + 1/3·3/5
        #expect(c.prevalence == 0.5)
        // ties form one step
        let tied = try ScoredSamples(medications: 2, scores: [0.5, 0.5, 0.2, 0.5], truths: [[0], []], visitCounts: [1, 1])
        let t = EvaluationPlots.precisionRecall(tied)
        let tr: [Double] = [1, 1], tp: [Double] = [third, 0.25]
        #expect(t.recall == tr && t.precision == tp)
    }

    @Test func precisionRecallSVGParses() throws {
        let name = #"student <v2> & "kd" 'α'"#
        let svg = EvaluationPlots.precisionRecallSVG(try Self.small(), recommender: name)
        let c = try SVGContents.parse(svg)
        let box: [Double] = [0, 0, 640, 480]
        #expect(c.viewBox == box)
        let pts = try #require(c.series[name], "the series name survives escaping: \(c.series.keys)")
        #expect(pts.count == 6)
        #expect(c.series["chance"]?.count == 2)
        #expect(c.allInside)
        // recall 1/3 → x = 80 + 520/3, precision 1 → y = 50
        #expect(abs(pts[0].0 - (80 + 520.0 / 3)) < 0.01 && abs(pts[0].1 - 50) < 0.01)
        #expect(c.texts.contains { $0.hasPrefix(name) && $0.contains("AP 0.700") })
        #expect(c.texts.contains("recall") && c.texts.contains("precision") && c.texts.contains("0.2"))
        #expect(c.texts.contains { $0.hasPrefix("Precision–recall") })
        // a long curve is thinned to at most maxCurvePoints, ends included
        var rng = SplitMix64(seed: 3)
        let n = 600, m = 5
        let scores = (0..<(n * m)).map { _ in Float(rng.next() % 1_000_000) / 1_000_000 }
        let truths = (0..<n).map { i in [Int32(i % m)] }
        let big = try ScoredSamples(medications: m, scores: scores, truths: truths, visitCounts: [Int](repeating: 2, count: n))
        let full = EvaluationPlots.precisionRecall(big)
        #expect(full.recall.count > EvaluationPlots.maxCurvePoints)
        let bc = try SVGContents.parse(EvaluationPlots.precisionRecallSVG(big, recommender: "big"))
        let bp = try #require(bc.series["big"])
        #expect(bp.count == EvaluationPlots.maxCurvePoints && bc.allInside)
        #expect(abs(bp.last!.0 - 600) < 0.01, "recall 1 at the right edge")
        // no positives: a message, no curve
        let none = try ScoredSamples(medications: 2, scores: [0.1, 0.2], truths: [[]], visitCounts: [1])
        let nc = try SVGContents.parse(EvaluationPlots.precisionRecallSVG(none, recommender: "x"))
        #expect(nc.series.isEmpty && nc.texts.contains("no positive labels"))
    }

    @Test func byVisitsGroupsAndBars() throws {
        // visits 1,1,2,3,4,5,7 → groups 1:2, 2:1, 3:1, 4:1, 5+:2
        let n = 7, m = 4
        var scores = [Float]()
        for i in 0..<n { scores += (0..<m).map { Float(($0 + i) % m) / Float(m) } }
        let truths: [[Int32]] = (0..<n).map { [Int32($0 % m)] }
        let s = try ScoredSamples(medications: m, scores: scores, truths: truths, visitCounts: [1, 1, 2, 3, 4, 5, 7])
        let g = EvaluationPlots.byVisits(s, threshold: 0.5)
        #expect(g.map(\.label) == ["1", "2", "3", "4", "5+"] && g.map(\.count) == [2, 1, 1, 1, 2])
        for (k, idx) in [[0, 1], [2], [3], [4], [5, 6]].enumerated() {
            let jac = idx.reduce(0.0) { $0 + s.metrics($1, threshold: 0.5).jaccard } / Double(idx.count)
            let pr = idx.reduce(0.0) { $0 + s.metrics($1, threshold: 0.5).prauc } / Double(idx.count)
            #expect(abs(g[k].jaccard - jac) < 1e-12 && abs(g[k].prauc - pr) < 1e-12)
        }
        let c = try SVGContents.parse(EvaluationPlots.byVisitsSVG(s, recommender: "student", threshold: 0.5))
        #expect(c.allInside)
        #expect(c.rects == 1 + 5 * 2 + 1 + 2, "background, two bars per group, legend box and swatches")
        #expect(c.texts.contains("n = 2") && c.texts.contains("5+") && c.texts.contains("Jaccard") && c.texts.contains("PRAUC"))
        // an empty group draws no bars but keeps its count
        let s2 = try ScoredSamples(medications: m, scores: Array(scores.prefix(2 * m)), truths: Array(truths.prefix(2)),
                                   visitCounts: [1, 1])
        let c2 = try SVGContents.parse(EvaluationPlots.byVisitsSVG(s2, recommender: "s", threshold: 0.5))
        #expect(c2.rects == 1 + 2 + 3 && c2.texts.filter { $0 == "n = 0" }.count == 4)
    }

    @Test func trainingPlot() throws {
        let h = (1...5).map { e in
            StudentEpochSummary(epoch: e, loss: 1.0 / Double(e), bce: 0.5 / Double(e), distill: 1.0 / Double(e + 1),
                                align: 0, validationPRAUC: [0.3, 0.5, 0.6, 0.55, 0.58][e - 1],
                                validationJaccard: 0.2, best: e <= 3)
        }
        let c = try SVGContents.parse(TrainingPlots.trainingSVG(h, alpha: 0.4))
        let box: [Double] = [0, 0, 1000, 440]
        #expect(c.viewBox == box && c.allInside)
        #expect(c.series.count == 4)
        for name in ["total loss", "BCE", "α·distill (α = 0.40)", "validation PRAUC"] {
            #expect(c.series[name]?.count == 5, "\(name): \(c.series.keys)")
        }
        // epochs increase left to right; the best epoch (3) is marked
        let pr = try #require(c.series["validation PRAUC"])
        #expect(zip(pr, pr.dropFirst()).allSatisfy { $0.0 < $1.0 })
        #expect(c.texts.contains("best: epoch 3, 0.600") && c.texts.contains("epoch"))
        // without distillation only the total loss is drawn; one epoch still gives a visible point
        let one = [StudentEpochSummary(epoch: 1, loss: 0.7, bce: 0.7, distill: 0, align: 0, validationPRAUC: 0.4,
                                       validationJaccard: 0.3, best: true)]
        let c1 = try SVGContents.parse(TrainingPlots.trainingSVG(one, alpha: 0.4))
        #expect(c1.series.keys.sorted() == ["total loss", "validation PRAUC"] && c1.allInside)
        #expect(c1.circles.count >= 2)
    }

    @Test func numbersTicksAndEscaping() {
        #expect(SVG.number(1.234) == "1.23" && SVG.number(-2.5, decimals: 0) == "-3" && SVG.number(-0.001) == "0.00")
        #expect(SVG.number(0.05, decimals: 1) == "0.1" && SVG.number(12) == "12.00" && SVG.number(.nan) == "0")
        #expect(SVG.escape("a<b & \"c\" 'd'\u{1}") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;")
        let unit = ChartPanel.ticks(0, 1)
        #expect(unit.count == 6 && unit.first == 0 && unit.last == 1 && abs(unit[1] - 0.2) < 1e-12)
        let t30: [Double] = [5, 10, 15, 20, 25, 30], t3: [Double] = [1, 2, 3]
        #expect(ChartPanel.ticks(1, 30, target: 6, minStep: 1) == t30)
        #expect(ChartPanel.ticks(1, 3, target: 6, minStep: 1) == t3)
        #expect(ChartPanel.upperRange([0.2, 1.7]) == 0...2)
    }
}

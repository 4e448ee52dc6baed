/// A minimal SVG writer for the report plots: elements are appended as text; every piece of caller text goes
/// through `escape`, every number through `number` (fixed decimals, no locale, no exponent).
public struct SVG {
    public let width: Double
    public let height: Double
    private var body: [String] = []

    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// XML text and attribute escaping (`& < > " '`); control characters other than tab/newline are dropped
    /// (they are not allowed in XML 1.0).
    public static func escape(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                if u.value < 0x20 && u != "\t" && u != "\n" { continue }
                if u.value == 0xFFFE || u.value == 0xFFFF { continue }
                out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// `v` with `decimals` fixed decimals ("-0" prints as "0"; non-finite values as "0").
    public static func number(_ v: Double, decimals: Int = 2) -> String {
        guard v.isFinite else { return "0" }
        let d = max(0, min(decimals, 9))
        var scale = 1.0
        for _ in 0..<d { scale *= 10 }
        let scaled = (abs(v) * scale).rounded()
        guard scaled < 9e15 else { return v < 0 ? "-" + String(Int64(abs(v))) : String(Int64(v)) }
        let n = Int64(scaled)
        let p = Int64(scale)
        let whole = String(n / p)
        let sign = v < 0 && n != 0 ? "-" : ""
        guard d > 0 else { return sign + whole }
        let frac = String(n % p)
        return sign + whole + "." + String(repeating: "0", count: d - frac.count) + frac
    }

    public mutating func raw(_ element: String) { body.append(element) }

    public mutating func text(_ s: String, x: Double, y: Double, size: Double = 12, anchor: String = "middle",
                              rotate: Double? = nil, weight: String? = nil, color: String = "#222") {
        var a = "x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" font-size=\"\(Self.number(size, decimals: 1))\" "
            + "text-anchor=\"\(anchor)\" fill=\"\(color)\""
        if let weight { a += " font-weight=\"\(weight)\"" }
        if let rotate { a += " transform=\"rotate(\(Self.number(rotate, decimals: 1)) \(Self.number(x)) \(Self.number(y)))\"" }
        body.append("<text \(a)>\(Self.escape(s))</text>")
    }

    public mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, color: String = "#222",
                              width: Double = 1, dash: String? = nil) {
        body.append("<line x1=\"\(Self.number(x1))\" y1=\"\(Self.number(y1))\" x2=\"\(Self.number(x2))\" "
            + "y2=\"\(Self.number(y2))\" stroke=\"\(color)\" stroke-width=\"\(Self.number(width, decimals: 1))\""
            + (dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>")
    }

    public mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String,
                              stroke: String? = nil) {
        body.append("<rect x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" width=\"\(Self.number(max(0, w)))\" "
            + "height=\"\(Self.number(max(0, h)))\" fill=\"\(fill)\"" + (stroke.map { " stroke=\"\($0)\"" } ?? "") + "/>")
    }

    /// A polyline tagged `data-series` = `name` (tests and readers find the series by it).
    public mutating func polyline(_ points: [(Double, Double)], name: String, color: String, width: Double = 2,
                                  dash: String? = nil) {
        let p = points.map { "\(Self.number($0.0)),\(Self.number($0.1))" }.joined(separator: " ")
        body.append("<polyline data-series=\"\(Self.escape(name))\" points=\"\(p)\" fill=\"none\" stroke=\"\(color)\" "
            + "stroke-width=\"\(Self.number(width, decimals: 1))\" stroke-linejoin=\"round\""
            + (dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>")
    }

    public mutating func circle(_ x: Double, _ y: Double, r: Double, fill: String) {
        body.append("<circle cx=\"\(Self.number(x))\" cy=\"\(Self.number(y))\" r=\"\(Self.number(r, decimals: 1))\" "
            + "fill=\"\(fill)\"/>")
    }

    /// The whole document (UTF-8 text).
    public func render() -> String {
        let w = Self.number(width, decimals: 0), h = Self.number(height, decimals: 0)
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\" "
            + "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
            + "<rect x=\"0\" y=\"0\" width=\"\(w)\" height=\"\(h)\" fill=\"white\"/>\n"
            + body.joined(separator: "\n") + "\n</svg>\n"
    }
}

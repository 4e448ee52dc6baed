/// A code spec (see `ClinicalRule`) compiled to catalog indices: items of weighted alternatives, each item taken
/// with its probability.
struct CompiledSpec: Sendable {
    struct Item: Sendable {
        let codes: [Int]
        let cumulativeWeights: [Double]
        let probability: Double
    }

    let items: [Item]

    static let empty = CompiledSpec(items: [])

    /// Compiles `spec`, resolving codes through `index`; `what` names the rule in errors.
    init(_ spec: String, index: [String: Int], what: String) throws(LeaderError) {
        var items: [Item] = []
        for token in spec.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = token.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw .internalError("\(what): bad item '\(token)'") }
            var probability = 1.0
            if parts.count == 2 {
                guard let p = Double(parts[1]), p >= 0, p <= 1 else {
                    throw .internalError("\(what): bad probability in '\(token)'")
                }
                probability = p
            }
            var codes: [Int] = []
            var cumulative: [Double] = []
            for alt in parts[0].split(separator: "|") {
                let cw = alt.split(separator: "*", omittingEmptySubsequences: false)
                guard cw.count <= 2, let code = index[String(cw[0])] else {
                    throw .internalError("\(what): unknown code '\(alt)'")
                }
                var weight = 1.0
                if cw.count == 2 {
                    guard let w = Double(cw[1]), w > 0 else { throw .internalError("\(what): bad weight in '\(alt)'") }
                    weight = w
                }
                codes.append(code)
                cumulative.append((cumulative.last ?? 0) + weight)
            }
            guard !codes.isEmpty else { throw .internalError("\(what): empty item in '\(spec)'") }
            items.append(Item(codes: codes, cumulativeWeights: cumulative, probability: probability))
        }
        self.items = items
    }

    private init(items: [Item]) { self.items = items }

    /// Appends the sampled codes of every item to `out`.
    func sample(into out: inout [Int], _ rng: inout Xoshiro256) {
        for item in items where item.probability >= 1 || rng.chance(item.probability) {
            out.append(Self.pick(item.codes, item.cumulativeWeights, &rng))
        }
    }

    /// One alternative of the first item (the code family of a chronic rule).
    func sampleFirst(_ rng: inout Xoshiro256) -> Int? {
        guard let item = items.first else { return nil }
        return Self.pick(item.codes, item.cumulativeWeights, &rng)
    }

    /// The spec without its first item.
    var droppingFirst: CompiledSpec { CompiledSpec(items: Array(items.dropFirst())) }

    /// Every code the spec can produce.
    var allCodes: [Int] { items.flatMap(\.codes) }

    static func pick(_ codes: [Int], _ cumulative: [Double], _ rng: inout Xoshiro256) -> Int {
        guard codes.count > 1, let total = cumulative.last else { return codes[0] }
        let u = rng.unit() * total
        for (i, c) in cumulative.enumerated() where u < c { return codes[i] }
        return codes[codes.count - 1]
    }
}

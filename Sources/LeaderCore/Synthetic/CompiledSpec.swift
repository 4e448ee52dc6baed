/// A code spec (see `ClinicalRule`) compiled to catalog indices: items of weighted alternatives, each item taken
/// with its probability. Stored flat (one array per field) and as a class, so sampling touches no per-item
/// reference counts.
final class CompiledSpec: Sendable {
    /// Alternatives of all items, back to back; item `i` owns `itemStart[i] ..< itemStart[i + 1]`.
    let codes: [Int]
    /// Cumulative weights within each item, aligned with `codes`.
    let cumulativeWeights: [Double]
    let itemStart: [Int]
    let probability: [Double]

    var itemCount: Int { probability.count }

    /// Compiles `spec`, resolving codes through `index`; `what` names the rule in errors.
    convenience init(_ spec: String, index: [String: Int], what: String) throws(LeaderError) {
        var codes: [Int] = []
        var cumulative: [Double] = []
        var starts: [Int] = [0]
        var probabilities: [Double] = []
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
            var total = 0.0
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
                total += weight
                codes.append(code)
                cumulative.append(total)
            }
            guard codes.count > starts[starts.count - 1] else { throw .internalError("\(what): empty item in '\(spec)'") }
            starts.append(codes.count)
            probabilities.append(probability)
        }
        self.init(codes: codes, cumulativeWeights: cumulative, itemStart: starts, probability: probabilities)
    }

    private init(codes: [Int], cumulativeWeights: [Double], itemStart: [Int], probability: [Double]) {
        self.codes = codes
        self.cumulativeWeights = cumulativeWeights
        self.itemStart = itemStart
        self.probability = probability
    }

    /// Appends the sampled codes of every item to `out`.
    func sample(into out: inout [Int], _ rng: inout Xoshiro256) {
        for i in 0..<probability.count where probability[i] >= 1 || rng.chance(probability[i]) {
            out.append(pick(item: i, &rng))
        }
    }

    /// One alternative of the first item (the code family of a chronic rule).
    func sampleFirst(_ rng: inout Xoshiro256) -> Int? {
        probability.isEmpty ? nil : pick(item: 0, &rng)
    }

    /// The alternatives of item `i`.
    func codes(ofItem i: Int) -> ArraySlice<Int> { codes[itemStart[i]..<itemStart[i + 1]] }

    /// The spec without its first item.
    var droppingFirst: CompiledSpec {
        guard let end = itemStart.dropFirst().first else { return self }
        return CompiledSpec(codes: Array(codes[end...]), cumulativeWeights: Array(cumulativeWeights[end...]),
                            itemStart: itemStart.dropFirst().map { $0 - end }, probability: Array(probability.dropFirst()))
    }

    private func pick(item i: Int, _ rng: inout Xoshiro256) -> Int {
        let lo = itemStart[i], hi = itemStart[i + 1]
        if hi - lo == 1 { return codes[lo] }
        let u = rng.unit() * cumulativeWeights[hi - 1]
        for k in lo..<hi where u < cumulativeWeights[k] { return codes[k] }
        return codes[hi - 1]
    }

    /// Index drawn from `codes` by cumulative weights (used for products).
    static func pick(_ codes: [Int], _ cumulative: [Double], _ rng: inout Xoshiro256) -> Int {
        guard codes.count > 1, let total = cumulative.last else { return codes[0] }
        let u = rng.unit() * total
        for (i, c) in cumulative.enumerated() where u < c { return codes[i] }
        return codes[codes.count - 1]
    }
}

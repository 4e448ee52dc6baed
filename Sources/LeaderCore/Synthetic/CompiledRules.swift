/// `ClinicalRules` compiled against the catalog: specs as index lists, boosts as chronic-rule indices.
struct CompiledRules: Sendable {
    /// A class, so that reading one from the rule arrays costs one retain, not one per field.
    final class Rule: Sendable {
        let source: ClinicalRule
        let dx: CompiledSpec
        /// `dx` without its first item (a chronic rule's per-visit extra diagnoses).
        let dxRest: CompiledSpec
        let px: CompiledSpec
        let rx: CompiledSpec
        let rxWhen: [(ProfileTest, CompiledSpec)]
        let pxWhen: [(ProfileTest, CompiledSpec)]
        /// (chronic rule index, factor)
        let boosts: [(Int, Double)]
        /// The ADMISSIONS.DIAGNOSIS label as CSV bytes.
        let labelCSV: [UInt8]

        init(source: ClinicalRule, dx: CompiledSpec, dxRest: CompiledSpec, px: CompiledSpec, rx: CompiledSpec,
             rxWhen: [(ProfileTest, CompiledSpec)], pxWhen: [(ProfileTest, CompiledSpec)], boosts: [(Int, Double)],
             labelCSV: [UInt8]) {
            self.source = source; self.dx = dx; self.dxRest = dxRest; self.px = px; self.rx = rx
            self.rxWhen = rxWhen; self.pxWhen = pxWhen; self.boosts = boosts; self.labelCSV = labelCSV
        }

        /// The base rate after profile multipliers.
        func rate(_ p: SyntheticProfile) -> Double {
            var r = source.base
            for risk in source.risks where risk.test.matches(p) { r *= risk.factor }
            return r
        }

        /// The rate after profile multipliers and boosts from the chronic conditions in `active`.
        func rate(_ p: SyntheticProfile, active: [Bool]) -> Double { boosted(rate(p), active: active) }

        /// `profileRate` (from `rate(_:)`) times the boosts of the chronic conditions in `active`.
        func boosted(_ profileRate: Double, active: [Bool]) -> Double {
            var r = profileRate
            for (i, f) in boosts where active[i] { r *= f }
            return r
        }

        func drugs(for p: SyntheticProfile) -> CompiledSpec {
            for (test, spec) in rxWhen where test.matches(p) { return spec }
            return rx
        }

        func procedures(for p: SyntheticProfile) -> CompiledSpec {
            for (test, spec) in pxWhen where test.matches(p) { return spec }
            return px
        }
    }

    let chronic: [Rule]
    let episodes: [Rule]
    let complications: [Rule]
    let filler: CompiledSpec
    let icuProcedures: CompiledSpec
    let background: CompiledSpec
    let noise: CompiledSpec
    /// Catalog indices of classes and procedures a Jehovah's Witness patient never gets (blood products).
    let bloodProductClasses: Set<Int>
    let transfusionProcedures: Set<Int>

    init(_ c: SyntheticCatalog) throws(LeaderError) {
        var chronicIndex: [String: Int] = [:]
        func compile(_ r: ClinicalRule, boostScope: [String: Int]) throws(LeaderError) -> Rule {
            let what = "ClinicalRules.\(r.id)"
            var boosts: [(Int, Double)] = []
            for token in r.boost.split(separator: " ") {
                let kv = token.split(separator: "*")
                guard kv.count == 2, let i = boostScope[String(kv[0])], let f = Double(kv[1]) else {
                    throw .internalError("\(what): bad boost '\(token)' (only earlier chronic rules may boost)")
                }
                boosts.append((i, f))
            }
            var rxWhen: [(ProfileTest, CompiledSpec)] = []
            for v in r.rxWhen { rxWhen.append((v.when, try CompiledSpec(v.rx, index: c.classIndex, what: what))) }
            var pxWhen: [(ProfileTest, CompiledSpec)] = []
            for v in r.pxWhen { pxWhen.append((v.when, try CompiledSpec(v.rx, index: c.procedureIndex, what: what))) }
            let dx = try CompiledSpec(r.dx, index: c.diagnosisIndex, what: what)
            return Rule(source: r, dx: dx, dxRest: dx.droppingFirst,
                        px: try CompiledSpec(r.px, index: c.procedureIndex, what: what),
                        rx: try CompiledSpec(r.rx, index: c.classIndex, what: what),
                        rxWhen: rxWhen, pxWhen: pxWhen, boosts: boosts, labelCSV: CSV.escaped(r.label))
        }
        var chronic: [Rule] = []
        for r in ClinicalRules.chronic {
            guard r.kind == .chronic, chronicIndex[r.id] == nil else { throw .internalError("chronic rule \(r.id)") }
            chronic.append(try compile(r, boostScope: chronicIndex))
            chronicIndex[r.id] = chronic.count - 1
        }
        var episodes: [Rule] = []
        for r in ClinicalRules.episodes { episodes.append(try compile(r, boostScope: chronicIndex)) }
        var complications: [Rule] = []
        for r in ClinicalRules.complications { complications.append(try compile(r, boostScope: chronicIndex)) }
        self.chronic = chronic
        self.episodes = episodes
        self.complications = complications
        filler = try CompiledSpec(ClinicalRules.fillerDx, index: c.diagnosisIndex, what: "ClinicalRules.fillerDx")
        icuProcedures = try CompiledSpec(ClinicalRules.icuPx, index: c.procedureIndex, what: "ClinicalRules.icuPx")
        background = try CompiledSpec(ClinicalRules.backgroundRx, index: c.classIndex, what: "ClinicalRules.backgroundRx")
        noise = try CompiledSpec(ClinicalRules.noiseRx, index: c.classIndex, what: "ClinicalRules.noiseRx")
        bloodProductClasses = Set(["B05A"].compactMap { c.classIndex[$0] })
        transfusionProcedures = Set(["9904", "9905", "9906", "9907"].compactMap { c.procedureIndex[$0] })
    }
}

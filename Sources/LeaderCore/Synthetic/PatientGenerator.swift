/// Draws one synthetic patient from its own random stream (seed, patient index): the profile, the chronic
/// conditions with their home regimen, the number of admissions, and per admission the episode, complications,
/// codes and prescriptions. `docs/synthetic-cohort.md` states every rule and number used here.
struct PatientGenerator: Sendable {
    let catalog: SyntheticCatalog
    let rules: CompiledRules
    let config: SyntheticConfig
    private let fallbackClass: Int
    private let fallbackProcedure: Int

    init(config: SyntheticConfig) throws(LeaderError) {
        let catalog = try SyntheticCatalog.shared()
        self.catalog = catalog
        self.rules = try CompiledRules(catalog)
        self.config = config
        guard let c = catalog.classIndex["N02B"], let p = catalog.procedureIndex["3893"] else {
            throw .internalError("synthetic catalog lacks N02B or 3893")
        }
        fallbackClass = c
        fallbackProcedure = p
    }

    /// First admissions fall in 2100-01-01 ..< 2200-01-01 (MIMIC-III shifts dates into that range).
    private static let firstDay = CivilTime.days(year: 2100, month: 1, day: 1)

    func patient(_ index: Int) -> SyntheticPatient {
        var rng = Xoshiro256(seed: config.seed, stream: UInt64(truncatingIfNeeded: index))
        let profile = Self.drawProfile(&rng)

        // Chronic conditions, in list order (boosts come from earlier rules).
        let nChronic = rules.chronic.count
        var active = [Bool](repeating: false, count: nChronic)
        for (i, rule) in rules.chronic.enumerated() where rng.chance(min(0.9, rule.rate(profile, active: active))) {
            active[i] = true
        }
        let burden = active.reduce(0) { $0 + ($1 ? 1 : 0) }

        // Number of admissions: single with `singleVisitShare`, else 2 + geometric (sicker: more).
        var nVisits = 1
        if !rng.chance(config.singleVisitShare) {
            let stop = max(0.25, 0.5 - 0.03 * Double(burden))
            nVisits = 2
            while nVisits < config.maxVisits && !rng.chance(stop) { nVisits += 1 }
        }

        // Per chronic condition: onset visit, code family member (fixed), home regimen (fixed products).
        var onset = [Int](repeating: Int.max, count: nChronic)
        var family = [Int](repeating: -1, count: nChronic)
        var regimen = [[Int]](repeating: [], count: nChronic)
        for i in 0..<nChronic where active[i] {
            onset[i] = (nVisits == 1 || rng.chance(0.75)) ? 0 : rng.inRange(1, nVisits - 1)
            family[i] = rules.chronic[i].dx.sampleFirst(&rng) ?? -1
            var classes: [Int] = []
            rules.chronic[i].drugs(for: profile).sample(into: &classes, &rng)
            regimen[i] = classes.map { pickProduct(class: $0, &rng) }
        }

        // Profile part of the per-admission rates, once per patient.
        let episodeRates = rules.episodes.map { $0.rate(profile) }
        let complicationRates = rules.complications.map { $0.rate(profile) }

        var admissions: [SyntheticPatient.Admission] = []
        admissions.reserveCapacity(nVisits)
        var day = Self.firstDay + rng.below(100 * 365)
        var activeNow = [Bool](repeating: false, count: nChronic)
        var deathDay: Int?
        for v in 0..<nVisits {
            for i in 0..<nChronic { activeNow[i] = active[i] && onset[i] <= v }
            let adm = admission(v: v, last: v == nVisits - 1, day: day, profile: profile, activeNow: activeNow,
                                family: family, regimen: regimen, episodeRates: episodeRates,
                                complicationRates: complicationRates, &rng)
            admissions.append(adm)
            let dischargeDay = adm.dischargeMinute / 1440
            if adm.died { deathDay = dischargeDay }
            day = dischargeDay + 7 + rng.below(60) + (rng.chance(0.6) ? rng.below(700) : 0)
        }
        if deathDay == nil, rng.chance(profile.age >= 75 ? 0.35 : 0.2), let last = admissions.last {
            deathDay = last.dischargeMinute / 1440 + 30 + rng.below(1500)
        }

        let first = CivilTime.civil(days: admissions[0].admitMinute / 1440)
        let dobDay = CivilTime.days(year: first.year - profile.age - 1, month: first.month, day: 1) + 1 + rng.below(360)
        return SyntheticPatient(profile: profile, dobDay: dobDay, admissions: admissions, deathDay: deathDay)
    }

    // MARK: - one admission

    private func admission(v: Int, last: Bool, day: Int, profile: SyntheticProfile, activeNow: [Bool],
                           family: [Int], regimen: [[Int]], episodeRates: [Double], complicationRates: [Double],
                           _ rng: inout Xoshiro256) -> SyntheticPatient.Admission {
        // Episodes: one main reason, a second one with probability 0.2.
        var weights = [Double](repeating: 0, count: episodeRates.count)
        for (e, rule) in rules.episodes.enumerated() { weights[e] = rule.boosted(episodeRates[e], active: activeNow) }
        let main = rng.weighted(weights)
        var episodes = [main]
        if rng.chance(0.2) {
            weights[main] = 0
            let second = rng.weighted(weights)
            if second != main { episodes.append(second) }
        }
        let elective = rng.chance(rules.episodes[main].source.elective)
        let type = elective ? SyntheticAdmissionValues.elective
            : (rng.chance(0.93) ? SyntheticAdmissionValues.emergency : SyntheticAdmissionValues.urgent)
        let location: Int
        switch type {
        case SyntheticAdmissionValues.elective: location = 1
        case SyntheticAdmissionValues.urgent: location = 2
        default: location = rng.weighted([0.6, 0, 0.25, 0.1, 0.05])
        }

        var dx: [Int] = []
        var px: [Int] = []
        var ruleClasses: [Int] = []
        for e in episodes {
            let rule = rules.episodes[e]
            rule.dx.sample(into: &dx, &rng)
            rule.procedures(for: profile).sample(into: &px, &rng)
            rule.drugs(for: profile).sample(into: &ruleClasses, &rng)
        }
        for i in activeNow.indices where activeNow[i] {
            if family[i] >= 0 && rng.chance(0.9) { dx.append(family[i]) }
            rules.chronic[i].dxRest.sample(into: &dx, &rng)
        }
        for (c, rule) in rules.complications.enumerated()
        where rng.chance(min(0.8, rule.boosted(complicationRates[c], active: activeNow))) {
            rule.dx.sample(into: &dx, &rng)
            rule.procedures(for: profile).sample(into: &px, &rng)
            rule.drugs(for: profile).sample(into: &ruleClasses, &rng)
        }
        dx = dx.uniquedKeepingOrder()
        let target = rng.inRange(7, 15)
        var attempts = 0
        while dx.count < target && attempts < 40 {
            attempts += 1
            var one: [Int] = []
            rules.filler.sample(into: &one, &rng)
            if let c = one.first, !dx.contains(c) { dx.append(c) }
        }
        if dx.count > 30 { dx.removeLast(dx.count - 30) }

        if px.isEmpty || rng.chance(0.3) { rules.icuProcedures.sample(into: &px, &rng) }
        let jw = ProfileTest.jehovahsWitness.matches(profile)
        if jw { px.removeAll { rules.transfusionProcedures.contains($0) } }
        if px.isEmpty { px.append(fallbackProcedure) }
        px = px.uniquedKeepingOrder()
        if px.count > 10 { px.removeLast(px.count - 10) }

        // Drugs: home regimen, rule drugs, background, noise; each (class, product) once.
        var chosen: [(cls: Int, product: Int)] = []
        func add(_ cls: Int, _ product: Int) {
            if jw && rules.bloodProductClasses.contains(cls) { return }
            if chosen.contains(where: { $0.cls == cls }) { return }
            chosen.append((cls, product))
        }
        let keep = 1 - config.omissionRate
        for i in activeNow.indices where activeNow[i] {
            for product in regimen[i] where rng.chance(0.9 * keep) { add(catalog.productClass[product], product) }
        }
        for cls in ruleClasses where rng.chance(keep) { add(cls, pickProduct(class: cls, &rng)) }
        var extra: [Int] = []
        rules.background.sample(into: &extra, &rng)
        if rng.chance(config.noiseRate) { rules.noise.sample(into: &extra, &rng) }
        for cls in extra { add(cls, pickProduct(class: cls, &rng)) }
        if chosen.isEmpty { add(fallbackClass, pickProduct(class: fallbackClass, &rng)) }

        // Stay and prescriptions.
        let los = 1 + rng.below(4) + (rng.chance(0.45) ? rng.below(8) : 0) + (rng.chance(0.1) ? rng.below(25) : 0)
        let admitMinute = day * 1440 + rng.below(1440)
        let dischargeMinute = (day + los) * 1440 + 600 + rng.below(600)
        var rx: [SyntheticPatient.Prescription] = []
        rx.reserveCapacity(chosen.count * 2)
        for (cls, product) in chosen {
            let start = day + rng.below(max(1, los))
            rx.append(.init(product: product, startDay: start, endDay: min(day + los, start + 1 + rng.below(4))))
            if rng.chance(0.3) {
                let second = rng.chance(0.4) ? pickProduct(class: cls, &rng) : product
                let start2 = min(day + los, start + 1 + rng.below(3))
                rx.append(.init(product: second, startDay: start2, endDay: min(day + los + 1, start2 + 1 + rng.below(4))))
            }
        }

        let mortality = rules.episodes[main].source.mortality
            * (profile.age >= 75 ? 1.6 : (profile.age < 45 ? 0.5 : 1))
        let died = last && rng.chance(mortality)
        var discharge = SyntheticAdmissionValues.dead
        if !died {
            let old = profile.age >= 75
            discharge = rng.weighted([0.35, 0.3, old ? 0.36 : 0.12, 0.1, 0.04, 0.01, 0.02])
        }
        var edReg: Int?
        var edOut: Int?
        if location == 0 {
            edReg = admitMinute - 60 - rng.below(540)
            edOut = admitMinute + rng.below(120)
        }
        return .init(admitMinute: admitMinute, dischargeMinute: dischargeMinute, died: died, admissionType: type,
                     admissionLocation: location, dischargeLocation: discharge, edRegMinute: edReg,
                     edOutMinute: edOut, episode: main, diagnoses: dx, procedures: px, prescriptions: rx)
    }

    private func pickProduct(class cls: Int, _ rng: inout Xoshiro256) -> Int {
        catalog.productChoice[cls].pick(&rng)
    }

    // MARK: - profile

    static func drawProfile(_ rng: inout Xoshiro256) -> SyntheticProfile {
        typealias P = SyntheticProfile
        let gender: P.Gender = rng.chance(0.44) ? .female : .male
        let band = rng.weighted([0.07, 0.11, 0.22, 0.30, 0.30])
        let age = [18, 30, 45, 60, 75][band] + rng.below([12, 15, 15, 15, 15][band])
        let ethnic = P.Ethnic(rawValue: rng.weighted([0.70, 0.09, 0.04, 0.03, 0.03, 0.11])) ?? .unknown
        // Exact MIMIC strings within a group (indices into SyntheticProfileValues.ethnicities).
        let ethnicityString: Int
        switch ethnic {
        case .white: ethnicityString = [0, 6, 12, 17][rng.weighted([90, 4, 3, 3])]
        case .black: ethnicityString = [1, 9, 14][rng.weighted([85, 8, 7])]
        case .hispanic: ethnicityString = [2, 7, 15][rng.weighted([60, 25, 15])]
        case .asian: ethnicityString = [3, 8, 13][rng.weighted([60, 30, 10])]
        case .other: ethnicityString = [4, 16][rng.weighted([70, 30])]
        case .unknown: ethnicityString = [5, 10, 11][rng.weighted([70, 15, 15])]
        }
        // Language (indices into SyntheticProfileValues.languages), following the ethnicity string.
        var language = 0
        if !rng.chance(0.3) {
            switch ethnicityString {
            case 2, 7, 15: language = [2, 1][rng.weighted([65, 35])]
            case 8: language = [5, 6, 1][rng.weighted([45, 20, 35])]
            case 13: language = [9, 1][rng.weighted([60, 40])]
            case 3: language = [1, 5, 6, 9][rng.weighted([60, 20, 10, 10])]
            case 6: language = [3, 1][rng.weighted([70, 30])]
            case 17: language = [7, 1][rng.weighted([70, 30])]
            case 9: language = [11, 7, 1][rng.weighted([50, 20, 30])]
            case 14: language = [8, 1][rng.weighted([60, 40])]
            case 12: language = [10, 12, 14, 1][rng.weighted([30, 20, 20, 30])]
            case 4, 16: language = [1, 13, 15, 4][rng.weighted([70, 12, 12, 6])]
            default: language = [1, 2][rng.weighted([97, 3])]
            }
        }
        // Religion (indices into SyntheticProfileValues.religions; 0 = not recorded).
        var religionWeights: [Double] = [0, 35, 20, 10, 12, 8, 4, 2, 1.5, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.2, 0.5, 0.3, 0.3, 0.2]
        switch ethnic {
        case .asian: religionWeights[10] *= 15; religionWeights[14] *= 10
        case .hispanic: religionWeights[1] *= 1.8
        case .black: religionWeights[17] *= 10; religionWeights[12] *= 3
        default: break
        }
        if ethnicityString == 6 { religionWeights[5] *= 3; religionWeights[16] *= 5 }
        if ethnicityString == 4 || ethnicityString == 16 { religionWeights[11] *= 8 }
        let religion = rng.chance(0.1) ? 0 : rng.weighted(religionWeights)
        // Insurance follows age (Medicare from 65) and, before 65, ethnicity.
        var insurance: P.Insurance
        if age >= 65 {
            insurance = P.Insurance(rawValue: rng.weighted([0.85, 0.03, 0.10, 0.01, 0.01])) ?? .medicare
        } else {
            let medicaid = (ethnic == .black || ethnic == .hispanic) ? 0.45 : 0.25
            insurance = P.Insurance(rawValue: rng.weighted([0.08, medicaid, 0.55, 0.06, 0.06])) ?? .privateIns
        }
        if rng.chance(0.002) { insurance = .selfPay }
        // Marital status follows age.
        let maritalWeights: [Double]
        if age < 30 {
            maritalWeights = [0.15, 0.75, 0, 0.02, 0.01, 0.04, 0.03]
        } else if age < 65 {
            maritalWeights = [0.5, 0.25, 0.03, 0.12, 0.03, 0.04, 0.03]
        } else {
            maritalWeights = [0.45, 0.1, 0.3, 0.08, 0.02, 0.03, 0.02]
        }
        let marital = P.Marital(rawValue: rng.weighted(maritalWeights)) ?? .unknown
        return SyntheticProfile(gender: gender, age: age, ethnic: ethnic, insurance: insurance, marital: marital,
                                language: language, religion: religion, ethnicityString: ethnicityString)
    }
}

extension Xoshiro256 {
    /// An index drawn with probability proportional to `weights` (all ≥ 0, not all 0; else index 0).
    mutating func weighted(_ weights: [Double]) -> Int {
        var total = 0.0
        for w in weights { total += w }
        guard total > 0 else { return 0 }
        var u = unit() * total
        for (i, w) in weights.enumerated() {
            if u < w { return i }
            u -= w
        }
        return weights.lastIndex(where: { $0 > 0 }) ?? 0
    }
}

extension Array where Element == Int {
    /// The elements in first-seen order without repeats.
    func uniquedKeepingOrder() -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(count)
        for x in self where !out.contains(x) { out.append(x) }
        return out
    }
}

import Testing
@testable import LeaderCore

/// The generative rules, checked on generated patients (no files).
@Suite struct SyntheticRulesTests {
    static let generator = Result { try PatientGenerator(config: SyntheticConfig(patients: 1, seed: 11)) }
    static let patients: [SyntheticPatient] = {
        guard let g = try? generator.get() else { return [] }
        return (0..<6000).map { g.patient($0) }
    }()

    @Test func catalogAndRulesCompile() throws {
        let g = try Self.generator.get()
        #expect(g.catalog.diagnoses.count >= 150 && g.catalog.diagnoses.count <= 300)
        #expect(g.catalog.procedures.count >= 60 && g.catalog.procedures.count <= 150)
        #expect(g.catalog.classes.count >= 80 && g.catalog.classes.count <= 130)
        #expect(g.catalog.classes.allSatisfy { $0.atc3.count == 4 && !$0.whoName.isEmpty })
        #expect(g.catalog.products.allSatisfy { $0.ndc.count == 11 && $0.atc5.hasPrefix(g.catalog.classes[$0.classIndex].atc3) })
        #expect(g.catalog.products.contains { !$0.mapped } && g.catalog.products.contains { $0.mapped })
        #expect(Self.patients.count == 6000)
    }

    /// Every chronic code family: the common code dominates, rare variants occur, and every rare variant's title
    /// shares a word with the common code's title (what a text model can exploit).
    @Test func rareVariantsShareWordsWithCommonCode() throws {
        let g = try Self.generator.get()
        func words(_ code: Int) -> Set<String> {
            let c = g.catalog.diagnoses[code]
            let text = (c.shortTitle + " " + c.longTitle).lowercased()
            return Set(text.split { !$0.isLetter }.map(String.init).filter { $0.count >= 4 })
        }
        var counts: [Int: Int] = [:]
        for p in Self.patients { for a in p.admissions { for d in a.diagnoses { counts[d, default: 0] += 1 } } }
        var families = 0
        for rule in g.rules.chronic {
            // A rare-variant family: several codes, the first carrying at least 70 % of the weight.
            guard rule.dx.itemCount > 0 else { continue }
            let codes = Array(rule.dx.codes(ofItem: 0))
            let weights = Array(rule.dx.cumulativeWeights[rule.dx.itemStart[0]..<rule.dx.itemStart[1]])
            guard codes.count > 1, weights[0] >= 0.7 * (weights.last ?? 0) else { continue }
            families += 1
            let common = codes[0]
            let rare = codes.dropFirst()
            let n = codes.map { counts[$0, default: 0] }
            let total = n.reduce(0, +)
            #expect(total > 0, "\(rule.source.id) never occurs")
            if total >= 50 {
                #expect(Double(n[0]) / Double(total) > 0.5, "\(rule.source.id): common code share")
                #expect(n.dropFirst().reduce(0, +) > 0, "\(rule.source.id): no rare variant")
            }
            for r in rare {
                #expect(!words(common).isDisjoint(with: words(r)),
                        "\(rule.source.id): \(g.catalog.diagnoses[r].code) shares no title word with \(g.catalog.diagnoses[common].code)")
            }
        }
        #expect(families >= 15)
    }

    @Test func chronicConditionsAndDrugsPersist() throws {
        let g = try Self.generator.get()
        guard let dm = g.catalog.diagnosisIndex["25000"], let a10a = g.catalog.classIndex["A10A"] else {
            Issue.record("catalog lacks 25000 / A10A"); return
        }
        // Among multi-visit patients with 25000 at the first visit, later visits keep 25000 and insulin mostly.
        var later = 0, keptDx = 0, keptRx = 0
        for p in Self.patients where p.admissions.count > 1 && p.admissions[0].diagnoses.contains(dm) {
            for a in p.admissions.dropFirst() {
                later += 1
                if a.diagnoses.contains(dm) { keptDx += 1 }
                if a.prescriptions.contains(where: { g.catalog.products[$0.product].classIndex == a10a }) { keptRx += 1 }
            }
        }
        #expect(later > 50)
        #expect(Double(keptDx) / Double(later) > 0.8, "25000 persistence")
        #expect(Double(keptRx) / Double(later) > 0.6, "A10A persistence")
    }

    static func share(_ ps: [SyntheticPatient], _ f: (SyntheticPatient) -> Bool) -> Double {
        ps.isEmpty ? 0 : Double(ps.filter(f).count) / Double(ps.count)
    }

    @Test func profileChangesPrevalenceAndDrugChoice() throws {
        let g = try Self.generator.get()
        let ps = Self.patients
        func hasDx(_ code: String) -> (SyntheticPatient) -> Bool {
            let i = g.catalog.diagnosisIndex[code] ?? -1
            return { p in p.admissions.contains { $0.diagnoses.contains(i) } }
        }
        func hasClass(_ atc: String) -> (SyntheticPatient) -> Bool {
            let c = g.catalog.classIndex[atc] ?? -1
            return { p in p.admissions.contains { a in a.prescriptions.contains { g.catalog.products[$0.product].classIndex == c } } }
        }
        // Hypothyroidism is commoner in women.
        let women = ps.filter { $0.profile.gender == .female }, men = ps.filter { $0.profile.gender == .male }
        #expect(Self.share(women, hasDx("2449")) > 1.5 * Self.share(men, hasDx("2449")))
        // Black patients with hypertension get calcium-channel blockers more often.
        let htn = ps.filter(hasDx("4019"))
        let black = htn.filter { $0.profile.ethnic == .black }, other = htn.filter { $0.profile.ethnic != .black }
        #expect(black.count > 30)
        #expect(Self.share(black, hasClass("C08C")) > Self.share(other, hasClass("C08C")) + 0.1)
        // Age: Medicare from 65; AF rises with age.
        let old = ps.filter { $0.profile.age >= 75 }, young = ps.filter { $0.profile.age < 45 }
        #expect(Self.share(old, { $0.profile.insurance == .medicare }) > 0.7)
        #expect(Self.share(old, hasDx("42731")) > 3 * Self.share(young, hasDx("42731")))
        // Insurance: substance use is commoner with Medicaid / self pay.
        let poor = ps.filter { $0.profile.insurance == .medicaid || $0.profile.insurance == .selfPay }
        let rich = ps.filter { $0.profile.insurance == .privateIns }
        #expect(Self.share(poor, hasDx("30500")) > 1.3 * Self.share(rich, hasDx("30500")))
        // Jehovah's Witnesses never get blood products or transfusions.
        let jw = ps.filter { ProfileTest.jehovahsWitness.matches($0.profile) }
        #expect(!jw.isEmpty)
        #expect(!jw.contains(where: hasClass("B05A")) && !jw.contains(where: { p in
            p.admissions.contains { a in a.procedures.contains { g.rules.transfusionProcedures.contains($0) } } }))
        #expect(ps.contains(where: hasClass("B05A")))
    }

    @Test func randomNumbersAreDeterministicAndUniform() {
        var a = Xoshiro256(seed: 99, stream: 3), b = Xoshiro256(seed: 99, stream: 3), c = Xoshiro256(seed: 99, stream: 4)
        let xa = (0..<8).map { _ in a.next() }, xb = (0..<8).map { _ in b.next() }, xc = (0..<8).map { _ in c.next() }
        #expect(xa == xb && xa != xc)
        var r = Xoshiro256(seed: 1)
        var sum = 0.0
        var hist = [Int](repeating: 0, count: 10)
        for _ in 0..<100_000 {
            sum += r.unit()
            hist[r.below(10)] += 1
        }
        #expect(abs(sum / 100_000 - 0.5) < 0.01)
        #expect(hist.allSatisfy { abs($0 - 10_000) < 500 })
        // SplitMix64 reference value (Vigna's splitmix64.c, seed 0): first output 0xE220A8397B1DCDAF.
        var sm = SplitMix64(seed: 0)
        #expect(sm.next() == 0xE220_A839_7B1D_CDAF)
    }

    @Test func civilDatesRoundTrip() {
        #expect(CivilTime.days(year: 1970, month: 1, day: 1) == 0)
        #expect(CivilTime.days(year: 2000, month: 3, day: 1) == 11_017)
        for d in stride(from: 40_000, to: 90_000, by: 37) {
            let c = CivilTime.civil(days: d)
            #expect(CivilTime.days(year: c.year, month: c.month, day: c.day) == d)
        }
        #expect(CivilTime.civil(days: CivilTime.days(year: 2150, month: 2, day: 29)) == (2150, 3, 1))
    }
}

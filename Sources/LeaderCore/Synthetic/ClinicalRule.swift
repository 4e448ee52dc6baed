/// One generative rule of the synthetic cohort: a chronic condition, an acute episode (the reason for an
/// admission) or an in-hospital complication, with its diagnosis codes, procedures and drug classes.
///
/// Code specs are strings in a small grammar, compiled once by `CompiledSpec`:
/// a spec is whitespace-separated *items*; an item is alternatives separated by `|`, each `CODE` or
/// `CODE*weight` (default weight 1), with an optional `@probability` suffix (default 1). Sampling a spec: each
/// item, independently with its probability, contributes one alternative drawn by weight.
/// Example: `"C09A*3|C07A*3|C08C*2@0.85 C10A@0.3"`.
struct ClinicalRule: Sendable {
    enum Kind: Sendable { case chronic, episode, complication }

    let kind: Kind
    let id: String
    /// Chronic: prevalence at the first admission. Episode: relative weight. Complication: per-visit probability.
    let base: Double
    /// Profile multipliers on `base`.
    let risks: [Risk]
    /// Other rules (chronic ids) that multiply `base` when the patient has them: `"chf*6 cad*2"`.
    let boost: String
    /// Diagnoses (ICD-9, no dots). For a chronic rule the first item is the code family, fixed per patient.
    let dx: String
    /// Procedures (ICD-9 procedure codes, no dots).
    let px: String
    /// Drug classes (ATC level 3).
    let rx: String
    /// Profile-specific drug specs replacing `rx` (first match wins).
    let rxWhen: [RxVariant]
    /// Profile-specific procedure specs replacing `px` (first match wins).
    let pxWhen: [PxVariant]
    /// Free-text admission diagnosis (ADMISSIONS.DIAGNOSIS) for episodes.
    let label: String
    /// Episode: probability the admission is elective.
    let elective: Double
    /// Episode: in-hospital mortality.
    let mortality: Double

    init(_ kind: Kind, _ id: String, base: Double, risks: [Risk] = [], boost: String = "", dx: String,
         px: String = "", rx: String = "", rxWhen: [RxVariant] = [], pxWhen: [PxVariant] = [], label: String = "", elective: Double = 0,
         mortality: Double = 0) {
        self.kind = kind; self.id = id; self.base = base; self.risks = risks; self.boost = boost; self.dx = dx
        self.px = px; self.rx = rx; self.rxWhen = rxWhen; self.pxWhen = pxWhen; self.label = label; self.elective = elective
        self.mortality = mortality
    }
}

/// A profile multiplier: when `test` matches, multiply the rule's base rate by `factor`.
struct Risk: Sendable {
    let test: ProfileTest
    let factor: Double
    init(_ test: ProfileTest, _ factor: Double) { self.test = test; self.factor = factor }
}

/// A procedure spec that replaces a rule's `px` for patients matching `when` (same shape as `RxVariant`).
typealias PxVariant = RxVariant

/// A drug spec that replaces a rule's `rx` for patients matching `when`.
struct RxVariant: Sendable {
    let when: ProfileTest
    let rx: String
    init(_ when: ProfileTest, _ rx: String) { self.when = when; self.rx = rx }
}

/// The demographic profile of one synthetic patient: the MIMIC-III admission-side profile columns plus gender and
/// age. Groups are enums (the rules test them); the MIMIC-III strings written to the CSVs are drawn within a group.
struct SyntheticProfile: Sendable {
    enum Gender: Sendable { case female, male }
    enum Ethnic: Int, Sendable, CaseIterable { case white, black, hispanic, asian, other, unknown }
    enum Insurance: Int, Sendable, CaseIterable { case medicare, medicaid, privateIns, government, selfPay }
    enum Marital: Int, Sendable, CaseIterable { case married, single, widowed, divorced, separated, unknown, notRecorded }

    var gender: Gender
    /// Age in whole years at the first admission (18...89).
    var age: Int
    var ethnic: Ethnic
    var insurance: Insurance
    var marital: Marital
    /// Index into `SyntheticProfileValues.languages` ("" = not recorded).
    var language: Int
    /// Index into `SyntheticProfileValues.religions` ("" = not recorded).
    var religion: Int
    /// Index into `SyntheticProfileValues.ethnicities` (the exact MIMIC-III string).
    var ethnicityString: Int
}

/// A test on a profile, used by prevalence multipliers and profile-specific drug choices.
indirect enum ProfileTest: Sendable {
    case always
    case female
    case male
    case ageAtLeast(Int)
    case ageBelow(Int)
    case ethnic(SyntheticProfile.Ethnic)
    case insurance(SyntheticProfile.Insurance)
    /// Language recorded and not English.
    case nonEnglish
    case jehovahsWitness
    /// Single, widowed, divorced or separated.
    case unpartnered
    case not(ProfileTest)
    case all([ProfileTest])

    func matches(_ p: SyntheticProfile) -> Bool {
        switch self {
        case .always: return true
        case .female: return p.gender == .female
        case .male: return p.gender == .male
        case .ageAtLeast(let a): return p.age >= a
        case .ageBelow(let a): return p.age < a
        case .ethnic(let e): return p.ethnic == e
        case .insurance(let i): return p.insurance == i
        case .nonEnglish: return p.language != SyntheticProfileValues.english && p.language != 0
        case .jehovahsWitness: return p.religion == SyntheticProfileValues.jehovahsWitness
        case .unpartnered:
            return p.marital == .single || p.marital == .widowed || p.marital == .divorced || p.marital == .separated
        case .not(let t): return !t.matches(p)
        case .all(let ts): return ts.allSatisfy { $0.matches(p) }
        }
    }
}

/// The exact strings MIMIC-III v1.4 uses in ADMISSIONS for the profile columns.
enum SyntheticProfileValues {
    /// Index 0 is "not recorded" (an empty field, as in MIMIC-III).
    static let languages = ["", "ENGL", "SPAN", "RUSS", "PTUN", "CANT", "MAND", "PORT", "HAIT", "VIET", "ITAL",
                            "CAPE", "GREE", "ARAB", "POLI", "FREN"]
    static let english = 1
    static let religions = ["", "CATHOLIC", "NOT SPECIFIED", "UNOBTAINABLE", "PROTESTANT QUAKER", "JEWISH", "OTHER",
                            "EPISCOPALIAN", "GREEK ORTHODOX", "CHRISTIAN SCIENTIST", "BUDDHIST", "MUSLIM",
                            "JEHOVAH'S WITNESS", "UNITARIAN-UNIVERSALIST", "HINDU", "7TH DAY ADVENTIST",
                            "ROMANIAN EAST. ORTH", "BAPTIST", "HEBREW", "METHODIST", "LUTHERAN"]
    static let jehovahsWitness = 12
    static let ethnicities = ["WHITE", "BLACK/AFRICAN AMERICAN", "HISPANIC OR LATINO", "ASIAN", "OTHER",
                              "UNKNOWN/NOT SPECIFIED", "WHITE - RUSSIAN", "HISPANIC/LATINO - PUERTO RICAN",
                              "ASIAN - CHINESE", "BLACK/CAPE VERDEAN", "UNABLE TO OBTAIN", "PATIENT DECLINED TO ANSWER",
                              "WHITE - OTHER EUROPEAN", "ASIAN - VIETNAMESE", "BLACK/HAITIAN",
                              "HISPANIC/LATINO - DOMINICAN", "MULTI RACE ETHNICITY", "PORTUGUESE"]
    static let insurances = ["Medicare", "Medicaid", "Private", "Government", "Self Pay"]
    /// Indexed by `SyntheticProfile.Marital.rawValue`.
    static let maritals = ["MARRIED", "SINGLE", "WIDOWED", "DIVORCED", "SEPARATED", "UNKNOWN (DEFAULT)", ""]
}

/// The text templates of the teacher's prompt: LEADER's strings by default (reference §2), replaceable by any
/// strings that use the same placeholders. Placeholders are `<NAME>`; a `[[ ... ]]` segment is optional and is
/// left out when a placeholder inside it has no value (used for the gender/age clauses of the profile sentence).
/// Filling is one pass over the parsed template, so code titles that happen to contain `<...>` are never
/// substituted again. Decoding rejects unknown keys and unknown placeholders.
public struct PromptTemplate: Codable, Sendable, Equatable {
    /// Whole prompt. Placeholders: `<VISIT_NUM>`, `<HISTORY>`, `<DIAGNOSIS>` (required), `<PROCEDURE>`.
    public var main: String
    /// One earlier visit, repeated for each shown. Placeholders: `<VISIT_NO>`, `<DIAGNOSIS>`, `<PROCEDURE>`,
    /// `<MEDICATION>`.
    public var history: String
    /// Profile sentence put in front of `main` when the input has a profile; nil: never. Placeholders:
    /// `<INSU>` insurance, `<LANG>` language, `<RELIGION>` religion, `<MARITAL>` marital_status, `<ETHN>` ethnicity,
    /// `<ADMTYPE>` admission_type, `<RACE>` race, `<GENDER>` gender, `<AGE>` age (the profile keys in brackets).
    public var profile: String?
    /// How many of the most recent earlier visits `<HISTORY>` shows (LEADER: 3).
    public var historyVisits: Int
    /// Joins the titles of a code list (LEADER: ", ").
    public var separator: String

    public init(main: String, history: String, profile: String? = nil, historyVisits: Int = 3,
                separator: String = ", ") throws(LeaderError) {
        self.main = main
        self.history = history
        self.profile = profile
        self.historyVisits = historyVisits
        self.separator = separator
        try validate()
    }

    private init(unchecked main: String, history: String, profile: String?) {
        self.main = main
        self.history = history
        self.profile = profile
        self.historyVisits = 3
        self.separator = ", "
    }

    // MARK: - LEADER's strings

    /// LEADER's main template, exactly as in `data/mimic3/construction.ipynb` (spaces and `\n` included).
    public static let leaderMain = "The patient has <VISIT_NUM> times ICU visits. \n <HISTORY> In this visit, he has "
        + "diagnosis: <DIAGNOSIS>; procedures: <PROCEDURE>. Then, the patient should be prescribed: "
    /// LEADER's history template, exactly as shipped. (The shipped code then replaced `<DIGNOSIS>`, a typo, so
    /// every history visit showed the current visit's diagnoses; here `<DIAGNOSIS>` is filled per visit.)
    public static let leaderHistory = "In <VISIT_NO> visit, the patient had diagnosis: <DIAGNOSIS>; procedures: "
        + "<PROCEDURE>. The patient was prescribed drugs: <MEDICATION>. \n"
    /// The MIMIC-III profile sentence (a comment in LEADER's notebook), plus optional gender and age clauses.
    public static let mimic3ProfileSentence = "The patient's insurance type is <INSU>, language is <LANG>, religion is "
        + "<RELIGION>, marital status is <MARITAL>, ethnicity is <ETHN>[[, gender is <GENDER>]][[, age is <AGE>]]. "
    /// The MIMIC-IV profile sentence (admission type and race instead of religion and ethnicity), plus gender/age.
    public static let mimic4ProfileSentence = "The patient's insurance type is <INSU>, language is <LANG>, admission "
        + "type is <ADMTYPE>, marital status is <MARITAL>, race is <RACE>[[, gender is <GENDER>]][[, age is <AGE>]]. "

    /// LEADER's prompt without a profile sentence (what the shipped code uses).
    public static let leader = PromptTemplate(unchecked: leaderMain, history: leaderHistory, profile: nil)
    /// LEADER's prompt with the MIMIC-III profile sentence.
    public static let leaderMIMIC3Profile = PromptTemplate(unchecked: leaderMain, history: leaderHistory,
                                                           profile: mimic3ProfileSentence)
    /// LEADER's prompt with the MIMIC-IV profile sentence.
    public static let leaderMIMIC4Profile = PromptTemplate(unchecked: leaderMain, history: leaderHistory,
                                                           profile: mimic4ProfileSentence)

    // MARK: - placeholders

    /// Every placeholder, with the profile key it reads where it is a profile field.
    public enum Placeholder: String, Sendable, CaseIterable {
        case visitNum = "VISIT_NUM", history = "HISTORY", diagnosis = "DIAGNOSIS", procedure = "PROCEDURE"
        case visitNo = "VISIT_NO", medication = "MEDICATION"
        case insurance = "INSU", language = "LANG", religion = "RELIGION", marital = "MARITAL", ethnicity = "ETHN"
        case admissionType = "ADMTYPE", race = "RACE", gender = "GENDER", age = "AGE"

        /// The key of `PromptInput.profile` this placeholder reads (nil: not a profile field).
        public var profileKey: String? {
            switch self {
            case .insurance: return "insurance"
            case .language: return "language"
            case .religion: return "religion"
            case .marital: return "marital_status"
            case .ethnicity: return "ethnicity"
            case .admissionType: return "admission_type"
            case .race: return "race"
            case .gender: return "gender"
            case .age: return "age"
            default: return nil
            }
        }
    }

    static let mainPlaceholders: Set<Placeholder> = [.visitNum, .history, .diagnosis, .procedure]
    static let historyPlaceholders: Set<Placeholder> = [.visitNo, .diagnosis, .procedure, .medication]
    static let profilePlaceholders: Set<Placeholder> = [.insurance, .language, .religion, .marital, .ethnicity,
                                                        .admissionType, .race, .gender, .age]

    /// Throws `.invalidArgument` for an unknown or misplaced placeholder, unbalanced `[[ ]]`, a main template
    /// without `<DIAGNOSIS>`, or `historyVisits` outside 0...100.
    public func validate() throws(LeaderError) {
        let m = try TemplateText.parse(main, allowed: Self.mainPlaceholders, what: "main")
        guard m.placeholders.contains(.diagnosis) else {
            throw .invalidArgument("prompt template 'main' must contain <DIAGNOSIS> (the current visit)")
        }
        _ = try TemplateText.parse(history, allowed: Self.historyPlaceholders, what: "history")
        if let profile { _ = try TemplateText.parse(profile, allowed: Self.profilePlaceholders, what: "profile") }
        guard (0...100).contains(historyVisits) else {
            throw .invalidArgument("prompt template 'historyVisits' must be in 0...100 (got \(historyVisits))")
        }
    }

    // MARK: - Codable (unknown keys rejected, placeholders validated)

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case main, history, profile, historyVisits, separator
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self, "prompt template")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(main: try c.decodeIfPresent(String.self, forKey: .main) ?? Self.leaderMain,
                      history: try c.decodeIfPresent(String.self, forKey: .history) ?? Self.leaderHistory,
                      profile: try c.decodeIfPresent(String.self, forKey: .profile),
                      historyVisits: try c.decodeIfPresent(Int.self, forKey: .historyVisits) ?? 3,
                      separator: try c.decodeIfPresent(String.self, forKey: .separator) ?? ", ")
    }
}

/// A template parsed into literal text, placeholders and optional `[[ ]]` groups.
struct TemplateText: Sendable {
    enum Segment: Sendable {
        case text(String)
        case placeholder(PromptTemplate.Placeholder)
        case optional([Segment])
    }

    let segments: [Segment]
    let placeholders: Set<PromptTemplate.Placeholder>

    /// Parses `source`; a `<NAME>` with NAME of capitals, digits and `_` must be one of `allowed`.
    static func parse(_ source: String, allowed: Set<PromptTemplate.Placeholder>,
                      what: String) throws(LeaderError) -> TemplateText {
        let chars = Array(source.unicodeScalars)
        var top: [Segment] = []
        var group: [Segment]?
        var literal = String.UnicodeScalarView()
        var used = Set<PromptTemplate.Placeholder>()
        func flush() {
            guard !literal.isEmpty else { return }
            let s = Segment.text(String(literal))
            if group != nil { group?.append(s) } else { top.append(s) }
            literal = String.UnicodeScalarView()
        }
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "[", i + 1 < chars.count, chars[i + 1] == "[" {
                guard group == nil else { throw .invalidArgument("prompt template '\(what)': nested '[['") }
                flush()
                group = []
                i += 2
                continue
            }
            if c == "]", i + 1 < chars.count, chars[i + 1] == "]" {
                guard let g = group else { throw .invalidArgument("prompt template '\(what)': ']]' without '[['") }
                flush()
                top.append(.optional(g))
                group = nil
                i += 2
                continue
            }
            if c == "<" {
                var j = i + 1
                while j < chars.count, Self.isNameScalar(chars[j]) { j += 1 }
                if j > i + 1, j < chars.count, chars[j] == ">" {
                    var name = String.UnicodeScalarView()
                    name.append(contentsOf: chars[(i + 1)..<j])
                    let text = String(name)
                    guard let p = PromptTemplate.Placeholder(rawValue: text), allowed.contains(p) else {
                        let list = allowed.map { "<\($0.rawValue)>" }.sorted().joined(separator: " ")
                        throw .invalidArgument("prompt template '\(what)': unknown placeholder <\(text)> (allowed: \(list))")
                    }
                    flush()
                    used.insert(p)
                    if group != nil { group?.append(.placeholder(p)) } else { top.append(.placeholder(p)) }
                    i = j + 1
                    continue
                }
            }
            literal.append(c)
            i += 1
        }
        guard group == nil else { throw .invalidArgument("prompt template '\(what)': '[[' without ']]'") }
        flush()
        return TemplateText(segments: top, placeholders: used)
    }

    private static func isNameScalar(_ c: Unicode.Scalar) -> Bool {
        (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_"
    }

    /// Fills the template: `value` gives a placeholder's text or nil (no value). An optional group with a
    /// placeholder without value is left out; elsewhere a missing value is written as `missing`.
    func render(missing: String, _ value: (PromptTemplate.Placeholder) -> String?) -> String {
        var out = ""
        for s in segments { Self.append(s, to: &out, missing: missing, value) }
        return out
    }

    private static func append(_ s: Segment, to out: inout String, missing: String,
                               _ value: (PromptTemplate.Placeholder) -> String?) {
        switch s {
        case .text(let t): out += t
        case .placeholder(let p): out += value(p) ?? missing
        case .optional(let inner):
            var part = ""
            for x in inner {
                if case .placeholder(let p) = x, value(p) == nil { return }
                append(x, to: &part, missing: missing, value)
            }
            out += part
        }
    }
}

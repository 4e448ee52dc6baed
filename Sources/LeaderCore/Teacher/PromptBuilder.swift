/// One visit as the prompt sees it: code TITLES (diagnosis and procedure short titles, ATC3 medication names), in
/// the order to print them.
public struct PromptVisit: Sendable, Equatable {
    public var diagnoses: [String]
    public var procedures: [String]
    public var medications: [String]

    public init(diagnoses: [String], procedures: [String], medications: [String] = []) {
        self.diagnoses = diagnoses
        self.procedures = procedures
        self.medications = medications
    }
}

/// What one prompt is built from: earlier visits (oldest first), the current visit (its medications are the
/// target and never printed) and an optional profile keyed by `insurance`, `language`, `religion`,
/// `marital_status`, `ethnicity`, `admission_type`, `race`, `gender`, `age`.
public struct PromptInput: Sendable, Equatable {
    public var history: [PromptVisit]
    public var current: PromptVisit
    public var profile: [String: String]?
    /// The number of earlier visits of the patient when `history` holds only the most recent of them
    /// (nil: `history.count`). `<VISIT_NUM>` prints it and `<VISIT_NO>` counts from it.
    public var previousVisits: Int?

    public init(history: [PromptVisit], current: PromptVisit, profile: [String: String]? = nil,
                previousVisits: Int? = nil) {
        self.history = history
        self.current = current
        self.profile = profile
        self.previousVisits = previousVisits
    }
}

/// A built prompt and what truncation did to it.
public struct Prompt: Sendable, Equatable {
    public var text: String
    /// Tokens of `text` by the caller's tokenizer (nil when built without one).
    public var tokens: Int?
    /// Earlier visits shown / left out to fit the budget (visits beyond `historyVisits` are not counted here).
    public var historyShown: Int
    public var historyDropped: Int
    /// The profile sentence was left out to fit the budget.
    public var profileDropped: Bool
    /// False when even the current visit alone exceeds the budget (the text is then the current visit alone and
    /// the caller's tokenizer-level truncation decides).
    public var fitsBudget: Bool
}

/// Fills a `PromptTemplate` from a `PromptInput`.
///
/// Rules (LEADER's, with its history typo fixed):
/// - `<VISIT_NUM>` = number of earlier visits (`previousVisits ?? history.count`);
/// - `<HISTORY>` = the last `historyVisits` earlier visits, oldest first, each filled into the history template;
///   `<VISIT_NO>` keeps the visit's original 1-based number;
/// - each visit's own diagnoses fill its `<DIAGNOSIS>` (LEADER's shipped code showed the current visit's);
/// - code lists are titles joined with `separator`; medication names are the ATC3 names as given
///   (LEADER: the WHO name lower-cased, see `PromptBuilder.leaderMedicationName`);
/// - profile sentence (if the template has one and the input has a profile) goes first; a missing or empty
///   value is written `unknown` (LEADER fills NaN so); optional `[[ ]]` clauses (gender, age) only when present.
///
/// Truncation to a token budget: while the prompt has more tokens than the budget, drop the OLDEST shown history
/// visit; with no history left, drop the profile sentence; the current visit is always kept (`fitsBudget` says
/// whether that was enough).
public struct PromptBuilder: Sendable {
    public let template: PromptTemplate
    private let main: TemplateText
    private let history: TemplateText
    private let profile: TemplateText?

    public init(template: PromptTemplate = .leader) throws(LeaderError) {
        try template.validate()
        self.template = template
        main = try TemplateText.parse(template.main, allowed: PromptTemplate.mainPlaceholders, what: "main")
        history = try TemplateText.parse(template.history, allowed: PromptTemplate.historyPlaceholders,
                                         what: "history")
        if let p = template.profile {
            profile = try TemplateText.parse(p, allowed: PromptTemplate.profilePlaceholders, what: "profile")
        } else {
            profile = nil
        }
    }

    /// LEADER's medication text: the WHO ATC3 name lower-cased ("OTHER ANALGESICS AND ANTIPYRETICS" ->
    /// "other analgesics and antipyretics").
    public static func leaderMedicationName(_ whoName: String) -> String { whoName.lowercased() }

    /// The prompt with no budget.
    public func build(_ input: PromptInput) throws(LeaderError) -> Prompt {
        let shown = HistoryWindow(earlierVisits: template.historyVisits).kept(of: input.history.count)
        let text = try render(input, historyShown: shown, withProfile: true)
        return Prompt(text: text, tokens: nil, historyShown: shown, historyDropped: 0, profileDropped: false,
                      fitsBudget: true)
    }

    /// The prompt cut to at most `budget` tokens as counted by `tokenCount`, by the rule in the type's doc.
    public func build(_ input: PromptInput, budget: Int,
                      tokenCount: (String) -> Int) throws(LeaderError) -> Prompt {
        guard budget >= 1 else { throw .invalidArgument("prompt token budget must be >= 1 (got \(budget))") }
        let full = HistoryWindow(earlierVisits: template.historyVisits).kept(of: input.history.count)
        var shown = full
        var withProfile = true
        while true {
            let text = try render(input, historyShown: shown, withProfile: withProfile)
            let n = tokenCount(text)
            let canDrop = shown > 0 || (withProfile && profile != nil && input.profile != nil)
            if n <= budget || !canDrop {
                return Prompt(text: text, tokens: n, historyShown: shown, historyDropped: full - shown,
                              profileDropped: !withProfile, fitsBudget: n <= budget)
            }
            if shown > 0 { shown -= 1 } else { withProfile = false }
        }
    }

    private func render(_ input: PromptInput, historyShown: Int, withProfile: Bool) throws(LeaderError) -> String {
        let previous = input.previousVisits ?? input.history.count
        guard previous >= input.history.count else {
            throw .invalidArgument("prompt input: previousVisits (\(previous)) < history count (\(input.history.count))")
        }
        let sep = template.separator
        // Visit numbers: the history holds visits (previous - history.count + 1) ... previous.
        let firstNumber = previous - input.history.count + 1
        var historyText = ""
        let start = input.history.count - historyShown
        for k in start..<input.history.count {
            let v = input.history[k]
            historyText += history.render(missing: "unknown") { p in
                switch p {
                case .visitNo: return String(firstNumber + k)
                case .diagnosis: return v.diagnoses.joined(separator: sep)
                case .procedure: return v.procedures.joined(separator: sep)
                case .medication: return v.medications.joined(separator: sep)
                default: return nil
                }
            }
        }
        let body = main.render(missing: "unknown") { p in
            switch p {
            case .visitNum: return String(previous)
            case .history: return historyText
            case .diagnosis: return input.current.diagnoses.joined(separator: sep)
            case .procedure: return input.current.procedures.joined(separator: sep)
            default: return nil
            }
        }
        guard withProfile, let profile, let values = input.profile else { return body }
        let sentence = profile.render(missing: "unknown") { p in
            guard let key = p.profileKey, let v = values[key], !v.isEmpty else { return nil }
            return v
        }
        return sentence + body
    }
}

/// One training/evaluation example of the teacher: a LEADER prompt for a sample of a prepared dataset, its
/// tokens (prompt + EOS, at most the token budget) and the medication ids of the target visit.
public struct TeacherExample: Sendable {
    /// `<patient id>:<target visit id>` (source ids), the key of the teacher-features file.
    public let id: String
    public let split: SplitPart
    public let text: String
    public let tokens: [Int32]
    public let medications: [Int]
    /// Visits the sample covers (history + the target visit): 1 means a single-visit patient in evaluation.
    public let visitCount: Int
    /// The prompt did not fit the budget even without history and profile; its tokens were cut from the front.
    public let truncated: Bool
}

/// Samples of a `PreparedDataset` turned into prompts (`PromptBuilder`: code titles, medication names as
/// LEADER writes them, the profile sentence when the template has one) and tokens.
public enum TeacherData {
    /// The prompt input of sample `s`: the history visits `historyStart ..< target`, the target visit's
    /// diagnoses and procedures, the profile of `d.profile(of:)`.
    public static func promptInput(_ d: PreparedDataset, _ s: Sample) throws(LeaderError) -> PromptInput {
        promptInput(d, s, window: try d.visits(of: s))
    }

    /// The same from the sample's checked visits (`PreparedDataset.visits(of:)`).
    static func promptInput(_ d: PreparedDataset, _ s: Sample, window: ArraySlice<Visit>) -> PromptInput {
        let c = d.cohort
        func titles(_ v: Vocabulary, _ ids: [Int32]) -> [String] {
            ids.map { i in
                let k = Int(i)
                guard v.titles.indices.contains(k), v.keys.indices.contains(k) else { return "unknown" }
                return v.titles[k].isEmpty ? v.keys[k] : v.titles[k]
            }
        }
        func visit(_ v: Visit, medications: Bool) -> PromptVisit {
            PromptVisit(diagnoses: titles(c.diagnoses, v.diagnoses), procedures: titles(c.procedures, v.procedures),
                        medications: medications
                            ? titles(c.medications, v.medications).map(PromptBuilder.leaderMedicationName) : [])
        }
        let history = window.dropLast().map { visit($0, medications: true) }
        var profile: [String: String] = [:]
        for (f, label) in zip(c.profile.fields, d.profile(of: s)) {
            let l = Int(label)
            profile[f.name] = f.values.indices.contains(l) ? f.values[l] : ProfileSchema.unknown
        }
        return PromptInput(history: history, current: visit(window[window.endIndex - 1], medications: false),
                           profile: profile.isEmpty ? nil : profile, previousVisits: Int(s.targetVisit))
    }

    /// Every sample of `part` (nil: all) as an example of at most `maxTokens` tokens including the EOS.
    public static func examples(_ d: PreparedDataset, part: SplitPart?, tokenizer: BPETokenizer,
                                builder: PromptBuilder, maxTokens: Int) throws(LeaderError) -> [TeacherExample] {
        guard maxTokens >= 2 else { throw .invalidArgument("--max-tokens must be >= 2, got \(maxTokens)") }
        guard let eos = tokenizer.eosID else { throw .incompatible("tokenizer: no EOS token id") }
        var out: [TeacherExample] = []
        for s in d.samples {
            let window = try d.visits(of: s), p = Int(s.patient)
            if let part, d.split[p] != part { continue }
            let input = promptInput(d, s, window: window)
            let prompt = try builder.build(input, budget: maxTokens - 1) { tokenizer.encode($0).count }
            var tokens = tokenizer.encode(prompt.text)
            let cut = tokens.count > maxTokens - 1
            if cut { tokens = Array(tokens.suffix(maxTokens - 1)) }
            tokens.append(eos)
            let visit = window[window.endIndex - 1]
            out.append(TeacherExample(id: try d.sampleID(s), split: d.split[p], text: prompt.text,
                                      tokens: tokens, medications: visit.medications.map { Int($0) },
                                      visitCount: Int(s.targetVisit - s.historyStart) + 1, truncated: cut))
        }
        return out
    }

    /// The target medications of every sample of `part` (nil: all), without building prompts.
    public static func medications(_ d: PreparedDataset, part: SplitPart?) -> [[Int]] {
        d.samples.compactMap { s -> [Int]? in
            guard let window = try? d.visits(of: s), let target = window.last else { return nil }
            if let part, d.split[Int(s.patient)] != part { return nil }
            return target.medications.map { Int($0) }
        }
    }
}

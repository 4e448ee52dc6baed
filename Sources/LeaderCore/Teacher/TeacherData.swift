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
        let c = d.cohort
        guard c.patients.indices.contains(Int(s.patient)) else {
            throw .invalidArgument("sample: patient index \(s.patient) outside the cohort")
        }
        let visits = c.patients[Int(s.patient)].visits
        guard s.historyStart >= 0, s.historyStart <= s.targetVisit, visits.indices.contains(Int(s.targetVisit)) else {
            throw .invalidArgument("sample: visit range \(s.historyStart)...\(s.targetVisit) outside the patient's visits")
        }
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
        let history = visits[Int(s.historyStart)..<Int(s.targetVisit)].map { visit($0, medications: true) }
        var profile: [String: String] = [:]
        for (f, label) in zip(c.profile.fields, d.profile(of: s)) {
            let l = Int(label)
            profile[f.name] = f.values.indices.contains(l) ? f.values[l] : ProfileSchema.unknown
        }
        return PromptInput(history: history, current: visit(visits[Int(s.targetVisit)], medications: false),
                           profile: profile.isEmpty ? nil : profile, previousVisits: Int(s.targetVisit))
    }

    /// Every sample of `part` (nil: all) as an example of at most `maxTokens` tokens including the EOS.
    public static func examples(_ d: PreparedDataset, part: SplitPart?, tokenizer: BPETokenizer,
                                builder: PromptBuilder, maxTokens: Int) throws(LeaderError) -> [TeacherExample] {
        guard maxTokens >= 2 else { throw .invalidArgument("--max-tokens must be >= 2, got \(maxTokens)") }
        guard let eos = tokenizer.eosID else { throw .incompatible("tokenizer: no EOS token id") }
        var out: [TeacherExample] = []
        for (i, s) in d.samples.enumerated() {
            let p = Int(s.patient)
            guard d.split.indices.contains(p), c(d).patients.indices.contains(p) else {
                throw .invalidArgument("sample \(i): patient index \(p) outside the cohort")
            }
            if let part, d.split[p] != part { continue }
            let input = try promptInput(d, s)
            let prompt = try builder.build(input, budget: maxTokens - 1) { tokenizer.encode($0).count }
            var tokens = tokenizer.encode(prompt.text)
            let cut = tokens.count > maxTokens - 1
            if cut { tokens = Array(tokens.suffix(maxTokens - 1)) }
            tokens.append(eos)
            let patient = d.cohort.patients[p]
            let visit = patient.visits[Int(s.targetVisit)]
            out.append(TeacherExample(id: try d.sampleID(s), split: d.split[p], text: prompt.text,
                                      tokens: tokens, medications: visit.medications.map { Int($0) },
                                      visitCount: Int(s.targetVisit - s.historyStart) + 1, truncated: cut))
        }
        return out
    }

    /// The target medications of every sample of `part` (nil: all), without building prompts.
    public static func medications(_ d: PreparedDataset, part: SplitPart?) -> [[Int]] {
        d.samples.compactMap { s -> [Int]? in
            let p = Int(s.patient)
            guard d.split.indices.contains(p), d.cohort.patients.indices.contains(p) else { return nil }
            if let part, d.split[p] != part { return nil }
            let visits = d.cohort.patients[p].visits
            guard visits.indices.contains(Int(s.targetVisit)) else { return nil }
            return visits[Int(s.targetVisit)].medications.map { Int($0) }
        }
    }

    private static func c(_ d: PreparedDataset) -> Cohort { d.cohort }
}

import Foundation
import Testing
@testable import LeaderCore

@Suite struct PromptTemplateTests {
    @Test func leaderStringsAreExact() {
        #expect(PromptTemplate.leaderMain == "The patient has <VISIT_NUM> times ICU visits. \n <HISTORY> In this visit, "
            + "he has diagnosis: <DIAGNOSIS>; procedures: <PROCEDURE>. Then, the patient should be prescribed: ")
        #expect(PromptTemplate.leaderHistory == "In <VISIT_NO> visit, the patient had diagnosis: <DIAGNOSIS>; "
            + "procedures: <PROCEDURE>. The patient was prescribed drugs: <MEDICATION>. \n")
        #expect(throws: Never.self) { try PromptTemplate.leader.validate() }
        #expect(throws: Never.self) { try PromptTemplate.leaderMIMIC3Profile.validate() }
        #expect(throws: Never.self) { try PromptTemplate.leaderMIMIC4Profile.validate() }
    }

    @Test func unknownPlaceholdersAreRejected() {
        // The shipped typo, as a template, is caught.
        let typo = PromptTemplate.leaderHistory.replacingOccurrences(of: "<DIAGNOSIS>", with: "<DIGNOSIS>")
        expectError(.invalidArgument, "prompt template 'history': unknown placeholder <DIGNOSIS> (allowed: <DIAGNOSIS> <MEDICATION> <PROCEDURE> <VISIT_NO>)") { try PromptTemplate(main: PromptTemplate.leaderMain, history: typo) }
        // A placeholder of another template.
        expectError(.invalidArgument, "prompt template 'main': unknown placeholder <MEDICATION> (allowed: <DIAGNOSIS> <HISTORY> <PROCEDURE> <VISIT_NUM>)") {
            try PromptTemplate(main: PromptTemplate.leaderMain + "<MEDICATION>", history: PromptTemplate.leaderHistory)
        }
        expectError(.invalidArgument, "prompt template 'profile': unknown placeholder <INSURANCE> (allowed: <ADMTYPE> <AGE> <ETHN> <GENDER> <INSU> <LANG> <MARITAL> <RACE> <RELIGION>)") {
            try PromptTemplate(main: PromptTemplate.leaderMain, history: PromptTemplate.leaderHistory,
                               profile: "Insurance <INSURANCE>. ")
        }
        // The current visit must be in the prompt; brackets must balance.
        expectError(.invalidArgument, "prompt template 'main' must contain <DIAGNOSIS> (the current visit)") {
            try PromptTemplate(main: "History: <HISTORY>", history: PromptTemplate.leaderHistory)
        }
        expectError(.invalidArgument, "prompt template 'profile': '[[' without ']]'") {
            try PromptTemplate(main: PromptTemplate.leaderMain, history: PromptTemplate.leaderHistory,
                               profile: "[[age <AGE>. ")
        }
        expectError(.invalidArgument, "prompt template 'historyVisits' must be in 0...100 (got -1)") {
            try PromptTemplate(main: PromptTemplate.leaderMain, history: PromptTemplate.leaderHistory, historyVisits: -1)
        }
        // Text that merely looks like markup is fine.
        #expect(throws: Never.self) {
            try PromptTemplate(main: "If a < b then <DIAGNOSIS> <lower> <>", history: "<VISIT_NO>")
        }
    }

    @Test func codableRoundTripAndUnknownKeys() throws {
        let t = try PromptTemplate(main: "Visits <VISIT_NUM>. <HISTORY>Now: <DIAGNOSIS> / <PROCEDURE> ->",
                                   history: "[<VISIT_NO>] <DIAGNOSIS> | <MEDICATION>; ",
                                   profile: "Sex <GENDER>[[, age <AGE>]]. ", historyVisits: 2, separator: "; ")
        let data = try JSONEncoder().encode(t)
        #expect(try JSONDecoder().decode(PromptTemplate.self, from: data) == t)
        // Missing keys take LEADER's values.
        let minimal = try JSONDecoder().decode(PromptTemplate.self, from: Data("{}".utf8))
        #expect(minimal == PromptTemplate.leader)
        expectError(.invalidArgument, "prompt template: unknown key 'mian'") {
            try JSONDecoder().decode(PromptTemplate.self, from: Data(#"{"mian": "<DIAGNOSIS>"}"#.utf8))
        }
        expectError(.invalidArgument, "prompt template 'history': unknown placeholder <DIGNOSIS> (allowed: <DIAGNOSIS> <MEDICATION> <PROCEDURE> <VISIT_NO>)") {
            try JSONDecoder().decode(PromptTemplate.self, from: Data(#"{"history": "<DIGNOSIS>"}"#.utf8))
        }
        // A custom template fills the same way.
        let a = PromptVisit(diagnoses: ["a1", "a2"], procedures: ["pa"], medications: ["ma"])
        let b = PromptVisit(diagnoses: ["b1"], procedures: ["pb"], medications: ["mb1", "mb2"])
        let c = PromptVisit(diagnoses: ["c1"], procedures: ["pc"], medications: ["mc"])
        let now = PromptVisit(diagnoses: ["x"], procedures: ["y"])
        let text = try PromptBuilder(template: t).build(PromptInput(history: [a, b, c], current: now,
                                                                    profile: ["gender": "M"])).text
        #expect(text == "Sex M. Visits 3. [2] b1 | mb1; mb2; [3] c1 | mc; Now: x / y ->")
    }

    /// Tokenizer stand-in: words separated by spaces or newlines.
    static func words(_ s: String) -> Int { s.split(whereSeparator: { $0 == " " || $0 == "\n" }).count }

    @Test func truncationDropsOldestHistoryFirst() throws {
        let a = PromptVisit(diagnoses: ["alpha"], procedures: ["pa"], medications: ["ma"])
        let b = PromptVisit(diagnoses: ["beta"], procedures: ["pb"], medications: ["mb"])
        let c = PromptVisit(diagnoses: ["gamma"], procedures: ["pc"], medications: ["mc"])
        let now = PromptVisit(diagnoses: ["now"], procedures: ["pn"])
        let input = PromptInput(history: [a, b, c], current: now, profile: ["gender": "F"])
        let builder = try PromptBuilder()
        let full = try builder.build(input, budget: 10_000, tokenCount: Self.words)
        // 7 words in the main frame + 6 in the current part... measured, not assumed:
        let n3 = full.tokens ?? 0
        let perVisit = Self.words(PromptTemplate.leaderHistory
            .replacingOccurrences(of: "<VISIT_NO>", with: "1").replacingOccurrences(of: "<DIAGNOSIS>", with: "x")
            .replacingOccurrences(of: "<PROCEDURE>", with: "x").replacingOccurrences(of: "<MEDICATION>", with: "x"))
        #expect(full.historyShown == 3 && full.historyDropped == 0 && full.fitsBudget)

        let two = try builder.build(input, budget: n3 - 1, tokenCount: Self.words)
        #expect(two.historyShown == 2 && two.historyDropped == 1 && two.tokens == n3 - perVisit && two.fitsBudget)
        #expect(!two.text.contains("alpha") && two.text.contains("beta") && two.text.contains("gamma"))
        #expect(two.text.contains("The patient has 3 times ICU visits. \n In 2 visit, the patient had diagnosis: beta;"))

        let zero = try builder.build(input, budget: n3 - 2 * perVisit - 1, tokenCount: Self.words)
        #expect(zero.historyShown == 0 && zero.historyDropped == 3 && zero.fitsBudget)
        #expect(zero.text == "The patient has 3 times ICU visits. \n  In this visit, he has diagnosis: now; "
            + "procedures: pn. Then, the patient should be prescribed: ")

        // Too small even for the current visit: it is still there, and the result says it does not fit.
        let tiny = try builder.build(input, budget: 3, tokenCount: Self.words)
        #expect(!tiny.fitsBudget && tiny.text == zero.text)
        expectError(.invalidArgument, "prompt token budget must be >= 1 (got 0)") { try builder.build(input, budget: 0, tokenCount: Self.words) }
    }

    @Test func truncationDropsProfileAfterHistory() throws {
        let a = PromptVisit(diagnoses: ["alpha"], procedures: ["pa"], medications: ["ma"])
        let now = PromptVisit(diagnoses: ["now"], procedures: ["pn"])
        let builder = try PromptBuilder(template: .leaderMIMIC3Profile)
        let input = PromptInput(history: [a], current: now, profile: ["insurance": "Private"])
        let bare = try PromptBuilder().build(PromptInput(history: [], current: now, previousVisits: 1)).text
        let r = try builder.build(input, budget: Self.words(bare), tokenCount: Self.words)
        #expect(r.historyDropped == 1 && r.profileDropped && r.fitsBudget && r.text == bare)
        let withProfile = try builder.build(input, budget: Self.words(bare) + 30, tokenCount: Self.words)
        #expect(withProfile.historyDropped == 1 && !withProfile.profileDropped)
        #expect(withProfile.text.hasPrefix("The patient's insurance type is Private, language is unknown,"))
    }
}

import Foundation
import Testing
@testable import LeaderCore

/// Exact-string tests of the LEADER prompt (reference §2), written out by hand.
@Suite struct PromptBuilderTests {
    let v1 = PromptVisit(diagnoses: ["Hypertension NOS", "CHF NOS"], procedures: ["Venous cath NEC"],
                         medications: ["ace inhibitors, plain", "high-ceiling diuretics"])
    let v2 = PromptVisit(diagnoses: ["Pneumonia, organism NOS"], procedures: ["Insert endotracheal tube"],
                         medications: ["other beta-lactam antibacterials"])
    let current = PromptVisit(diagnoses: ["Septicemia NOS", "Acute kidney failure NOS"],
                              procedures: ["Venous cath NEC", "Arterial catheterization"])

    @Test func leaderTemplateOneHistoryVisit() throws {
        let prompt = try PromptBuilder().build(PromptInput(history: [v1], current: current))
        let expected = "The patient has 1 times ICU visits. \n In 1 visit, the patient had diagnosis: Hypertension NOS, "
            + "CHF NOS; procedures: Venous cath NEC. The patient was prescribed drugs: ace inhibitors, plain, "
            + "high-ceiling diuretics. \n In this visit, he has diagnosis: Septicemia NOS, Acute kidney failure NOS; "
            + "procedures: Venous cath NEC, Arterial catheterization. Then, the patient should be prescribed: "
        #expect(prompt.text == expected)
        #expect(prompt.historyShown == 1 && prompt.historyDropped == 0 && prompt.fitsBudget)
    }

    @Test func singleVisitPatientHasEmptyHistory() throws {
        let prompt = try PromptBuilder().build(PromptInput(history: [], current: current))
        #expect(prompt.text == "The patient has 0 times ICU visits. \n  In this visit, he has diagnosis: Septicemia NOS, "
            + "Acute kidney failure NOS; procedures: Venous cath NEC, Arterial catheterization. Then, the patient "
            + "should be prescribed: ")
    }

    @Test func historyKeepsLastThreeWithOriginalNumbers() throws {
        let a = PromptVisit(diagnoses: ["a"], procedures: ["pa"], medications: ["ma"])
        let b = PromptVisit(diagnoses: ["b"], procedures: ["pb"], medications: ["mb"])
        let c = PromptVisit(diagnoses: ["c"], procedures: ["pc"], medications: ["mc"])
        let d = PromptVisit(diagnoses: ["d"], procedures: ["pd"], medications: ["md"])
        let e = PromptVisit(diagnoses: ["e"], procedures: ["pe"], medications: [])
        let now = PromptVisit(diagnoses: ["x"], procedures: ["px"])
        let prompt = try PromptBuilder().build(PromptInput(history: [a, b, c, d, e], current: now))
        #expect(prompt.text == "The patient has 5 times ICU visits. \n "
            + "In 3 visit, the patient had diagnosis: c; procedures: pc. The patient was prescribed drugs: mc. \n"
            + "In 4 visit, the patient had diagnosis: d; procedures: pd. The patient was prescribed drugs: md. \n"
            + "In 5 visit, the patient had diagnosis: e; procedures: pe. The patient was prescribed drugs: . \n"
            + " In this visit, he has diagnosis: x; procedures: px. Then, the patient should be prescribed: ")
        #expect(prompt.historyShown == 3)
        // When the sample already holds only the last visits, previousVisits keeps numbers and VISIT_NUM right.
        let cut = try PromptBuilder().build(PromptInput(history: [d, e], current: now, previousVisits: 12))
        #expect(cut.text == "The patient has 12 times ICU visits. \n "
            + "In 11 visit, the patient had diagnosis: d; procedures: pd. The patient was prescribed drugs: md. \n"
            + "In 12 visit, the patient had diagnosis: e; procedures: pe. The patient was prescribed drugs: . \n"
            + " In this visit, he has diagnosis: x; procedures: px. Then, the patient should be prescribed: ")
        expectError(.invalidArgument, "prompt input: previousVisits (1) < history count (2)") {
            try PromptBuilder().build(PromptInput(history: [d, e], current: now, previousVisits: 1))
        }
    }

    /// The shipped LEADER code, string for string: the history loop replaces "<DIGNOSIS>" (typo), so the history
    /// keeps "<DIAGNOSIS>", which the main template's replace then fills with the CURRENT visit's diagnoses.
    static func shippedLeaderPrompt(history: [PromptVisit], current: PromptVisit) -> String {
        var hist = ""
        let shown = history.suffix(3)
        for (k, v) in zip(shown.indices, shown) {
            hist += PromptTemplate.leaderHistory
                .replacingOccurrences(of: "<VISIT_NO>", with: String(k + 1))
                .replacingOccurrences(of: "<DIGNOSIS>", with: v.diagnoses.joined(separator: ", "))
                .replacingOccurrences(of: "<PROCEDURE>", with: v.procedures.joined(separator: ", "))
                .replacingOccurrences(of: "<MEDICATION>", with: v.medications.joined(separator: ", "))
        }
        return PromptTemplate.leaderMain
            .replacingOccurrences(of: "<VISIT_NUM>", with: String(history.count))
            .replacingOccurrences(of: "<HISTORY>", with: hist)
            .replacingOccurrences(of: "<DIAGNOSIS>", with: current.diagnoses.joined(separator: ", "))
            .replacingOccurrences(of: "<PROCEDURE>", with: current.procedures.joined(separator: ", "))
    }

    @Test func historyTypoIsFixed() throws {
        let shipped = Self.shippedLeaderPrompt(history: [v1, v2], current: current)
        // Hand-written: the shipped code shows the current diagnoses in both history visits.
        #expect(shipped == "The patient has 2 times ICU visits. \n "
            + "In 1 visit, the patient had diagnosis: Septicemia NOS, Acute kidney failure NOS; procedures: Venous "
            + "cath NEC. The patient was prescribed drugs: ace inhibitors, plain, high-ceiling diuretics. \n"
            + "In 2 visit, the patient had diagnosis: Septicemia NOS, Acute kidney failure NOS; procedures: Insert "
            + "endotracheal tube. The patient was prescribed drugs: other beta-lactam antibacterials. \n"
            + " In this visit, he has diagnosis: Septicemia NOS, Acute kidney failure NOS; procedures: Venous cath "
            + "NEC, Arterial catheterization. Then, the patient should be prescribed: ")
        let fixed = try PromptBuilder().build(PromptInput(history: [v1, v2], current: current)).text
        #expect(fixed == "The patient has 2 times ICU visits. \n "
            + "In 1 visit, the patient had diagnosis: Hypertension NOS, CHF NOS; procedures: Venous cath NEC. The "
            + "patient was prescribed drugs: ace inhibitors, plain, high-ceiling diuretics. \n"
            + "In 2 visit, the patient had diagnosis: Pneumonia, organism NOS; procedures: Insert endotracheal "
            + "tube. The patient was prescribed drugs: other beta-lactam antibacterials. \n"
            + " In this visit, he has diagnosis: Septicemia NOS, Acute kidney failure NOS; procedures: Venous cath "
            + "NEC, Arterial catheterization. Then, the patient should be prescribed: ")
        #expect(fixed != shipped)
        // Without history the two agree: the typo only touches history visits.
        #expect(try PromptBuilder().build(PromptInput(history: [], current: current)).text
                == Self.shippedLeaderPrompt(history: [], current: current))
    }

    @Test func titlesAreNotSubstitutedTwice() throws {
        let odd = PromptVisit(diagnoses: ["weird <DIAGNOSIS> title"], procedures: ["<PROCEDURE>"])
        let text = try PromptBuilder().build(PromptInput(history: [], current: odd)).text
        #expect(text.contains("diagnosis: weird <DIAGNOSIS> title; procedures: <PROCEDURE>."))
    }

    @Test func mimic3ProfileSentence() throws {
        let builder = try PromptBuilder(template: .leaderMIMIC3Profile)
        let profile = ["insurance": "Medicare", "language": "ENGL", "religion": "CATHOLIC",
                       "marital_status": "MARRIED", "ethnicity": "WHITE"]
        let text = try builder.build(PromptInput(history: [], current: current, profile: profile)).text
        #expect(text == "The patient's insurance type is Medicare, language is ENGL, religion is CATHOLIC, marital "
            + "status is MARRIED, ethnicity is WHITE. The patient has 0 times ICU visits. \n  In this visit, he has "
            + "diagnosis: Septicemia NOS, Acute kidney failure NOS; procedures: Venous cath NEC, Arterial "
            + "catheterization. Then, the patient should be prescribed: ")
        // Gender and age clauses appear when present; a missing or empty field reads "unknown".
        var more = profile
        more["gender"] = "F"
        more["age"] = "70-79"
        more["language"] = ""
        more["religion"] = nil
        let text2 = try builder.build(PromptInput(history: [], current: current, profile: more)).text
        #expect(text2.hasPrefix("The patient's insurance type is Medicare, language is unknown, religion is unknown, "
            + "marital status is MARRIED, ethnicity is WHITE, gender is F, age is 70-79. The patient has 0 times"))
        // No profile in the input: no sentence.
        let text3 = try builder.build(PromptInput(history: [], current: current)).text
        #expect(text3.hasPrefix("The patient has 0 times ICU visits."))
    }

    @Test func mimic4ProfileSentence() throws {
        let builder = try PromptBuilder(template: .leaderMIMIC4Profile)
        let profile = ["insurance": "Other", "language": "ENGLISH", "admission_type": "EW EMER.",
                       "marital_status": "WIDOWED", "race": "BLACK/AFRICAN AMERICAN", "age": "80-89"]
        let text = try builder.build(PromptInput(history: [], current: current, profile: profile)).text
        #expect(text.hasPrefix("The patient's insurance type is Other, language is ENGLISH, admission type is EW EMER., "
            + "marital status is WIDOWED, race is BLACK/AFRICAN AMERICAN, age is 80-89. The patient has 0 times ICU"))
    }

    @Test func leaderMedicationNameIsLowerCasedWHOName() {
        #expect(PromptBuilder.leaderMedicationName("OTHER ANALGESICS AND ANTIPYRETICS") == "other analgesics and antipyretics")
    }
}

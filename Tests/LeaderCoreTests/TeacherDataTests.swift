import Foundation
import Testing
@testable import LeaderCore

/// Dataset → prompt → tokens for the teacher (TeacherData), on the hand-made OMOP fixture (titles known from its
/// concept.csv) and the tiny LLaMA tokenizer: what goes into a prompt, the token budget (EOS included), truncation
/// from the front and its flag, split filtering.
@Suite struct TeacherDataTests {
    static func dataset() throws -> PreparedDataset { try DataLDataTests.dataset() }
    /// The tokenizer as the model folder gives it (its EOS id comes from config.json).
    static func tokenizer() throws -> BPETokenizer {
        try #require(try LlamaModelFile(huggingFaceFolder: TeacherFixtures.path("tiny_llama")).tokenizer)
    }

    /// Patient 1 (three visits: 101, 102, 103): its sample's history is visits 101 and 102, the current visit 103.
    @Test func promptInputHoldsTheHistoryTheCurrentVisitAndTheProfile() throws {
        let d = try Self.dataset()
        let s = try #require(d.samples.first { d.cohort.patients[Int($0.patient)].id == 1 })
        #expect(try d.sampleID(s) == "1:103")
        let input = try TeacherData.promptInput(d, s)
        #expect(input.previousVisits == 2 && input.history.count == 2)
        #expect(input.current.diagnoses == ["Myocardial infarction"])
        #expect(input.current.procedures == ["Plain chest X-ray"])
        #expect(input.current.medications.isEmpty, "the target visit's medications are never in the prompt")
        #expect(input.history[0].diagnoses.sorted() == ["Essential hypertension", "Type 2 diabetes mellitus"])
        #expect(input.history[0].procedures == ["Coronary artery bypass graft"])
        // history medications: the ATC3 names lower-cased (LEADER's medication text)
        #expect(input.history[0].medications.contains("blood glucose lowering drugs, excl. insulins"))
        #expect(input.history[1].diagnoses == ["Essential hypertension"])
        let profile = try #require(input.profile)
        #expect(profile["gender"] == "MALE" && profile["visit_type"] == "Emergency Room Visit")
        #expect(Set(profile.keys) == Set(d.cohort.profile.fields.map(\.name)))
        // a sample pointing outside the cohort is an error, not a trap
        var bad = s
        bad.targetVisit = 7
        expectError(.invalidArgument, "sample: visit range 0...7 outside the patient's visits") {
            try TeacherData.promptInput(d, bad)
        }
        // the same one check serves the student's examples, and a window of no visit is refused there
        expectError(.invalidArgument, "sample: visit range 0...7 outside the patient's visits") {
            _ = try StudentExample(d, bad, maxVisits: 10)
        }
        bad = s
        bad.patient = Int32(d.cohort.patients.count)
        expectError(.invalidArgument, "sample: patient index \(d.cohort.patients.count) outside the cohort") {
            _ = try d.sampleID(bad)
        }
        expectError(.invalidArgument, "student examples: maxVisits 0 (expected >= 1)") {
            _ = try StudentExample(d, s, maxVisits: 0)
        }
    }

    @Test func examplesAreTheSamplesAsTokensWithEOS() throws {
        let d = try Self.dataset(), tok = try Self.tokenizer()
        let eos = try #require(tok.eosID)
        let builder = try PromptBuilder()
        let all = try TeacherData.examples(d, part: nil, tokenizer: tok, builder: builder, maxTokens: 4096)
        #expect(all.map(\.id) == (try d.samples.map { try d.sampleID($0) }))
        for (e, s) in zip(all, d.samples) {
            let patient = d.cohort.patients[Int(s.patient)]
            #expect(e.split == d.split[Int(s.patient)])
            #expect(e.medications == patient.visits[Int(s.targetVisit)].medications.map { Int($0) })
            #expect(e.visitCount == Int(s.targetVisit - s.historyStart) + 1)
            #expect(e.text == (try builder.build(try TeacherData.promptInput(d, s)).text))
            #expect(e.tokens.last == eos && Array(e.tokens.dropLast()) == tok.encode(e.text), "\(e.id)")
            #expect(!e.truncated)
        }
        #expect(all.map(\.visitCount).sorted() == [1, 1, 1, 3])
        // the split filter keeps the order and drops the rest
        for part in SplitPart.allCases {
            let some = try TeacherData.examples(d, part: part, tokenizer: tok, builder: builder, maxTokens: 4096)
            #expect(some.map(\.id) == all.filter { $0.split == part }.map(\.id))
            #expect(TeacherData.medications(d, part: part) == some.map(\.medications))
        }
        #expect(TeacherData.medications(d, part: nil) == all.map(\.medications))
    }

    /// A budget below a prompt's length: history goes first, then the profile, and what still does not fit is cut
    /// from the FRONT (the current visit and the question at the end survive) and flagged.
    @Test func truncationDropsHistoryThenCutsFromTheFront() throws {
        let d = try Self.dataset(), tok = try Self.tokenizer()
        let builder = try PromptBuilder()
        let full = try TeacherData.examples(d, part: nil, tokenizer: tok, builder: builder, maxTokens: 4096)
        for budget in [2, 12, 40] {
            let cut = try TeacherData.examples(d, part: nil, tokenizer: tok, builder: builder, maxTokens: budget)
            #expect(cut.map(\.id) == full.map(\.id))
            for (c, f) in zip(cut, full) {
                #expect(c.tokens.count <= budget && c.tokens.last == f.tokens.last, "\(c.id) at \(budget)")
                let body = tok.encode(c.text)
                #expect(c.truncated == (body.count > budget - 1), "\(c.id) at \(budget): flag")
                #expect(Array(c.tokens.dropLast()) == Array(body.suffix(budget - 1)), "\(c.id) at \(budget): suffix")
                #expect(c.text.count <= f.text.count)
            }
            if budget <= 12 { #expect(cut.allSatisfy { $0.truncated }, "every fixture prompt is longer than 11 tokens") }
        }
        // the three-visit patient's prompt loses its history before anything is cut
        let i = try #require(full.firstIndex { $0.visitCount == 3 })
        let fullTokens = full[i].tokens.count
        let shorter = try TeacherData.examples(d, part: nil, tokenizer: tok, builder: builder, maxTokens: fullTokens - 1)
        #expect(!shorter[i].truncated && shorter[i].text.count < full[i].text.count)
        #expect(full[i].text.hasSuffix(shorter[i].text.components(separatedBy: "In this visit").last ?? "-"))
        expectError(.invalidArgument, "--max-tokens must be >= 2, got 1") {
            try TeacherData.examples(d, part: nil, tokenizer: tok, builder: builder, maxTokens: 1)
        }
    }
}

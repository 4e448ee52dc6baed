import Foundation
import Testing
@testable import LeaderCore

/// SmolLM2's tokenizer read from the GGUF, against the `tokenizers` package
/// (fixture: tools/make_tokenizer_fixture.py).
@Suite(.enabled(if: TeacherFixtures.runsModelTests, TeacherFixtures.skipMessage))
struct TokenizerSmolLMTests {
    var tok: BPETokenizer {
        get throws { try #require(TeacherFixtures.smolLMTokenizer, "GGUF tokenizer failed to load") }
    }

    @Test func metadata() throws {
        let t = try tok
        #expect(t.vocabularySize == 49152)
        #expect(t.preTokenizer == .smolLM)
        #expect(t.bosID == 1 && t.eosID == 2 && t.padID == 2 && t.unknownID == 0)
        #expect(t.addBOS == false)
        #expect(t.addedTokens["<|endoftext|>"] == 0)
        #expect(t.addedTokens["<|im_start|>"] == 1)
        #expect(t.addedTokens["<|im_end|>"] == 2)
        #expect(t.addedTokens.count == 17)
        #expect(t.merges.count == 48900)
    }

    @Test func goldenSentence() throws {
        let ids = try tok.encode("The patient was diagnosed with type 2 diabetes mellitus.")
        #expect(ids == [504, 3158, 436, 7673, 351, 1502, 216, 34, 4348, 32890, 30])
    }

    @Test func goldenChatPrompt() throws {
        let prompt = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
            + "<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
        let ids = try tok.encode(prompt, parseSpecialTokens: true)
        #expect(ids.count == 37)
        #expect(Array(ids.prefix(12)) == [1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308])
        #expect(try tok.decode(ids) == prompt)
        // Not asked to parse them, the markers are text: `<|im_start|>` is several ordinary tokens.
        let plain = try tok.encode(prompt)
        #expect(!plain.contains(1) && plain.count > 37)
        #expect(try tok.decode(plain) == prompt)
    }

    @Test func fixturePromptsMatchHuggingFace() throws {
        let t = try tok
        let doc = try #require(try TeacherFixtures.json("tokenizer/smollm2_prompts.json") as? [String: Any])
        let prompts = try #require(doc["prompts"] as? [[String: Any]])
        #expect(prompts.count >= 300)
        var agree = 0, agreePlain = 0, roundTrip = 0
        for p in prompts {
            let text = try #require(p["text"] as? String)
            let want = try #require(p["ids"] as? [Int]).map(Int32.init)
            let wantPlain = (p["ids_specials_as_text"] as? [Int])?.map(Int32.init) ?? want
            let got = t.encode(text, parseSpecialTokens: true)
            let gotPlain = t.encode(text)
            if got == want { agree += 1 } else { Issue.record("ids differ for \(text.debugDescription): got \(got), want \(want)") }
            if gotPlain == wantPlain { agreePlain += 1 } else {
                Issue.record("ids (specials as text) differ for \(text.debugDescription): got \(gotPlain), want \(wantPlain)")
            }
            if try t.decode(got) == text { roundTrip += 1 } else { Issue.record("decode(encode(\(text.debugDescription))) differs") }
        }
        print("SmolLM2 tokenizer: \(agree)/\(prompts.count) prompts exact (specials parsed), "
              + "\(agreePlain)/\(prompts.count) exact (specials as text), \(roundTrip) round trips")
        #expect(agree == prompts.count && agreePlain == prompts.count && roundTrip == prompts.count)
    }

    @Test func decodeSkipsSpecialsAndRejectsBadIds() throws {
        let t = try tok
        #expect(try t.decode([1, 504, 2], skipSpecialTokens: true) == "The")
        expectError(.invalidArgument, "token id 49152 is outside the vocabulary (49152)") { try t.decode([49152]) }
        expectError(.invalidArgument, "token id -1 is outside the vocabulary (49152)") { try t.decode([-1]) }
    }

    @Test func cacheDoesNotChangeResults() throws {
        let t = try tok
        let text = "patient's patient's  patient's\n\n 12 12"
        let first = t.encode(text)
        #expect(t.encode(text) == first)
        #expect(t.bpe(Array(" patient".utf8)) == [3158])
    }

    /// Copies of one tokenizer share its word cache; concurrent use gives the sequential answers.
    @Test func concurrentEncodeMatchesSequential() async throws {
        let t = try tok
        let doc = try #require(try TeacherFixtures.json("tokenizer/smollm2_prompts.json") as? [String: Any])
        let texts = try #require(doc["prompts"] as? [[String: Any]]).compactMap { $0["text"] as? String }
        let fresh = try BPETokenizer(gguf: try #require(TeacherFixtures.smolLMFile))
        let sequential = texts.map { fresh.encode($0, parseSpecialTokens: true) }
        let parallel = await withTaskGroup(of: (Int, [Int32]).self) { group in
            for (i, text) in texts.enumerated() { group.addTask { (i, t.encode(text, parseSpecialTokens: true)) } }
            var out = [[Int32]](repeating: [], count: texts.count)
            for await (i, ids) in group { out[i] = ids }
            return out
        }
        #expect(parallel == sequential)
    }

    @Test func throughput() throws {
        let t = try tok
        let doc = try #require(try TeacherFixtures.json("tokenizer/smollm2_prompts.json") as? [String: Any])
        let texts = try #require(doc["prompts"] as? [[String: Any]]).compactMap { $0["text"] as? String }
            .filter { $0.hasPrefix("The patient") || $0.hasPrefix("Admission") }
        let clock = ContinuousClock()
        var tokens = 0
        let n = 2000
        let elapsed = clock.measure {
            for i in 0..<n { tokens += t.encode(texts[i % texts.count]).count }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        print("SmolLM2 tokenizer: \(n) LEADER prompts (\(tokens) tokens) in \(seconds) s: "
              + "\(Int(Double(n) / seconds)) prompts/s, \(Int(Double(tokens) / seconds)) tokens/s (this build)")
        #expect(tokens > n * 20)
    }
}

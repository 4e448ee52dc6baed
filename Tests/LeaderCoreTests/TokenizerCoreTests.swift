import Testing
@testable import LeaderCore

/// The BPE algorithm and the pre-tokenizer on hand-made inputs whose answers follow from the definitions.
@Suite struct TokenizerCoreTests {
    /// Words of `text` as the pre-tokenizer cuts them.
    func words(_ text: String, _ p: PreTokenizer) -> [String] {
        var out: [String] = []
        var t = text
        t.withUTF8 { u in
            p.split(u, 0..<u.count) { r, _ in out.append(String(decoding: UnsafeBufferPointer(rebasing: u[r]), as: UTF8.self)) }
        }
        return out
    }

    @Test func gpt2Split() {
        let p = PreTokenizer.gpt2
        #expect(words("Hello world", p) == ["Hello", " world"])
        #expect(words("patient's wife'S", p) == ["patient", "'s", " wife", "'", "S"])
        #expect(words("we'll they're I've she'd don't I'm", p)
                == ["we", "'ll", " they", "'re", " I", "'ve", " she", "'d", " don", "'t", " I", "'m"])
        #expect(words("a   b", p) == ["a", "  ", " b"])
        #expect(words("a \n\n b", p) == ["a", " \n\n", " b"])
        #expect(words("x\n\ny", p) == ["x", "\n", "\n", "y"])  // `\s+(?!\S)` backs off one, then `\s+`
        #expect(words("x  \ny", p) == ["x", "  ", "\n", "y"])
        #expect(words("end  ", p) == ["end", "  "])
        #expect(words("abc123 456", p) == ["abc", "123", " 456"])
        #expect(words("!!'s ?!", p) == ["!!'", "s", " ?!"])
        #expect(words("naïve 日本語 Ⅻ ½", p) == ["naïve", " 日本語", " Ⅻ", " ½"])
        #expect(words("a\u{00A0}b", p) == ["a", "\u{00A0}", "b"])  // NBSP is White_Space
        #expect(words("🙂🙂 x", p) == ["🙂🙂", " x"])
        #expect(words("", p) == [])
    }

    @Test func digitSplitting() {
        #expect(words("type 22 a1b", .smolLM) == ["type", " ", "2", "2", " a", "1", "b"])
        #expect(words("x  42", .smolLM) == ["x", "  ", "4", "2"])
        #expect(words("٣½", .smolLM) == ["٣", "½"])
        #expect(words("type 22 a1b", PreTokenizer(digits: .runs)) == ["type", " ", "22", " a", "1", "b"])
        #expect(words("no regex  here", PreTokenizer(digits: .none, gpt2Split: false)) == ["no regex  here"])
    }

    /// Vocabulary: the 256 byte symbols, then merge results; merges "a b" (rank 0), "b c" (1), "ab c" (2).
    func toy(ignoreMerges: Bool = false, extra: [String] = []) throws -> BPETokenizer {
        var tokens = ByteLevel.scalarForByte.map { String($0) }
        tokens += ["ab", "bc", "abc", "<s>", "<s><t>"] + extra
        let added: [Int32] = [Int32(tokens.firstIndex(of: "<s>") ?? 0), Int32(tokens.firstIndex(of: "<s><t>") ?? 0)]
        return try BPETokenizer(tokens: tokens, merges: [("a", "b"), ("b", "c"), ("ab", "c")], added: added,
                                preTokenizer: .gpt2, ignoreMerges: ignoreMerges, source: "toy")
    }

    @Test func mergesFollowRank() throws {
        let t = try toy()
        let id = { (s: String) in t.id(of: s) ?? -1 }
        #expect(t.encode("abc") == [id("abc")])          // a b -> ab (rank 0), then ab c (rank 2)
        #expect(t.encode("bc") == [id("bc")])
        #expect(t.encode("abab") == [id("ab"), id("ab")])
        #expect(t.encode("aabc") == [id("a"), id("abc")])  // leftmost lowest rank first
        #expect(t.encode("xbc") == [id("x"), id("bc")])
        #expect(t.encode(" a") == [id("Ġ"), id("a")])
        #expect(try t.decode(t.encode("aabc xbc\n")) == "aabc xbc\n")
    }

    @Test func ignoreMergesTakesWholeWords() throws {
        let plain = try toy(extra: ["xyz"])
        let whole = try toy(ignoreMerges: true, extra: ["xyz"])
        #expect(plain.encode("xyz").count == 3)
        #expect(whole.encode("xyz") == [whole.id(of: "xyz") ?? -1])
    }

    @Test func addedTokensLeftmostLongest() throws {
        let t = try toy()
        let s = t.id(of: "<s>") ?? -1, st = t.id(of: "<s><t>") ?? -1
        #expect(t.encode("a<s><t>b<s>", parseSpecialTokens: true) == [t.id(of: "a"), st, t.id(of: "b"), s])
        #expect(t.encode("<s", parseSpecialTokens: true).count == 2)
        #expect(!t.encode("<s>").contains(s))
        #expect(try t.decode([s, st]) == "<s><s><t>")
        #expect(try t.decode([s, t.id(of: "a") ?? -1], skipSpecialTokens: true) == "a")
    }

    @Test func inconsistentVocabularyIsRejected() {
        let bytes = ByteLevel.scalarForByte.map { String($0) }
        expectError(.badFile, "x: merge #0 'a b': the merged token is not in the vocabulary") {
            try BPETokenizer(tokens: bytes, merges: [("a", "b")], added: [], preTokenizer: .gpt2, source: "x")
        }
        expectError(.badFile, "x: added token id 999 is outside the vocabulary (256)") {
            try BPETokenizer(tokens: bytes, merges: [], added: [999], preTokenizer: .gpt2, source: "x")
        }
        expectError(.badFile, "x: eos token id 256 is outside the vocabulary (256)") {
            try BPETokenizer(tokens: bytes, merges: [], added: [], preTokenizer: .gpt2, eosID: 256, source: "x")
        }
        expectError(.badFile, "x: vocabulary size 0 is out of range") {
            try BPETokenizer(tokens: [], merges: [], added: [], preTokenizer: .gpt2, source: "x")
        }
    }

    @Test func byteLevelMap() {
        #expect(ByteLevel.scalarForByte[0x20] == "Ġ" && ByteLevel.scalarForByte[0x0A] == "Ċ")
        #expect(ByteLevel.scalarForByte[0x41] == "A")
        #expect(Set(ByteLevel.scalarForByte).count == 256)
        var back: [UInt8] = []
        ByteLevel.decode(ByteLevel.encode(Array(0...255)), into: &back)
        #expect(back == Array(0...255))
    }
}

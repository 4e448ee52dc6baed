import Foundation
import Testing
@testable import LeaderCore

/// The Hugging Face folder reader on a tiny random LLaMA (tools/make_tiny_llama.py): config.json, three
/// safetensors shards with an index (F16, F32 and BF16 tensors), tokenizer.json.
@Suite struct TeacherHuggingFaceTests {
    @Test func tinyLlamaFolder() throws {
        let m = try LlamaModelFile(huggingFaceFolder: TeacherFixtures.path("tiny_llama"))
        let want = try #require(try TeacherFixtures.json("tiny_llama_expected.json") as? [String: Any])
        #expect(m.format == .huggingFace)
        #expect(m.config == LlamaConfig(layers: 2, dModel: 64, ffnDim: 96, heads: 4, kvHeads: 2, headDim: 16,
                                        vocabSize: 300, contextLength: 256, ropeTheta: 10000, rmsEps: 1e-5,
                                        tiedEmbeddings: true, ropeLayout: .halves))
        let tensors = try #require(want["tensors"] as? [String: [String: Any]])
        #expect(m.tensors.count == tensors.count)  // every stored tensor is mapped (tied: no lm_head)
        var seen = Set<String>()
        for t in LlamaTensor.all(m.config) {
            let data = try #require(m[t], "\(t.canonicalName)")
            let w = try #require(tensors[t.huggingFaceName], "\(t.huggingFaceName) in the expected file")
            seen.insert(t.huggingFaceName)
            let dtype: TensorDType = switch w["dtype"] as? String {
            case "float32": .f32
            case "bfloat16": .bf16
            default: .f16
            }
            #expect(data.dtype == dtype, "\(t.huggingFaceName)")
            #expect(data.shape == w["shape"] as? [Int], "\(t.huggingFaceName)")
            let values = TestDequant.values(data)
            #expect(values.count == data.elementCount)
            let first = try #require(w["first"] as? [Double])
            for (a, b) in zip(values, first) { #expect(abs(Double(a) - b) <= 1e-12 * abs(b), "\(t.huggingFaceName) values") }
            let sum = values.reduce(0.0) { $0 + Double($1) }
            #expect(abs(sum - (w["sum"] as? Double ?? .nan)) < 1e-6 * max(1, abs(sum)), "\(t.huggingFaceName) sum")
        }
        #expect(seen.count == tensors.count)
        #expect(Set(m.tensors.values.map(\.dtype)) == [.f16, .f32, .bf16])
        let tok = try #require(m.tokenizer)
        #expect(tok.bosID == 1 && tok.eosID == 2 && tok.padID == 0)
        #expect(tok.vocabularySize == 300)
    }

    /// A copy of the fixture folder in which `edit` changes a file.
    func brokenCopy(_ edit: (URL) throws -> Void) throws -> URL {
        let dir = try TeacherFixtures.tempDir().appendingPathComponent("m")
        try FileManager.default.copyItem(at: TeacherFixtures.root.appendingPathComponent("tiny_llama"), to: dir)
        try edit(dir)
        return dir
    }

    func expectError(_ dir: URL, _ words: String..., sourceLocation: SourceLocation = #_sourceLocation) {
        defer { try? FileManager.default.removeItem(at: dir.deletingLastPathComponent()) }
        do {
            _ = try LlamaModelFile(huggingFaceFolder: dir.path)
            Issue.record("accepted a broken folder", sourceLocation: sourceLocation)
        } catch {
            for w in words where !error.message.contains(w) {
                Issue.record("message '\(error.message)' lacks '\(w)'", sourceLocation: sourceLocation)
            }
        }
    }

    func editJSON(_ url: URL, _ change: (inout [String: Any]) -> Void) throws {
        var j = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        change(&j)
        try JSONSerialization.data(withJSONObject: j).write(to: url)
    }

    @Test func brokenFolders() throws {
        expectError(try brokenCopy { try FileManager.default.removeItem(at: $0.appendingPathComponent("config.json")) },
                    "config.json", "cannot open")
        expectError(try brokenCopy { try editJSON($0.appendingPathComponent("config.json")) { $0["hidden_size"] = 48 } },
                    "model.embed_tokens.weight", "shape")
        expectError(try brokenCopy { try editJSON($0.appendingPathComponent("config.json")) { $0["num_key_value_heads"] = 3 } },
                    "KV head count")
        expectError(try brokenCopy { try editJSON($0.appendingPathComponent("config.json")) { $0["attention_bias"] = true } },
                    "attention_bias")
        expectError(try brokenCopy { try editJSON($0.appendingPathComponent("config.json")) { $0["hidden_act"] = "gelu" } },
                    "hidden_act")
        expectError(try brokenCopy { try editJSON($0.appendingPathComponent("config.json")) {
            $0["rope_parameters"] = ["rope_type": "yarn", "rope_theta": 10000.0] } }, "yarn")
        expectError(try brokenCopy { try editJSON($0.appendingPathComponent("model.safetensors.index.json")) {
            var m = $0["weight_map"] as? [String: String] ?? [:]
            m["model.norm.weight"] = "../evil.safetensors"
            $0["weight_map"] = m } }, "model.norm.weight", "not a file name")
        expectError(try brokenCopy { try editJSON($0.appendingPathComponent("model.safetensors.index.json")) {
            var m = $0["weight_map"] as? [String: String] ?? [:]
            m.removeValue(forKey: "model.norm.weight")
            $0["weight_map"] = m } }, "model.norm.weight")
        expectError(try brokenCopy {
            let shard = $0.appendingPathComponent("model-00003-of-00003.safetensors")
            let d = try Data(contentsOf: shard)
            try d.prefix(d.count - 10).write(to: shard) }, "model-00003-of-00003.safetensors", "truncated")
    }
}

/// The tokenizer.json reader on a tiny byte-level BPE (vocab 300) against the `tokenizers` package.
@Suite struct TokenizerJSONTests {
    func prompts() throws -> [[String: Any]] {
        let doc = try #require(try TeacherFixtures.json("tokenizer/tiny_prompts.json") as? [String: Any])
        return try #require(doc["prompts"] as? [[String: Any]])
    }

    func check(_ tok: BPETokenizer) throws {
        var agree = 0
        let ps = try prompts()
        for p in ps {
            let text = try #require(p["text"] as? String)
            let want = try #require(p["ids"] as? [Int]).map(Int32.init)
            let wantPlain = (p["ids_specials_as_text"] as? [Int])?.map(Int32.init) ?? want
            let got = tok.encode(text, parseSpecialTokens: true)
            #expect(got == want, "\(text.debugDescription)")
            #expect(tok.encode(text) == wantPlain, "\(text.debugDescription) (specials as text)")
            #expect(try tok.decode(got) == text)
            if got == want { agree += 1 }
        }
        #expect(agree == ps.count)
    }

    @Test func pairMerges() throws {
        let tok = try BPETokenizer(tokenizerJSON: TeacherFixtures.path("tiny_llama/tokenizer.json"))
        #expect(tok.vocabularySize == 300 && tok.merges.count == 41)
        #expect(tok.addedTokens.count == 3)
        #expect(tok.preTokenizer == .smolLM)
        try check(tok)
    }

    /// The same file with merges written as "a b" strings (the older tokenizers format).
    @Test func stringMerges() throws {
        let dir = try TeacherFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var j = try #require(try TeacherFixtures.json("tiny_llama/tokenizer.json") as? [String: Any])
        var model = try #require(j["model"] as? [String: Any])
        model["merges"] = try #require(model["merges"] as? [[String]]).map { $0.joined(separator: " ") }
        j["model"] = model
        let path = dir.appendingPathComponent("tokenizer.json")
        try JSONSerialization.data(withJSONObject: j).write(to: path)
        try check(try BPETokenizer(tokenizerJSON: path.path))
    }

    @Test func unsupportedAndMalformed() throws {
        let dir = try TeacherFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try #require(try TeacherFixtures.json("tiny_llama/tokenizer.json") as? [String: Any])
        func load(_ change: (inout [String: Any]) -> Void) throws(LeaderError) -> BPETokenizer {
            var j = base
            change(&j)
            let path = dir.appendingPathComponent("t.json")
            do { try JSONSerialization.data(withJSONObject: j).write(to: path) } catch { throw .io("\(error)") }
            return try BPETokenizer(tokenizerJSON: path.path)
        }
        func model(_ j: inout [String: Any], _ key: String, _ value: Any) {
            var m = j["model"] as? [String: Any] ?? [:]
            m[key] = value
            j["model"] = m
        }
        expectError(.incompatible, "t.json: normalizer 'NFC' is not supported (only null)") { try load { $0["normalizer"] = ["type": "NFC"] } }
        expectError(.incompatible, "t.json: pre_tokenizer 'Whitespace' is not supported (ByteLevel, Digits, Sequence)") { try load { $0["pre_tokenizer"] = ["type": "Whitespace"] } }
        expectError(.incompatible, "t.json: model.type 'WordPiece' is not supported (only BPE)") { try load { model(&$0, "type", "WordPiece") } }
        expectError(.badFile, "t.json: merge #0 'Ġ zz-not-a-token': a part is not in the vocabulary") { try load { model(&$0, "merges", [["Ġ", "zz-not-a-token"]]) } }
        expectError(.badFile, "t.json: model.merges[0] 'a b c' is not two tokens separated by one space") { try load { model(&$0, "merges", ["a b c"]) } }
        expectError(.badFile, "t.json: id 0 is both ") { try load { model(&$0, "vocab", ["a": 0, "b": 0]) } }   // which two: dictionary order
        expectError(.badFile, "t.json: ids are not dense: id 5 with 4 tokens") { try load { model(&$0, "vocab", ["a": 5]) } }
        expectError(.badFile, "t.json: not a valid tokenizer.json: missing key 'model' at top level") { try load { $0.removeValue(forKey: "model") } }
        let path = dir.appendingPathComponent("bad.json")
        try Data("{\"model\": ".utf8).write(to: path)
        expectError(.badFile, "bad.json: not a valid tokenizer.json: corrupted data at top level: The given data was not valid JSON.") { try BPETokenizer(tokenizerJSON: path.path) }
    }
}

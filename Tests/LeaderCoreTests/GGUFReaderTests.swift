import Foundation
import Testing
@testable import LeaderCore

/// The GGUF reader on files written by the `gguf` package (tools/make_gguf_fixture.py).
@Suite struct GGUFReaderTests {
    @Test func everyTypeAndMetadataKind() throws {
        let g = try GGUFFile(path: TeacherFixtures.path("gguf/types.gguf"))
        let want = try #require(try TeacherFixtures.json("gguf/types.json") as? [String: Any])
        #expect(g.version == 3)
        #expect(g.alignment == 64)
        #expect(g.dataOffset == want["data_offset"] as? Int)
        #expect(g.metadataKeys.count == want["kv_count"] as? Int)
        #expect(g.dataOffset % 64 == 0)
        let m = g.metadata
        #expect(m["test.u8"] == .uint8(200))
        #expect(m["test.i8"] == .int8(-100))
        #expect(m["test.u16"] == .uint16(60000))
        #expect(m["test.i16"] == .int16(-30000))
        #expect(m["test.u32"] == .uint32(4_000_000_000))
        #expect(m["test.i32"] == .int32(-2_000_000_000))
        #expect(m["test.f32"] == .float32(1.5))
        #expect(m["test.bool"] == .bool(true))
        #expect(m["test.string"] == .string("héllo, wörld 🙂"))
        #expect(m["test.u64"] == .uint64(1 << 63 + 5))
        #expect(m["test.i64"] == .int64(-(1 << 62)))
        #expect(m["test.f64"] == .float64(-2.25e-300))
        #expect(m["test.arr_i32"]?.ints == [1, -2, 3])
        #expect(m["test.arr_f32"] == .array(.float32, [.float32(0.5), .float32(-1.25)]))
        #expect(m["test.arr_bool"] == .array(.bool, [.bool(true), .bool(false), .bool(true)]))
        #expect(try g.strings("test.arr_str") == ["a", "", "b c", "Ġ日本"])
        #expect(m["test.arr_nested"] == .array(.array, [.array(.int32, [.int32(1), .int32(2)]), .array(.int32, [.int32(3)])]))
        #expect(m["test.u64"]?.int == nil)  // does not fit in Int
        #expect(try g.int("test.u32") == 4_000_000_000)
        expectError(.badFile, "types.gguf: metadata 'test.u8' is uint8, expected a string") { try g.string("test.u8") }
        expectError(.badFile, "types.gguf: metadata 'test.missing' is missing") { try g.int("test.missing") }

        let tensors = try #require(want["tensors"] as? [[String: Any]])
        #expect(g.tensors.count == tensors.count)
        for w in tensors {
            let name = try #require(w["name"] as? String)
            let info = try #require(g.info(name))
            let t = try g.tensor(name)
            #expect(info.dims == w["dims"] as? [Int], "\(name)")
            #expect(t.dtype.rawValue == w["type"] as? String, "\(name)")
            #expect(t.shape == (w["dims"] as? [Int])?.reversed(), "\(name)")
            #expect(info.offset % 64 == 0)
            let hex = t.bytes.map { String(format: "%02x", $0) }.joined()
            #expect(hex == w["hex"] as? String, "\(name) bytes")
        }
        // dtype mapping to the kernels' LK_DTYPE_* and back to GGUF ids
        #expect(try g.tensor("q4_1.mat").dtype.kernelDType == 5)
        #expect(try g.tensor("bf16.mat").dtype.kernelDType == 2)
        for d in TensorDType.allCases { #expect(TensorDType(ggufType: d.ggufType) == d) }
        #expect(TensorDType(ggufType: 12) == nil)
    }

    @Test func tinyLlamaGGUF() throws {
        let path = TeacherFixtures.path("gguf/tiny_llama.gguf")
        let m = try LlamaModelFile(gguf: path)
        let c = m.config
        #expect(c == LlamaConfig(layers: 2, dModel: 64, ffnDim: 96, heads: 4, kvHeads: 2, headDim: 16, vocabSize: 300,
                                 contextLength: 256, ropeTheta: 10000, rmsEps: Double(Float(1e-5)),
                                 tiedEmbeddings: true, ropeLayout: .adjacentPairs))
        #expect(m.format == .gguf)
        #expect(m.tensors.count == 1 + 2 * 9 + 1)
        #expect(m[.tokenEmbedding]?.dtype == .q8_0)
        #expect(m[.q(1)]?.dtype == .q4_1 && m[.q(1)]?.shape == [64, 64])
        #expect(m[.k(0)]?.shape == [32, 64])
        #expect(m[.v(0)]?.dtype == .q4_0)
        #expect(m[.down(1)]?.shape == [64, 96])
        #expect(m[.outputNorm]?.dtype == .f32)
        #expect(m[.lmHead] == nil)
        let tok = try #require(m.tokenizer)
        #expect(tok.vocabularySize == 300 && tok.preTokenizer == .smolLM && tok.padID == 0)
        // Same ids as the tokenizer.json of the same tokenizer.
        let json = try BPETokenizer(tokenizerJSON: TeacherFixtures.path("tiny_llama/tokenizer.json"))
        for text in ["The patient's 3 visits: 2019-01-02.", "<|im_start|>user\nhi<|im_end|>", "  x \n\n y"] {
            #expect(tok.encode(text, parseSpecialTokens: true) == json.encode(text, parseSpecialTokens: true))
        }
    }

    @Test func configJSONRoundTripRejectsUnknownKeys() throws {
        let c = LlamaConfig(layers: 2, dModel: 64, ffnDim: 96, heads: 4, kvHeads: 2, headDim: 16, vocabSize: 300,
                            contextLength: 256, ropeTheta: 1e4, rmsEps: 1e-5, tiedEmbeddings: true, ropeLayout: .halves)
        let data = try JSONEncoder().encode(c)
        #expect(try JSONDecoder().decode(LlamaConfig.self, from: data) == c)
        var j = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(j["rope_layout"] as? String == "halves" && j["d_model"] as? Int == 64)
        j["rope_scaling"] = "linear"
        let unknown = expectError(.invalidArgument, "LlamaConfig: unknown key 'rope_scaling'") {
            try JSONDecoder().decode(LlamaConfig.self, from: try JSONSerialization.data(withJSONObject: j))
        }
        #expect(unknown?.message.hasPrefix("LlamaConfig: unknown key 'rope_scaling'") == true)
        var bad = c
        bad.kvHeads = 3
        expectError(.badFile, "x: KV head count 3 must divide the head count 4") { try bad.validate("x") }
    }

    @Test func ropePermutation() {
        // head_dim 4: GGUF rows (0,1,2,3) hold HF rows (0,2,1,3); the second head is offset by 4.
        #expect((0..<8).map { RopeLayout.huggingFaceRow(forGGUFRow: $0, headDim: 4) } == [0, 2, 1, 3, 4, 6, 5, 7])
    }
}

/// SmolLM2-135M-Instruct's GGUF: facts from ../shared/reference/pretrained-lms.md.
@Suite(.enabled(if: TeacherFixtures.runsModelTests, TeacherFixtures.skipMessage))
struct TeacherSmolLMFileTests {
    @Test func headerAndTensors() throws {
        let g = try #require(TeacherFixtures.smolLMFile)
        #expect(g.version == 3)
        #expect(g.tensors.count == 272)
        #expect(g.metadataKeys.count == 33)
        #expect(g.alignment == 32)
        #expect(g.dataOffset == 1_785_664)
        var byType: [TensorDType: Int] = [:]
        for t in g.tensors { byType[t.dtype, default: 0] += 1 }
        #expect(byType == [.q4_1: 210, .q8_0: 1, .f32: 61])
        #expect(g.info("token_embd.weight")?.dims == [576, 49152])
        #expect(g.info("blk.0.attn_k.weight")?.dims == [576, 192])
        #expect(g.info("blk.29.ffn_down.weight")?.dims == [1536, 576])
        #expect(g.info("output.weight") == nil)
        #expect(try g.string("tokenizer.ggml.pre") == "smollm")
        #expect(try g.strings("tokenizer.ggml.merges").count == 48900)
        let params = g.tensors.reduce(0) { $0 + $1.dims.reduce(1, *) }
        #expect(params == 134_515_008)
        // The last tensor ends exactly at the end of the file (the data section is fully used).
        let end = g.tensors.map { g.dataOffset + $0.offset + $0.byteCount }.max()
        #expect(end == g.file.count)
    }

    @Test func configAndNameMap() throws {
        let path = try #require(TeacherFixtures.smolLM)
        let m = try LlamaModelFile(gguf: path)
        #expect(m.config == LlamaConfig(layers: 30, dModel: 576, ffnDim: 1536, heads: 9, kvHeads: 3, headDim: 64,
                                        vocabSize: 49152, contextLength: 8192, ropeTheta: 100_000,
                                        rmsEps: Double(Float(1e-5)), tiedEmbeddings: true, ropeLayout: .adjacentPairs))
        #expect(m.tensors.count == 272)
        #expect(m[.q(0)]?.shape == [576, 576] && m[.k(0)]?.shape == [192, 576] && m[.gate(29)]?.shape == [1536, 576])
        #expect(m[.tokenEmbedding]?.dtype == .q8_0 && m[.tokenEmbedding]?.shape == [49152, 576])
        #expect(LlamaTensor.q(3).canonicalName == "layers.3.attn.q.weight")
        #expect(m.tokenizer?.vocabularySize == 49152)
    }

    @Test func goldenWeightValues() throws {
        let g = try #require(TeacherFixtures.smolLMFile)
        // blk.0.attn_q.weight row 0 [:4] (Q4_1) and token_embd row 1 [:4] (Q8_0), from the numpy reference.
        let q = try g.tensor("blk.0.attn_q.weight")
        let row0 = TestDequant.values(TensorData(name: q.name, dtype: q.dtype, shape: [32], file: q.file,
                                                 range: q.range.lowerBound..<(q.range.lowerBound + 20)))
        let wantQ: [Float] = [-0.096313, 0.157349, -0.096313, -0.730469]
        for (a, b) in zip(row0.prefix(4), wantQ) { #expect(abs(a - b) < 1e-5) }
        let e = try g.tensor("token_embd.weight")
        let rowBytes = 576 / 32 * 34
        let start = e.range.lowerBound + rowBytes
        let row1 = TestDequant.values(TensorData(name: e.name, dtype: e.dtype, shape: [32], file: e.file,
                                                 range: start..<(start + 34)))
        let wantE: [Float] = [-0.023804, -0.015869, -0.039673, 0.015869]
        for (a, b) in zip(row1.prefix(4), wantE) { #expect(abs(a - b) < 1e-5) }
    }
}

import CLeaderKernels
import Foundation
import Testing
@testable import LeaderCore

/// The decoder against `transformers` (tools/make_teacher_fixture.py): the tiny random HF LLaMA always, the
/// SmolLM2-135M-Instruct Q4_1 GGUF when models/ has it.
@Suite struct DecoderGoldenTests {
    func doc(_ name: String) throws -> [String: Any] {
        try #require(try TeacherFixtures.json("teacher/\(name)") as? [String: Any])
    }

    func floats(_ a: Any?) throws -> [Float] { try #require(a as? [Double]).map(Float.init) }
    func ints(_ a: Any?) throws -> [Int32] { try #require(a as? [Int]).map(Int32.init) }

    func maxDiff(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// The tiny HF LLaMA (F16/BF16/F32 tensors, rotate-half RoPE, GQA 4/2, tied head): a right-padded batch
    /// of 3; last-token hidden states and logits match transformers.
    @Test func tinyLlamaMatchesTransformers() throws {
        let m = try LlamaModelFile(huggingFaceFolder: TeacherFixtures.path("tiny_llama"))
        let dec = try LlamaDecoder(m)
        let rows = try #require(try doc("tiny_decoder.json")["rows"] as? [[String: Any]])
        let seqs = try rows.map { r throws -> [Int32] in try ints(r["ids"]) }
        let batch = try TeacherBatch(sequences: seqs)
        for threads in [1, 2] {
            let ctx = try Context(threads: threads)
            let h = try dec.forward(batch.ids, lengths: batch.lengths, ctx)
            var pooled: Tensor? = nil
            let p = try LlamaDecoder.lastToken(h, lengths: batch.lengths, into: &pooled, ctx)
            let logits = try dec.logits(p, ctx).toArray()
            let hid = p.toArray()
            for (b, r) in rows.enumerated() {
                let wantH = try floats(r["hidden"]), wantL = try floats(r["logits"])
                #expect(maxDiff(Array(hid[(b * 64)..<((b + 1) * 64)]), wantH) < 1e-4, "hidden row \(b)")
                #expect(maxDiff(Array(logits[(b * 300)..<((b + 1) * 300)]), wantL) < 1e-4, "logits row \(b)")
            }
        }
    }

    /// Greedy generation with the KV cache equals greedy decoding by recomputing the whole sequence each step
    /// (tiny HF model: rotate-half RoPE, GQA), and the cache refuses to overflow.
    @Test func kvCacheMatchesRecomputation() throws {
        let dec = try LlamaDecoder(try LlamaModelFile(huggingFaceFolder: TeacherFixtures.path("tiny_llama")))
        let ctx = try Context(threads: 2)
        let prompt: [Int32] = [5, 80, 120, 33, 7, 250, 16]
        let cached = try dec.generate(prompt, maxNewTokens: 12, stop: nil, ctx)
        var seq = prompt
        for _ in 0..<12 {
            let b = try TeacherBatch(sequences: [seq])
            var pooled: Tensor? = nil
            let lg = try dec.logits(LlamaDecoder.lastToken(dec.forward(b.ids, lengths: b.lengths, ctx), lengths: b.lengths,
                                                           into: &pooled, ctx), ctx).toArray()
            var am = Int32(0)
            lk_argmax_rows(&am, lg, 1, Int64(lg.count), 1)
            seq.append(am)
        }
        #expect(cached == Array(seq.dropFirst(prompt.count)))
        #expect(cached.count == 12)
        let cache = try KVCache(config: dec.config, capacity: 2)
        expectError(.invalidArgument, "KV cache: 3 tokens exceed its capacity 2") {
            try cache.layers[0].store(keys: try Tensor(zeros: [1, 2, 3, 16]), values: try Tensor(zeros: [1, 2, 3, 16]), count: 3)
        }
        expectError(.invalidArgument, "generate: empty prompt") { _ = try dec.generate([], maxNewTokens: 3, ctx) }
        expectError(.invalidArgument, "decoder: token id 400 outside the vocabulary of 300") { _ = try dec.generate([400], maxNewTokens: 3, ctx) }  // id outside the vocabulary
    }

    /// SmolLM2 Q4_1: the tokenizer gives transformers' ids, the last-position logits agree to 1e-3 (top 10
    /// ids and values, and a slice), alone and in a right-padded batch.
    @Test(.enabled(if: TeacherFixtures.runsModelTests, TeacherFixtures.skipMessage))
    func smolLMLogitsMatchTransformers() throws {
        let path = try #require(TeacherFixtures.smolLM)
        let file = try LlamaModelFile(gguf: path)
        let tok = try #require(file.tokenizer)
        let dec = try LlamaDecoder(file, threads: 2)
        let ctx = try Context(threads: 2)
        let sents = try #require(try doc("smollm2_golden.json")["sentences"] as? [[String: Any]])
        var seqs: [[Int32]] = []
        for s in sents {
            let ids = try ints(s["ids"])
            #expect(tok.encode(try #require(s["text"] as? String), parseSpecialTokens: true) == ids)
            seqs.append(ids)
        }
        func check(_ logits: [Float], _ s: [String: Any], _ what: String) throws {
            let top = try ints(s["top_ids"]), topV = try floats(s["top_logits"])
            let start = try #require(s["slice_start"] as? Int), slice = try floats(s["slice"])
            var worst: Float = 0
            for (i, v) in zip(top, topV) { worst = max(worst, abs(logits[Int(i)] - v)) }
            worst = max(worst, maxDiff(Array(logits[start..<(start + slice.count)]), slice))
            var am = Int32(0)
            lk_argmax_rows(&am, logits, 1, Int64(logits.count), 1)
            #expect(am == top[0], "\(what): argmax")
            #expect(worst < 1e-3, "\(what): max |Δlogit| \(worst)")
            print("SmolLM2 \(what): max |Δlogit| vs transformers = \(worst)")
        }
        for (s, ids) in zip(sents, seqs) {
            let b = try TeacherBatch(sequences: [ids])
            let h = try dec.forward(b.ids, lengths: b.lengths, ctx)
            var pooled: Tensor? = nil
            let lg = try dec.logits(LlamaDecoder.lastToken(h, lengths: b.lengths, into: &pooled, ctx), ctx).toArray()
            try check(lg, s, "\(ids.count) tokens")
        }
        let batch = try TeacherBatch(sequences: seqs)
        let h = try dec.forward(batch.ids, lengths: batch.lengths, ctx)
        var pooled: Tensor? = nil
        let lg = try dec.logits(LlamaDecoder.lastToken(h, lengths: batch.lengths, into: &pooled, ctx), ctx).toArray()
        let v = dec.config.vocabSize
        for (i, s) in sents.enumerated() { try check(Array(lg[(i * v)..<((i + 1) * v)]), s, "batch row \(i)") }
    }

    /// Greedy generation with the KV cache answers the reference chat prompt exactly.
    @Test(.enabled(if: TeacherFixtures.runsModelTests, TeacherFixtures.skipMessage))
    func smolLMGreedyAnswer() throws {
        let path = try #require(TeacherFixtures.smolLM)
        let file = try LlamaModelFile(gguf: path)
        let tok = try #require(file.tokenizer)
        let chat = try #require(try doc("smollm2_golden.json")["chat"] as? [String: Any])
        let prompt = try ints(chat["prompt_ids"]), want = try ints(chat["generated_ids"])
        let dec = try LlamaDecoder(file, threads: 2)
        let got = try dec.generate(prompt, maxNewTokens: 24, stop: 2, try Context(threads: 2))
        #expect(got == want)
        #expect(try tok.decode(got, skipSpecialTokens: false) == "The capital of France is Paris.<|im_end|>")
    }
}

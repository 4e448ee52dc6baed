import CLeaderKernels
import Foundation
import Testing
@testable import LeaderCore

/// The int8 precision of the frozen products (`QuantPrecision.int8`) against the exact fp32 path on the
/// SmolLM2-135M-Instruct Q4_1 golden sentences (skipped without the model), and the option's parsing.
@Suite struct Int8PrecisionTests {
    func doc(_ name: String) throws -> [String: Any] {
        try #require(try TeacherFixtures.json("teacher/\(name)") as? [String: Any])
    }
    func ints(_ a: Any?) throws -> [Int32] { try #require(a as? [Int]).map(Int32.init) }

    @Test func precisionParsing() throws {
        #expect(try QuantPrecision(parsing: "int8") == .int8 && QuantPrecision(parsing: "fp32") == .fp32)
        #expect(try QuantPrecision(parsing: "bf16") == .bf16)
        expectError(.invalidArgument, "precision: expected fp32, int8 or bf16, got 'fp16'") { _ = try QuantPrecision(parsing: "fp16") }
        #expect(["amx", "avx512-bf16", "portable"].contains(QuantPrecision.bf16Path))
        #expect(["avx512-vnni", "avx-vnni", "avx2", "generic"].contains(QuantPrecision.int8Path))
    }

    func floats(_ a: Any?) throws -> [Float] { try #require(a as? [Double]).map(Float.init) }
    func top(_ x: [Float], _ n: Int) -> [Int] { Array(x.indices.sorted { x[$0] > x[$1] }.prefix(n)) }

    /// Last-position logits of each golden sentence (alone and as a right-padded batch), int8 vs fp32 and vs an
    /// independent PyTorch simulation of the int8 arithmetic (tools/make_int8_fixture.py: the input of every
    /// projection and of the LM head replaced by its Q8A rounding, fp32 weights). Measured on the dev machine
    /// (AVX512-VNNI): int8 vs fp32 max |Δlogit| 1.185, max |Δlogit| / max |logit| 0.047 while the LM head was
    /// fp32; with the head in int8 too (it adds its input's rounding to every logit) 1.33 and 0.0525, and int8
    /// vs the simulation's top-10 max |Δ| 0.50 (same top-3 sets; `LEADER_ISA=avx2` the same; `LEADER_ISA=generic`,
    /// the path of CPUs without AVX2, 0.81 against fp32's 0.99). The two are not closer because codes that sit
    /// on a rounding boundary flip with the f32 summation-order noise between PyTorch and us (~1e-6) and the
    /// flips compound over 30 layers; the fp32 paths agree to 2e-5. Bounds: int8 vs fp32 |Δ| < 1.6 and relative
    /// < 0.065; vs the simulation < 1.0 (it was 0.7, which the generic path failed) and the same top-3; an
    /// argmax that differs from fp32 must be a near tie in fp32 (< 0.25 apart; the 37-token chat prompt's "The"
    /// vs "A" are 0.08 apart). Whether the LM head itself is int8 is `smolLMInt8LMHeadIsTheIntegerProduct`'s check.
    @Test(.enabled(if: TeacherFixtures.runsModelTests, TeacherFixtures.skipMessage))
    func smolLMInt8LogitsNearFP32() throws {
        let path = try #require(TeacherFixtures.smolLM)
        let file = try LlamaModelFile(gguf: path)
        let dec = try LlamaDecoder(file, threads: 2)
        let ctx = try Context(threads: 2)
        let sents = try #require(try doc("smollm2_int8.json")["sentences"] as? [[String: Any]])
        let seqs = try sents.map { s throws -> [Int32] in try ints(s["ids"]) }
        func lastLogits(_ b: TeacherBatch) throws -> [Float] {
            let h = try dec.forward(b.ids, lengths: b.lengths, ctx)
            var pooled: Tensor? = nil
            return try dec.logits(LlamaDecoder.lastToken(h, lengths: b.lengths, into: &pooled, ctx), ctx).toArray()
        }
        let batches = try seqs.map { try TeacherBatch(sequences: [$0]) } + [try TeacherBatch(sequences: seqs)]
        dec.precision = .fp32
        let exact = try batches.map(lastLogits)
        dec.precision = .int8
        let int8 = try batches.map(lastLogits)
        let v = dec.config.vocabSize
        var worstAbs: Float = 0, worstRel: Float = 0, worstSim: Float = 0
        for (bi, (a, b)) in zip(exact, int8).enumerated() {
            #expect(a.count == b.count && a.count % v == 0)
            for r in 0..<(a.count / v) {
                let ra = Array(a[(r * v)..<((r + 1) * v)]), rb = Array(b[(r * v)..<((r + 1) * v)])
                let d = zip(ra, rb).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
                worstAbs = max(worstAbs, d)
                worstRel = max(worstRel, d / ra.reduce(Float(0)) { max($0, abs($1)) })
                let (ta, tb) = (top(ra, 1)[0], top(rb, 1)[0])
                #expect(ta == tb || abs(ra[ta] - ra[tb]) < 0.25, "argmax \(ta) -> \(tb) is no near tie")
                let s = sents[bi < seqs.count ? bi : r]   // batches: each sentence alone, then all of them
                let simIds = try ints(s["int8_top_ids"]), simV = try floats(s["int8_top_logits"])
                var rowSim: Float = 0
                for (i, want) in zip(simIds, simV) { rowSim = max(rowSim, abs(rb[Int(i)] - want)) }
                worstSim = max(worstSim, rowSim)
                #expect(Set(top(rb, 3)) == Set(simIds.prefix(3).map(Int.init)), "top-3 differs from the simulation")
            }
        }
        print("SmolLM2 int8 (\(QuantPrecision.int8Path)) vs fp32: max |Δlogit| = \(worstAbs), relative = \(worstRel); "
            + "vs the PyTorch int8 simulation (top 10): \(worstSim)")
        #expect(worstAbs > 0, "int8 did not run (identical to fp32)")
        #expect(worstAbs < 1.6 && worstRel < 0.065)
        #expect(worstSim < 1.0)
    }

    /// In int8 precision the LM head takes int8 activations too: `logits` is bitwise the integer product of the
    /// hidden rows' Q8A rounding with the head weight (Q8_0 here), and differs from the fp32 product; in fp32
    /// precision it is the fp32 product.
    @Test(.enabled(if: TeacherFixtures.runsModelTests, TeacherFixtures.skipMessage))
    func smolLMInt8LMHeadIsTheIntegerProduct() throws {
        let path = try #require(TeacherFixtures.smolLM)
        let dec = try LlamaDecoder(try LlamaModelFile(gguf: path), threads: 2)
        let ctx = try Context(threads: 2)
        let (rows, c, v) = (3, dec.config.dModel, dec.config.vocabSize)
        let hidden = try Tensor(shape: [rows, c], values: testValues(rows * c, seed: 5, scale: 2))
        let dt = dec.lmHead.dtype.kernelDType
        #expect(lk_qgemm_q8_supports(dt) != 0, "the head is not a Q type: the test would not reach the int8 path")
        var xq = [UInt8](repeating: 0, count: rows * c / 32 * Int(LK_Q8A_BLOCK_BYTES))
        var int8 = [Float](repeating: 0, count: rows * v), fp32 = int8
        let h = try hidden.toArray()
        lk_quantize_q8a(&xq, h, Int64(c), Int64(rows), Int64(c), 1)
        dec.lmHead.withUnsafeBytes { w in
            lk_qgemm_q8(&int8, Int64(v), xq, w.baseAddress, Int64(rows), Int64(v), Int64(c), dt, 0, 1)
            lk_qgemm(&fp32, Int64(v), h, Int64(c), w.baseAddress, Int64(rows), Int64(v), Int64(c), dt, 0, 1)
        }
        dec.precision = .int8
        let got = try dec.logits(hidden, ctx).toArray()
        // counts, not the arrays: a failure message would print 147,456 logits
        func differing(_ a: [Float], _ b: [Float]) -> Int { zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count }
        #expect(got.count == int8.count && differing(got, int8) == 0, "int8 head: logits differ from the integer product")
        #expect(differing(got, fp32) > 0, "int8 head: logits are the fp32 product")
        dec.precision = .fp32
        #expect(differing(try dec.logits(hidden, ctx).toArray(), fp32) == 0, "fp32 head: logits differ from lk_qgemm")
    }

    /// Greedy generation in int8 follows the int8 simulation's 12 tokens, up to the first step where the
    /// simulation's top-2 are closer than int8's own logit noise against it (< 1.0: `smolLMInt8LogitsNearFP32`'s
    /// bound; measured 0.50-0.81 by path); there either token may win, and the rest of the sequences may then
    /// differ. The first step is such a near tie ("The" 25.325 vs "A" 25.243 in fp32) that any int8 activation
    /// rounding flips (the simulation flips it with blocks of 32, 16 and 8): int8 must take fp32's runner-up
    /// there. Other near ties in the simulation: step 7 (2.695 vs 2.670) and step 9 (19.49 vs 19.18, which
    /// `LEADER_ISA=avx2` flips). A divergence at a step with a clear margin fails and names the step.
    @Test(.enabled(if: TeacherFixtures.runsModelTests, TeacherFixtures.skipMessage))
    func smolLMInt8GreedyAnswer() throws {
        let path = try #require(TeacherFixtures.smolLM)
        let file = try LlamaModelFile(gguf: path)
        let chat = try #require(try doc("smollm2_int8.json")["chat"] as? [String: Any])
        let prompt = try ints(chat["prompt_ids"]), want = try ints(chat["int8_generated_ids"])
        let fp32Top = try ints(chat["fp32_first_top_ids"])
        let dec = try LlamaDecoder(file, threads: 2)
        dec.precision = .int8
        let got = try dec.generate(prompt, maxNewTokens: want.count, try Context(threads: 2))
        let top2 = try #require(chat["int8_step_top2_logits"] as? [[Double]])
        #expect(got.count == want.count && top2.count == want.count)
        if let step = zip(got, want).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            let margin = top2[step][0] - top2[step][1]
            #expect(margin < 1.0,
                    "int8 left the simulation's tokens at step \(step), where its top-2 \(top2[step]) are \(margin) apart")
        }
        #expect(got.first == fp32Top[1], "int8's first token is fp32's runner-up")
        dec.precision = .fp32
        #expect(try dec.generate(prompt, maxNewTokens: 1, try Context(threads: 2)).first == fp32Top[0])
    }
}

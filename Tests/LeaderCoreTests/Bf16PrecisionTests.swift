import CLeaderKernels
import Foundation
import Testing
@testable import LeaderCore

/// The bf16 precision of the teacher's frozen products (`QuantPrecision.bf16`: operands rounded to bfloat16,
/// f32 sums; AMX tiles where available) against the exact fp32 path on the SmolLM2-135M-Instruct Q4_1 golden
/// sentences (skipped without the model). Measured on the dev machine (AMX): max |Δlogit| 0.22, relative 0.0087,
/// same argmax on every sentence — about 5× closer to fp32 than int8 (1.185 / 0.047), because bf16 keeps 8
/// significant bits per value where a Q8A block of 32 shares one scale. Bounds: |Δ| < 0.6, relative < 0.025.
@Suite struct Bf16PrecisionTests {
    @Test(.enabled(if: TeacherFixtures.runsModelTests, TeacherFixtures.skipMessage))
    func smolLMBf16LogitsNearFP32() throws {
        let path = try #require(TeacherFixtures.smolLM)
        let file = try LlamaModelFile(gguf: path)
        let dec = try LlamaDecoder(file, threads: 2)
        let ctx = try Context(threads: 2)
        let doc = try #require(try TeacherFixtures.json("teacher/smollm2_int8.json") as? [String: Any])
        let sents = try #require(doc["sentences"] as? [[String: Any]])
        let seqs = try sents.map { s throws -> [Int32] in try #require(s["ids"] as? [Int]).map(Int32.init) }
        func lastLogits(_ b: TeacherBatch) throws -> [Float] {
            let h = try dec.forward(b.ids, lengths: b.lengths, ctx)
            var pooled: Tensor? = nil
            return try dec.logits(LlamaDecoder.lastToken(h, lengths: b.lengths, into: &pooled, ctx), ctx).toArray()
        }
        // The batch of all sentences has > 16 rows per product, so bf16 runs (fewer rows stay fp32).
        let batch = try TeacherBatch(sequences: seqs)
        #expect(batch.ids.count >= 16)
        dec.precision = .fp32
        let exact = try lastLogits(batch)
        dec.precision = .bf16
        let bf16 = try lastLogits(batch)
        let v = dec.config.vocabSize
        #expect(exact.count == bf16.count && exact.count == seqs.count * v)
        var worstAbs: Float = 0, worstRel: Float = 0
        for r in 0..<seqs.count {
            let ra = Array(exact[(r * v)..<((r + 1) * v)]), rb = Array(bf16[(r * v)..<((r + 1) * v)])
            let d = zip(ra, rb).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            worstAbs = max(worstAbs, d)
            worstRel = max(worstRel, d / ra.reduce(Float(0)) { max($0, abs($1)) })
            let ta = ra.indices.max { ra[$0] < ra[$1] }!, tb = rb.indices.max { rb[$0] < rb[$1] }!
            #expect(ta == tb || abs(ra[ta] - ra[tb]) < 0.25, "argmax \(ta) -> \(tb) is no near tie")
        }
        print("SmolLM2 bf16 (\(QuantPrecision.bf16Path)) vs fp32: max |Δlogit| = \(worstAbs), relative = \(worstRel)")
        #expect(worstAbs > 0, "bf16 did not run (identical to fp32)")
        #expect(worstAbs < 0.6 && worstRel < 0.025)
    }
}

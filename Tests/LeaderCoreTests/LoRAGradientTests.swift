import CLeaderKernels
import Foundation
import Testing
@testable import LeaderCore

/// LoRA + medication head on the tiny HF LLaMA against PyTorch + PEFT (tools/make_teacher_fixture.py: r 8,
/// α 32, dropout 0, B nonzero): loss, logits and the gradients of every adapter and of the head.
@Suite struct LoRAGradientTests {
    func fixture() throws -> (doc: [String: Any], weights: SafetensorsFile) {
        let doc = try #require(try TeacherFixtures.json("teacher/lora_tiny.json") as? [String: Any])
        return (doc, try SafetensorsFile(path: TeacherFixtures.path("teacher/lora_tiny.safetensors")))
    }

    func model(topLayers: Int? = nil, dropout: Float = 0, recompute: RecomputeMode = .auto) throws
        -> (TeacherModel, [String: Any], TeacherBatch)
    {
        let (doc, weights) = try fixture()
        let file = try LlamaModelFile(huggingFaceFolder: TeacherFixtures.path("tiny_llama"))
        let dec = try LlamaDecoder(file, lora: LoRAConfig(rank: 8, alpha: 32, dropout: dropout, topLayers: topLayers),
                                   recompute: recompute, seed: 5)
        let teacher = try TeacherModel(decoder: dec, medications: 10)
        for p in dec.adapters.parameters {
            let t = try weights.tensor(p.name)
            try dec.adapters.load(p.name, values: TestDequant.values(t), shape: t.shape)
        }
        let ids = try #require(doc["ids"] as? [[Int]]).map { $0.map(Int32.init) }
        let hot = try #require(doc["targets"] as? [[Double]])
        let targets = hot.map { row in row.enumerated().compactMap { $0.element > 0.5 ? $0.offset : nil } }
        return (teacher, doc, try TeacherBatch(sequences: ids, targets: targets, medications: 10))
    }

    /// The bound for one parameter's gradient against PEFT's: atol 2e-6 of its largest entry (float32
    /// accumulation error scales with it), rtol 2e-5 (measured: worst 0.25 of it on AMD EPYC AVX2).
    static func gradientBound(_ want: [Float]) -> Closeness {
        Closeness.scaled(to: want, atol: 2e-6, rtol: 2e-5, minScale: 1e-6)
    }

    /// The comparison above is fine enough to notice a gradient of the right values in the wrong places:
    /// PEFT's own gradient of one adapter, shuffled (a fixed permutation), fails it.
    @Test func aShuffledGradientFailsTheComparison() throws {
        let grads = try SafetensorsFile(path: TeacherFixtures.path("teacher/lora_tiny_grads.safetensors"))
        for name in ["layers.0.attn.q.lora_A.weight", "layers.1.ffn.down.lora_B.weight", "cls_head.weight"] {
            let want = TestDequant.values(try grads.tensor(name))
            var rng = SplitMix64(seed: 1)
            let shuffled = want.shuffled(using: &rng)
            #expect(shuffled != want)
            #expect(!Self.gradientBound(want).compare(shuffled, want).passed, "\(name): a shuffled gradient passed")
            #expect(Self.gradientBound(want).compare(want, want).passed)
        }
    }

    /// With and without activation recomputation (the tiny model has 2 layers: with it, layer 0 is recomputed).
    @Test(arguments: [RecomputeMode.off, .on])
    func gradientsMatchPEFT(_ recompute: RecomputeMode) throws {
        let (teacher, doc, batch) = try model(recompute: recompute)
        #expect(teacher.decoder.adapters.parameters.count == 2 * 7 * 2 + 1)
        #expect(teacher.decoder.recomputing == (recompute == .on))
        for threads in [1, 2] {
            let ctx = try Context(threads: threads, training: true)
            teacher.decoder.adapters.zeroGrad()
            let (_, logits) = try teacher.forward(batch, ctx)
            let loss = try teacher.loss(try #require(batch.targets), ctx)
            try teacher.backward(1, ctx)
            #expect(abs(Double(loss) - (doc["loss"] as? Double ?? .nan)) < 1e-5)
            let wantLogits = try #require(doc["logits"] as? [[Double]]).flatMap { $0 }
            for (a, b) in zip(logits.toArray(), wantLogits) { #expect(abs(Double(a) - b) < 1e-5) }
            let grads = try SafetensorsFile(path: TeacherFixtures.path("teacher/lora_tiny_grads.safetensors"))
            #expect(Set(grads.tensorNames) == Set(teacher.decoder.adapters.parameters.map(\.name)))
            var worst = 0.0
            for p in teacher.decoder.adapters.parameters {
                let want = TestDequant.values(try grads.tensor(p.name))
                #expect(want.contains { $0 != 0 }, "\(p.name): the fixture gradient must be nonzero")
                worst = max(worst, Self.gradientBound(want).expect(teacher.decoder.adapters.grad(p).toArray(), want,
                                                                   "gradient of \(p.name)").worstRatio)
            }
            print("LoRA vs PEFT (\(threads) threads, recompute \(recompute)): loss \(loss), worst |diff| / bound over every gradient element \(worst)")
        }
    }

    /// Recomputing the adapted layers' forward before their backward gives exactly (bit for bit) the loss,
    /// logits and gradients of keeping the intermediates, with dropout on (the recomputed forward replays the
    /// same dropout keys), over two steps of different lengths, and leaves the dropout stream where it was.
    @Test func recomputationIsBitwiseIdentical() throws {
        let (off, _, batch) = try model(dropout: 0.1, recompute: .off)
        let (on, _, _) = try model(dropout: 0.1, recompute: .on)
        #expect(!off.decoder.recomputing && on.decoder.recomputing)
        let short = try TeacherBatch(sequences: [[5, 9, 11], [3, 4]], targets: [[1, 2], []], medications: 10)
        var results: [[[Float]]] = []
        for teacher in [off, on] {
            let ctx = try Context(threads: 2, training: true, seed: 3)
            var r: [[Float]] = []
            for b in [batch, short, batch] {
                teacher.decoder.adapters.zeroGrad()
                let logits = try teacher.forward(b, ctx).logits.toArray()
                let loss = try teacher.loss(try #require(b.targets), ctx)
                let keys = ctx.dropoutKeysDrawn
                try teacher.backward(1, ctx)
                #expect(ctx.dropoutKeysDrawn == keys && ctx.training)
                r += [logits, [loss, Float(keys)], teacher.decoder.adapters.flatGrads.toArray()]
            }
            results.append(r)
        }
        #expect(results[0].count == results[1].count)
        for (i, (a, b)) in zip(results[0], results[1]).enumerated() {
            let same = a.map(\.bitPattern) == b.map(\.bitPattern)
            #expect(same, "result \(i) (step \(i / 3), \(["logits", "loss and keys", "gradients"][i % 3])) differs with recomputation")
        }
        // The gradients depend on the dropout masks: the comparison is not between zeros.
        #expect(results[1][2].contains { $0 != 0 })
    }

    /// LoRA on the top layer only, fed with the cached output of the frozen layer below, gives exactly
    /// the logits and gradients of running the whole model.
    @Test func topLayersWithCachedPrefix() throws {
        let (top, _, batch) = try model(topLayers: 1)
        #expect(top.decoder.firstAdaptedLayer == 1 && top.decoder.adapters.parameters.count == 7 * 2 + 1)
        let ctx = try Context(threads: 2, training: true)
        let targets = try #require(batch.targets)
        func run(_ lower: Tensor?) throws -> (logits: [Float], grads: [Float]) {
            top.decoder.adapters.zeroGrad()
            let l = try top.forward(batch, lowerOutput: lower, ctx).logits.toArray()
            _ = try top.loss(targets, ctx)
            try top.backward(1, ctx)
            return (l, top.decoder.adapters.flatGrads.toArray())
        }
        let direct = try run(nil)
        let prefix = try top.decoder.frozenPrefix(batch.ids, lengths: batch.lengths, ctx)
        let cached = try Tensor(zeros: prefix.shape)
        try cached.copy(from: prefix)
        let viaCache = try run(cached)
        #expect(direct.logits == viaCache.logits)
        #expect(direct.grads == viaCache.grads)
        #expect(direct.grads.contains { $0 != 0 })
    }

    /// With dropout the gradients still agree with central finite differences of the loss (same dropout keys
    /// replayed by resetting the context's stream).
    @Test func dropoutGradientIsConsistent() throws {
        let (teacher, _, batch) = try model(dropout: 0.1)
        let targets = try #require(batch.targets)
        let store = teacher.decoder.adapters
        func lossAt(_ ctx: Context) throws -> Float {
            ctx.setDropoutKeysDrawn(0)
            _ = try teacher.forward(batch, ctx)
            return try teacher.loss(targets, ctx)
        }
        let ctx = try Context(threads: 1, training: true, seed: 9)
        store.zeroGrad()
        _ = try lossAt(ctx)
        try teacher.backward(1, ctx)
        let p = try #require(store.parameter(named: "layers.0.attn.q.lora_A.weight"))
        let g = store.grad(p).toArray()
        let v = store.value(p)
        for i in [0, 17, 130] {
            let old = v.pointer[i]
            let eps: Float = 1e-2
            v.pointer[i] = old + eps
            let up = try lossAt(ctx)
            v.pointer[i] = old - eps
            let down = try lossAt(ctx)
            v.pointer[i] = old
            let fd = (up - down) / (2 * eps)
            #expect(abs(fd - g[i]) <= 2e-3 * max(1, abs(g[i])) + 2e-4, "dA[\(i)]: fd \(fd) vs \(g[i])")
        }
    }
}

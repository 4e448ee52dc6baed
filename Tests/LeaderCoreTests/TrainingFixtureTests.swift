import Foundation
import Testing
@testable import LeaderCore

/// tools/make_fixtures.py output.
struct TrainingFixture: Decodable {
    struct Config: Decodable {
        let vocab, channels, heads, ffn, layers, labels, batch, seq, steps, warmup: Int
        let ln_eps, lr, max_norm, adamw_weight_decay: Double
        let total_steps: Int
    }
    struct Param: Decodable { let shape: [Int]; let values: [Float] }
    struct Run: Decodable {
        let losses: [Double]
        let grad_norms: [Double]
        let final_loss: Double
        let final: [String: [Float]]
    }
    let config: Config
    let ids: [Int32]
    let lengths: [Int32]
    let targets: [Float]
    let params: [String: Param]
    let first_grads: [String: [Float]]
    let runs: [String: Run]

    static func load() throws -> TrainingFixture {
        guard let url = Bundle.module.url(forResource: "set_model_training", withExtension: "json",
                                          subdirectory: "Fixtures") else {
            throw LeaderError.io("fixture set_model_training.json not in the test bundle")
        }
        return try JSONDecoder().decode(TrainingFixture.self, from: Data(contentsOf: url))
    }
}

/// Everything one Swift training run produced.
struct SwiftRun {
    var losses: [Float] = []
    var gradNorms: [Float] = []
    var firstGrads: [String: [Float]] = [:]
    var finalLoss: Float = 0
    var final: [String: [Float]] = [:]
}

func trainLikeFixture(_ f: TrainingFixture, decoupled: Bool, threads: Int) throws -> SwiftRun {
    let c = f.config
    let model = try SetModel(vocab: c.vocab, channels: c.channels, heads: c.heads, ffn: c.ffn, layers: c.layers,
                             labels: c.labels, lnEps: Float(c.ln_eps))
    #expect(Set(model.store.parameters.map(\.name)) == Set(f.params.keys))
    for (name, p) in f.params { try model.store.load(name, values: p.values, shape: p.shape) }
    let ctx = try Context(threads: threads, training: true, seed: 1)
    let ids = try IndexTensor(shape: [c.batch, c.seq], values: f.ids.map { $0 })
    let lengths = try IndexTensor(shape: [c.batch], values: f.lengths)
    let targets = try Tensor(shape: [c.batch, c.labels], values: f.targets)
    let options = decoupled ? Adam.Options.adamW(learningRate: Float(c.lr), weightDecay: Float(c.adamw_weight_decay))
                            : Adam.Options(learningRate: Float(c.lr))
    let adam = try Adam(model.store, options)
    let schedule = try LinearSchedule(baseLearningRate: Float(c.lr), warmupSteps: c.warmup, totalSteps: c.total_steps)
    var run = SwiftRun()
    for step in 0..<c.steps {
        model.store.zeroGrad()
        run.losses.append(try model.forward(ids: ids, lengths: lengths, targets: targets, ctx))
        try model.backward(ctx)
        if step == 0 {
            for p in model.store.parameters { run.firstGrads[p.name] = model.store.grad(p).toArray() }
        }
        let (scale, norm) = try GradientClipping.scale(model.store, maxNorm: Float(c.max_norm), ctx)
        run.gradNorms.append(norm)
        try adam.update(learningRate: schedule.learningRate(atStep: step), gradScale: scale, ctx)
    }
    ctx.training = false
    run.finalLoss = try model.forward(ids: ids, lengths: lengths, targets: targets, ctx)
    for p in model.store.parameters { run.final[p.name] = model.store.value(p).toArray() }
    return run
}

private func relDiff(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-12) }

@Test func firstStepGradientsMatchPyTorch() throws {
    let f = try TrainingFixture.load()
    let run = try trainLikeFixture(f, decoupled: false, threads: 1)
    // Per parameter: atol 1e-6 of the largest entry (float32 accumulation error scales with it), rtol 1e-5
    // (measured: worst 0.16 of this bound on AMD EPYC AVX2).
    #expect(Set(f.first_grads.keys) == Set(run.firstGrads.keys))
    var worst = 0.0
    for (name, expected) in f.first_grads.sorted(by: { $0.key < $1.key }) {
        let got = try #require(run.firstGrads[name])
        let bound = Closeness.scaled(to: expected, atol: 1e-6, rtol: 1e-5, minScale: 1e-6)
        worst = max(worst, bound.expect(got, expected, "first-step gradient of \(name)").worstRatio)
    }
    print("first-step gradients vs PyTorch: worst |diff| / bound over every element \(worst)")
}

@Test(arguments: ["adam", "adamw"])
func twentyStepTrainingMatchesPyTorch(_ optimiser: String) throws {
    let f = try TrainingFixture.load()
    let expected = try #require(f.runs[optimiser])
    let run = try trainLikeFixture(f, decoupled: optimiser == "adamw", threads: 2)
    #expect(run.losses.count == expected.losses.count)
    var worstAbs = 0.0, worstRel = 0.0
    for (got, want) in zip(run.losses, expected.losses) {
        worstAbs = max(worstAbs, abs(Double(got) - want))
        worstRel = max(worstRel, relDiff(Double(got), want))
    }
    print("[\(optimiser)] loss trajectory vs PyTorch: max abs diff \(worstAbs), max rel diff \(worstRel); "
          + "final \(run.finalLoss) vs \(expected.final_loss)")
    #expect(worstRel < 1e-4, "loss trajectory rel diff \(worstRel)")
    #expect(relDiff(Double(run.finalLoss), expected.final_loss) < 2e-4)
    for (got, want) in zip(run.gradNorms, expected.grad_norms) {
        #expect(relDiff(Double(got), want) < 1e-3, "grad norm \(got) vs \(want)")
    }
    // Every element of every parameter after 20 steps (measured: worst 0.12 of this bound on AMD EPYC AVX2).
    #expect(Set(expected.final.keys) == Set(run.final.keys))
    let bound = Closeness(atol: 2e-6, rtol: 1e-5)
    var worst = 0.0
    for (name, want) in expected.final.sorted(by: { $0.key < $1.key }) {
        let got = try #require(run.final[name])
        worst = max(worst, bound.expect(got, want, "[\(optimiser)] \(name) after \(f.config.steps) steps").worstRatio)
    }
    print("[\(optimiser)] final weights vs PyTorch: worst |diff| / (2e-6 + 1e-5·|want|) \(worst)")
}

@Test func trainingIsThreadCountInvariant() throws {
    let f = try TrainingFixture.load()
    let one = try trainLikeFixture(f, decoupled: true, threads: 1)
    let two = try trainLikeFixture(f, decoupled: true, threads: 2)
    #expect(one.losses == two.losses)
    #expect(one.final == two.final)
}

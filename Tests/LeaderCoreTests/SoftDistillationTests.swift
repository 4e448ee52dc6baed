import Foundation
import Testing
@testable import LeaderCore

/// Soft-label distillation (`distillTarget` soft): the term's value against a direct computation, its gradient
/// against central differences of the whole model's loss, and the settings it refuses.
@Suite struct SoftDistillationTests {
    func softConfig(alpha: Float, temperature: Float) -> StudentConfig {
        var c = tinyConfig()
        c.hiddenDropout = 0
        c.attentionDropout = 0
        c.distillTarget = .soft
        c.alpha = alpha
        c.distillTemperature = temperature
        c.beta = 0
        return c
    }

    @Test func termIsTheTemperedBCEAgainstTheTeacherProbabilities() throws {
        let m = try StudentModel(config: softConfig(alpha: 0.7, temperature: 2), sizes: tinySizes)
        let ex = syntheticExamples(5, seed: 31)
        let ctx = try Context(threads: 1, training: false)
        let teacher = try testTensor([5, 6], seed: 7, scale: 3)
        let b = try m.pack(ex, forTraining: true)
        let l = try m.loss(b, teacher: teacher, ctx)
        let logits = try m.forward(b, ctx).toArray(), t = teacher.toArray()
        var expected = 0.0
        for i in 0..<logits.count {
            let z = Double(logits[i]) / 2, p = 1 / (1 + exp(-Double(t[i]) / 2))
            expected += max(z, 0) - z * p + log(1 + exp(-abs(z)))
        }
        expected /= Double(logits.count)
        #expect(abs(Double(l.distill) - expected) < 1e-5)
        #expect(abs(l.total - (l.bce + 0.7 * 4 * l.distill)) < 1e-5)   // α·T²
        #expect(m.distills)
    }

    @Test func gradientMatchesFiniteDifferences() throws {
        let m = try StudentModel(config: softConfig(alpha: 0.7, temperature: 2), sizes: tinySizes)
        let ex = syntheticExamples(4, seed: 32)
        let ctx = try Context(threads: 1, training: true)
        let teacher = try testTensor([4, 6], seed: 8, scale: 3)
        let b = try m.pack(ex, forTraining: true)
        m.store.zeroGrad()
        _ = try m.loss(b, teacher: teacher, ctx)
        try m.backward(ctx)
        for name in ["head.fc2.weight", "head.fc2.bias", "head.fc1.weight"] {
            let p = try #require(m.store.parameter(named: name))
            let w = m.store.value(p), g = m.store.grad(p).toArray()
            var diff = 0.0, norm = 0.0
            for i in stride(from: 0, to: w.count, by: max(1, w.count / 24)) {
                let fd = try centralDifference(w, i) { Double(try m.loss(b, teacher: teacher, ctx).total) }
                diff += (fd - Double(g[i])) * (fd - Double(g[i]))
                norm += fd * fd
            }
            #expect(norm > 1e-6, "\(name): zero gradient")
            #expect(diff.squareRoot() / norm.squareRoot() < 2e-2, "\(name)")
        }
        // the soft term moves the gradient: α = 0 gives another one
        let plain = try StudentModel(config: softConfig(alpha: 0, temperature: 2), sizes: tinySizes)
        plain.store.zeroGrad()
        _ = try plain.loss(try plain.pack(ex, forTraining: true), teacher: teacher, ctx)
        try plain.backward(ctx)
        #expect(!Closeness(atol: 1e-3, rtol: 1e-3).compare(plain.store.flatGrads.toArray(), m.store.flatGrads.toArray()).passed)
    }

    @Test func settingsItRefuses() throws {
        var c = softConfig(alpha: 0.5, temperature: 1)
        c.teacherDim = 6
        expectError(.invalidArgument, "student config: teacherDim = 6 (0 with distillTarget soft: it has no projector)") { try c.validate() }   // soft has no projector
        c.teacherDim = 0
        c.distillTemperature = 0
        expectError(.invalidArgument, "student config: distillTemperature = 0.0 ((0,100])") { try c.validate() }
        c.distillTemperature = 2
        try c.validate()
        #expect(try StudentConfig.decode(json: try c.json()) == c)
        // teacher rows must be one logit per medication
        let m = try StudentModel(config: c, sizes: tinySizes)
        expectError(.invalidArgument, "student training: teacher features of width 5, but distillTarget soft needs 6 (teacherDim 0, 6 medications)") {
            _ = try StudentTrainer(model: m, train: syntheticExamples(4, seed: 1), validation: [],
                                   teacher: try TeacherFeatures(dim: 5, values: [Float](repeating: 0, count: 20), rows: 4))
        }
        _ = try StudentTrainer(model: m, train: syntheticExamples(4, seed: 1), validation: [],
                               teacher: try TeacherFeatures(dim: 6, values: [Float](repeating: 0, count: 24), rows: 4))
    }
}

import Foundation
import Testing
@testable import LeaderCore

/// The SafeDrug-style DDI penalty (`ddiWeight`): its value against a direct sum, its gradient against central
/// differences, the neighbour lists, and a job without pairs refused.
@Suite struct DDIPenaltyTests {
    func model(_ gamma: Float) throws -> StudentModel {
        var c = tinyConfig()
        c.hiddenDropout = 0; c.attentionDropout = 0; c.beta = 0
        c.ddiWeight = gamma
        let m = try StudentModel(config: c, sizes: tinySizes)
        var pairs = DDIPairs()
        pairs.add(0, 3); pairs.add(1, 3); pairs.add(4, 5); pairs.add(2, 2)   // a self-pair is no pair
        m.ddiNeighbours = pairs.neighbours(medications: 6)
        return m
    }

    @Test func neighboursAreSymmetricAndSorted() {
        var pairs = DDIPairs()
        pairs.add(3, 0); pairs.add(1, 3); pairs.add(4, 5); pairs.add(9, 1)
        #expect(pairs.neighbours(medications: 6) == [[3], [3], [], [0, 1], [5], [4]])
    }

    @Test func valueAndGradient() throws {
        let m = try model(0.8)
        let ex = syntheticExamples(5, seed: 41)
        let ctx = try Context(threads: 1, training: true)
        let b = try m.pack(ex, forTraining: true)
        m.store.zeroGrad()
        let l = try m.loss(b, teacher: nil, ctx)
        let p = try m.forward(b, ctx).toArray().map { 1 / (1 + exp(-Double($0))) }
        var expected = 0.0
        for r in 0..<5 { expected += p[r * 6] * p[r * 6 + 3] + p[r * 6 + 1] * p[r * 6 + 3] + p[r * 6 + 4] * p[r * 6 + 5] }
        #expect(abs(Double(l.ddi) - expected / 5) < 1e-5)
        #expect(abs(l.total - (l.bce + 0.8 * l.ddi)) < 1e-5)
        _ = try m.loss(b, teacher: nil, ctx)
        try m.backward(ctx)
        let w = try #require(m.store.parameter(named: "head.fc2.bias"))
        let value = m.store.value(w), g = m.store.grad(w).toArray()
        for i in 0..<value.count {
            let fd = try centralDifference(value, i) { Double(try m.loss(b, teacher: nil, ctx).total) }
            #expect(abs(fd - Double(g[i])) < 2e-3, "bias \(i)")
        }
        // the penalty changes the gradient of the interacting medications only (bias of medication 2 has none)
        let off = try model(0)
        off.store.zeroGrad()
        _ = try off.loss(b, teacher: nil, ctx)
        try off.backward(ctx)
        let g0 = off.store.grad(try #require(off.store.parameter(named: "head.fc2.bias"))).toArray()
        #expect(abs(g0[2] - g[2]) < 1e-7 && abs(g0[3] - g[3]) > 1e-4)
        #expect(g[3] > g0[3])   // pushing the shared partner's score down
    }

    @Test func aJobWithoutPairsIsRefused() throws {
        let dir = tempPath("ddi-penalty")
        try? FileManager.default.removeItem(atPath: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try PrepareJob(source: "synthetic", input: nil, maps: nil, out: dir + "/c.ldata", config: PrepareConfig(),
                           patients: 120, seed: 2).run()
        var c = StudentConfig()
        c.epochs = 1; c.hidden = 16; c.ffnHidden = 16; c.ddiWeight = 0.5
        do {
            _ = try StudentJob(data: dir + "/c.ldata", out: dir + "/s.safetensors", config: c, threads: 1, ddi: "").run()
            Issue.record("trained without DDI pairs")
        } catch { #expect(error.kind == .invalidArgument) }
        let r = try StudentJob(data: dir + "/c.ldata", out: dir + "/s.safetensors", config: c, threads: 1).run()
        #expect(r.epochs == 1)
    }
}

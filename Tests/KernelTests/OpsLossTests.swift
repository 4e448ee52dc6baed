// Losses: BCE with logits, MSE, softmax cross-entropy (ignored rows): optimised vs _ref, finite differences of
// the mean loss, thread invariance, stability for extreme logits.
import Testing
import CLeaderKernels
import Foundation

private let lossSizes = [1, 7, 33, 1000, 5000, 20_001]

private func bce(_ x: [Float], _ t: [Float], _ w: [Float]?, threads: Int32? = nil) -> Float {
    var loss: Float = .nan
    switch (threads, w) {
    case (let nt?, let w?): lk_bce_logits_forward_isa(testISA, &loss, x, t, w, Int64(x.count), nt)
    case (let nt?, nil): lk_bce_logits_forward_isa(testISA, &loss, x, t, nil, Int64(x.count), nt)
    case (nil, let w?): lk_bce_logits_forward_ref(&loss, x, t, w, Int64(x.count))
    case (nil, nil): lk_bce_logits_forward_ref(&loss, x, t, nil, Int64(x.count))
    }
    return loss
}

private func bceBackward(_ d0: [Float], _ dloss: Float, _ x: [Float], _ t: [Float], _ w: [Float]?,
                         threads: Int32? = nil) -> [Float] {
    var d = d0
    switch (threads, w) {
    case (let nt?, let w?): lk_bce_logits_backward_isa(testISA, &d, dloss, x, t, w, Int64(x.count), nt)
    case (let nt?, nil): lk_bce_logits_backward_isa(testISA, &d, dloss, x, t, nil, Int64(x.count), nt)
    case (nil, let w?): lk_bce_logits_backward_ref(&d, dloss, x, t, w, Int64(x.count))
    case (nil, nil): lk_bce_logits_backward_ref(&d, dloss, x, t, nil, Int64(x.count))
    }
    return d
}

@Test(arguments: lossSizes)
func bceMatchesReference(_ n: Int) {
    var rng = TestRNG(UInt64(600 + n))
    let x = rng.floats(n, -10, 10), t = (0..<n).map { _ in rng.float(0, 1) > 0.5 ? Float(1) : 0 }
    let w = rng.floats(n, 0.2, 2), d0 = rng.floats(n)
    for weights in [nil, w] as [[Float]?] {
        let ref = bce(x, t, weights), refB = bceBackward(d0, 0.7, x, t, weights)
        for isa in allISAs {
            withISA(isa) {
                let tag = "bce n=\(n) weighted=\(weights != nil) \(isaName(isa))"
                expectClose(bce(x, t, weights, threads: 2), ref, rtol: 2e-6, atol: 1e-7, tag)
                expectClose(bceBackward(d0, 0.7, x, t, weights, threads: 2), refB, rtol: 1e-5, atol: 1e-8, "\(tag) backward")
            }
        }
    }
}

@Test func bceIsStableAndMatchesFiniteDifferences() {
    // extreme logits: finite loss equal to |x| for the wrong label, 0 for the right one
    let x: [Float] = [100, -100, 100, -100], t: [Float] = [0, 1, 1, 0]
    expectClose(bce(x, t, nil, threads: 1), 50, "bce extreme")
    let g = bceBackward([0, 0, 0, 0], 1, x, t, nil, threads: 1)
    expectClose(g, [0.25, -0.25, 0, 0], "bce extreme grad")
    var rng = TestRNG(61)
    let n = 20
    let xs = rng.floats(n, -4, 4), ts = rng.floats(n, 0, 1), ws = rng.floats(n, 0.5, 1.5)
    let gr = bceBackward([Float](repeating: 0, count: n), 1.3, xs, ts, ws, threads: 2)
    expectGradient(gr, xs, h: 1e-2, rtol: 2e-2, atol: 2e-4, "bce") { 1.3 * Double(bce($0, ts, ws)) }
}

@Test func mseMatchesReferenceAndFiniteDifferences() {
    for n in lossSizes {
        var rng = TestRNG(UInt64(700 + n))
        let a = rng.floats(n, -3, 3), b = rng.floats(n, -3, 3), da0 = rng.floats(n), db0 = rng.floats(n)
        var l1: Float = .nan, l2: Float = .nan
        lk_mse_forward(&l1, a, b, Int64(n), 2)
        lk_mse_forward_ref(&l2, a, b, Int64(n))
        expectClose(l1, l2, rtol: 2e-6, "mse n=\(n)")
        var da = da0, db = db0, daR = da0, dbR = db0, daOnly = da0
        lk_mse_backward(&da, &db, 0.9, a, b, Int64(n), 2)
        lk_mse_backward_ref(&daR, &dbR, 0.9, a, b, Int64(n))
        lk_mse_backward(&daOnly, nil, 0.9, a, b, Int64(n), 2)
        expectClose(da, daR, rtol: 1e-5, atol: 1e-8, "mse da n=\(n)")
        expectClose(db, dbR, rtol: 1e-5, atol: 1e-8, "mse db n=\(n)")
        #expect(bits(daOnly) == bits(da))
    }
    var rng = TestRNG(71)
    let n = 15
    let a = rng.floats(n), b = rng.floats(n)
    var da = [Float](repeating: 0, count: n), db = da
    lk_mse_backward(&da, &db, 1, a, b, Int64(n), 2)
    func mse(_ a: [Float], _ b: [Float]) -> Double { var l: Float = 0; lk_mse_forward_ref(&l, a, b, Int64(n)); return Double(l) }
    expectGradient(da, a, h: 1e-2, atol: 2e-4, "mse da") { mse($0, b) }
    expectGradient(db, b, h: 1e-2, atol: 2e-4, "mse db") { mse(a, $0) }
}

// MARK: - Cross-entropy

private func crossEntropy(_ x: [Float], _ t: [Int32], _ rows: Int, _ C: Int,
                          threads: Int32? = nil) -> (loss: Float, probs: [Float]) {
    var loss: Float = .nan, probs = [Float](repeating: .nan, count: rows * C)
    if let threads { lk_cross_entropy_forward_isa(testISA, &loss, &probs, x, t, Int64(rows), Int64(C), threads) }
    else { lk_cross_entropy_forward_ref(&loss, &probs, x, t, Int64(rows), Int64(C)) }
    return (loss, probs)
}

private func crossEntropyBackward(_ d0: [Float], _ dloss: Float, _ p: [Float], _ t: [Int32], _ rows: Int, _ C: Int,
                                  threads: Int32? = nil) -> [Float] {
    var d = d0
    if let threads { lk_cross_entropy_backward(&d, dloss, p, t, Int64(rows), Int64(C), threads) }
    else { lk_cross_entropy_backward_ref(&d, dloss, p, t, Int64(rows), Int64(C)) }
    return d
}

/// Targets with every 3rd row ignored (-1).
private func targets(_ rows: Int, _ C: Int, seed: UInt64) -> [Int32] {
    var rng = TestRNG(seed)
    return (0..<rows).map { r in r % 3 == 2 ? -1 : Int32(rng.int(C)) }
}

@Test(arguments: awkwardShapes.indices)
func crossEntropyMatchesReference(_ si: Int) {
    let (rows, C) = awkwardShapes[si]
    var rng = TestRNG(UInt64(800 + si))
    let x = rng.floats(rows * C, -6, 6), d0 = rng.floats(rows * C), t = targets(rows, C, seed: UInt64(si))
    let ref = crossEntropy(x, t, rows, C), refB = crossEntropyBackward(d0, 0.8, ref.probs, t, rows, C)
    for isa in allISAs {
        withISA(isa) {
            let tag = "cross-entropy \(rows)x\(C) \(isaName(isa))"
            let opt = crossEntropy(x, t, rows, C, threads: 2)
            expectClose(opt.loss, ref.loss, rtol: 1e-5, atol: 1e-6, "\(tag) loss")
            expectClose(opt.probs, ref.probs, rtol: 1e-5, atol: 1e-7, "\(tag) probs")
            expectClose(crossEntropyBackward(d0, 0.8, ref.probs, t, rows, C, threads: 2), refB, rtol: 1e-5, atol: 1e-7,
                        "\(tag) backward")
        }
    }
}

@Test func crossEntropyIgnoredRowsAndFiniteDifferences() {
    let (rows, C) = (6, 5)
    var rng = TestRNG(81)
    let x = rng.floats(rows * C, -3, 3), t: [Int32] = [0, 4, -1, 2, -7, 1]
    let f = crossEntropy(x, t, rows, C, threads: 2)
    // mean over the 4 valid rows of -log p[target]
    var expected = 0.0
    for r in 0..<rows where t[r] >= 0 { expected -= log(Double(f.probs[r * C + Int(t[r])])) }
    expectClose(f.loss, Float(expected / 4), rtol: 1e-5, "mean over valid rows")
    let g = crossEntropyBackward([Float](repeating: 0, count: rows * C), 1.5, f.probs, t, rows, C, threads: 2)
    #expect(g[(2 * C)..<(3 * C)].allSatisfy { $0 == 0 } && g[(4 * C)..<(5 * C)].allSatisfy { $0 == 0 }, "ignored rows")
    expectGradient(g, x, h: 1e-2, atol: 2e-4, "cross-entropy") { 1.5 * Double(crossEntropy($0, t, rows, C).loss) }
    // all rows ignored: zero loss, no gradient
    let none = crossEntropy(x, [Int32](repeating: -1, count: rows), rows, C, threads: 2)
    #expect(none.loss == 0)
    let g0 = crossEntropyBackward([Float](repeating: 0, count: rows * C), 1, none.probs,
                                  [Int32](repeating: -1, count: rows), rows, C, threads: 2)
    #expect(g0.allSatisfy { $0 == 0 })
    // extreme logits stay finite
    let e = crossEntropy([1000, -1000, 0, 3e38], [1, 0], 2, 2, threads: 1)
    #expect(e.loss.isFinite && e.probs.allSatisfy(\.isFinite))
}

@Test func lossesAreThreadInvariant() {
    let n = 100_007
    let x = bulkFloats(n, -8, 8, seed: 1), t = bulkFloats(n, 0, 1, seed: 2), w = bulkFloats(n, 0.5, 1.5, seed: 3)
    let z = [Float](repeating: 0, count: n)
    for isa in allISAs {
        withISA(isa) {
            expectThreadInvariant("bce/mse \(isaName(isa))") { nt in
                var lm: Float = 0
                lk_mse_forward(&lm, x, t, Int64(n), nt)
                var da = z, db = z
                lk_mse_backward(&da, &db, 1, x, t, Int64(n), nt)
                return [[bce(x, t, w, threads: nt)], bceBackward(z, 1, x, t, w, threads: nt), [lm], da, db]
            }
        }
    }
    let (rows, C) = (3001, 37)
    let logits = bulkFloats(rows * C, -5, 5, seed: 4), tg = targets(rows, C, seed: 92)
    for isa in allISAs {
        withISA(isa) {
            expectThreadInvariant("cross-entropy \(isaName(isa))") { nt in
                let f = crossEntropy(logits, tg, rows, C, threads: nt)
                return [[f.loss], f.probs,
                        crossEntropyBackward([Float](repeating: 0, count: rows * C), 1, f.probs, tg, rows, C, threads: nt)]
            }
        }
    }
}

/// A random symmetric interaction graph over M medications in CSR form (no self-pairs).
private func ddiGraph(_ M: Int, pairs: Int, seed: UInt64) -> (offsets: [Int32], ids: [Int32]) {
    var rng = TestRNG(seed)
    var adj = [Set<Int32>](repeating: [], count: M)
    for _ in 0..<pairs {
        let a = rng.int(M), b = rng.int(M)
        if a != b { adj[a].insert(Int32(b)); adj[b].insert(Int32(a)) }
    }
    var offsets: [Int32] = [0], ids: [Int32] = []
    for s in adj { ids += s.sorted(); offsets.append(Int32(ids.count)) }
    return (offsets, ids)
}

@Test func ddiPenaltyMatchesReferenceFiniteDifferencesAndThreads() {
    for (rows, M) in [(1, 5), (16, 131), (40, 64)] {
        let g = ddiGraph(M, pairs: 3 * M, seed: UInt64(M))
        let x = bulkFloats(rows * M, -4, 4, seed: UInt64(rows))
        var lr: Float = 0, lk: Float = 0
        var pr = [Float](repeating: 0, count: rows * M), pk = pr
        lk_ddi_penalty_forward_ref(&lr, &pr, x, g.offsets, g.ids, Int64(rows), Int64(M))
        lk_ddi_penalty_forward(&lk, &pk, x, g.offsets, g.ids, Int64(rows), Int64(M), 2)
        #expect(abs(lr - lk) <= 1e-5 * max(1, abs(lr)) && lr > 0, "\(rows)x\(M)")
        #expect(zip(pr, pk).allSatisfy { abs($0 - $1) < 1e-6 })
        var dr = [Float](repeating: 0.5, count: rows * M), dk = dr
        lk_ddi_penalty_backward_ref(&dr, 0.7, pr, g.offsets, g.ids, Int64(rows), Int64(M))
        lk_ddi_penalty_backward(&dk, 0.7, pk, g.offsets, g.ids, Int64(rows), Int64(M), 2)
        #expect(zip(dr, dk).allSatisfy { abs($0 - $1) < 1e-5 })
        // central differences of 0.7 · loss through the reference forward (dr holds 0.5 + gradient)
        var scratch = pr
        for i in stride(from: 0, to: rows * M, by: max(1, rows * M / 17)) {
            var xp = x, xm = x
            xp[i] += 1e-2; xm[i] -= 1e-2
            var lp: Float = 0, lm: Float = 0
            lk_ddi_penalty_forward_ref(&lp, &scratch, xp, g.offsets, g.ids, Int64(rows), Int64(M))
            lk_ddi_penalty_forward_ref(&lm, &scratch, xm, g.offsets, g.ids, Int64(rows), Int64(M))
            let fd = 0.7 * Double(lp - lm) / 2e-2
            #expect(abs(fd - Double(dr[i] - 0.5)) < 2e-3 * max(1, abs(fd)), "\(rows)x\(M) [\(i)]")
        }
        expectThreadInvariant("ddi penalty \(rows)x\(M)") { nt in
            var l: Float = 0
            var p = [Float](repeating: 0, count: rows * M), d = p
            lk_ddi_penalty_forward(&l, &p, x, g.offsets, g.ids, Int64(rows), Int64(M), nt)
            lk_ddi_penalty_backward(&d, 1, p, g.offsets, g.ids, Int64(rows), Int64(M), nt)
            return [[l], p, d]
        }
    }
}

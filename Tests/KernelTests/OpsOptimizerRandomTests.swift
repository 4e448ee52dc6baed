// Sum of squares, Adam/AdamW, counter-based RNG, dropout and the small tensor helpers.
import Testing
import CLeaderKernels
import Foundation

@Test func sumSquaresMatchesReferenceAndIsThreadInvariant() {
    for n in [0, 1, 7, 33, 4096, 4097, 100_003, 5_000_001] {
        let x = bulkFloats(n, -3, 3, seed: UInt64(n) + 1)  // 5M: more than 1024 chunks of 4096, so chunks grow
        let ref = lk_sum_squares_ref(x, Int64(n))
        for isa in allISAs {
            withISA(isa) {
                let one = lk_sum_squares_isa(testISA, x, Int64(n), 1)
                #expect(abs(one - ref) <= 1e-11 * max(1, ref), "sum_squares n=\(n) \(isaName(isa)): \(one) vs \(ref)")
                for nt in threadCounts.dropFirst() {
                    #expect(lk_sum_squares_isa(testISA, x, Int64(n), nt).bitPattern == one.bitPattern, "n=\(n) nt=\(nt)")
                }
            }
        }
    }
}

private func adam(_ p0: [Float], _ m0: [Float], _ v0: [Float], _ g: [Float], decoupled: Int32, step: Int64,
                  scale: Float = 1, wd: Float = 0.1, threads: Int32? = nil) -> [[Float]] {
    var p = p0, m = m0, v = v0
    if let threads {
        lk_adam_step_isa(testISA, &p, &m, &v, g, Int64(p.count), 0.1, 0.9, 0.999, 1e-8, wd, decoupled, step, scale, threads)
    } else {
        lk_adam_step_ref(&p, &m, &v, g, Int64(p.count), 0.1, 0.9, 0.999, 1e-8, wd, decoupled, step, scale)
    }
    return [p, m, v]
}

@Test func adamMatchesHandComputedTwoSteps() {
    // lr 0.1, betas (0.9, 0.999), eps 1e-8, wd 0.1, p = 1, grads 0.5 then -0.25 (values worked by hand, PyTorch
    // semantics). AdamW step 1: p = 1*(1-0.01) - 0.1*(0.05/0.1)/(sqrt(0.00025/0.001)+1e-8) = 0.89.
    // Adam+L2 step 1: g = 0.5 + 0.1*1 = 0.6, m = 0.06, v = 0.00036, p = 1 - 0.1*0.6/(0.6+1e-8) = 0.9.
    let expected: [Int32: [[Double]]] = [
        1: [[0.890000002, 0.05, 0.00025], [0.8544662986878463, 0.02, 0.00031225]],
        0: [[0.9000000016666666, 0.06, 0.00036], [0.8544413674617625, 0.03800000001666665, 0.00038523999994666703]],
    ]
    for isa in allISAs {
        withISA(isa) {
            for decoupled: Int32 in [1, 0] {
                for useRef in [false, true] {
                    var state: [[Float]] = [[1], [0], [0]]
                    for (i, g) in ([0.5, -0.25] as [Float]).enumerated() {
                        state = adam(state[0], state[1], state[2], [g], decoupled: decoupled, step: Int64(i + 1),
                                     threads: useRef ? nil : 2)
                        let e = expected[decoupled]![i].map { Float($0) }
                        let tag = "adam decoupled=\(decoupled) ref=\(useRef) step \(i + 1) \(isaName(isa))"
                        expectClose(Array(state.map { $0[0] }[0...1]), Array(e[0...1]), rtol: 2e-6, atol: 0, "\(tag) p, m")
                        // betas arrive as float: 1 - 0.999f = 0.00099998713 shifts v by 1.3e-5 relative
                        expectClose(state[2][0], e[2], rtol: 2e-5, atol: 0, "\(tag) v")
                    }
                }
            }
        }
    }
}

@Test func adamMatchesReferenceAndScalesGradients() {
    let n = 10_007
    var rng = TestRNG(21)
    let p = rng.floats(n), m = rng.floats(n, -0.1, 0.1), v = rng.floats(n, 0, 0.01), g = rng.floats(n)
    for isa in allISAs {
        withISA(isa) {
            for decoupled: Int32 in [1, 0] {
                for step: Int64 in [1, 7, 1000] {
                    let ref = adam(p, m, v, g, decoupled: decoupled, step: step, scale: 0.3)
                    let opt = adam(p, m, v, g, decoupled: decoupled, step: step, scale: 0.3, threads: 2)
                    for k in 0..<3 {
                        expectClose(opt[k], ref[k], rtol: 1e-5, atol: 1e-7, "adam \(decoupled) \(step) \(k) \(isaName(isa))")
                    }
                    // grad_scale s on g equals the unscaled step on s*g
                    let pre = adam(p, m, v, g.map { $0 * 0.3 }, decoupled: decoupled, step: step, threads: 2)
                    expectClose(opt[0], pre[0], rtol: 1e-6, atol: 1e-7, "grad_scale")
                }
            }
            expectThreadInvariant("adam \(isaName(isa))") { nt in
                adam(p, m, v, g, decoupled: 1, step: 3, scale: 0.5, threads: nt)
            }
        }
    }
}

// MARK: - RNG and dropout

@Test func rngIsReproducibleAndUniform() {
    let n = 200_000
    var a = [Float](repeating: 0, count: n), b = a, c = a
    lk_rng_fill_uniform_isa(testISA, &a, Int64(n), -2, 3, 1234, 0, 2)
    lk_rng_fill_uniform_isa(testISA, &b, Int64(n), -2, 3, 1234, 0, 1)
    lk_rng_fill_uniform_isa(testISA, &c, Int64(n), -2, 3, 1234, 1000, 3)
    #expect(bits(a) == bits(b))
    for isa in allISAs {
        withISA(isa) {
            var ai = [Float](repeating: 0, count: 5000)
            lk_rng_fill_uniform_isa(testISA, &ai, 5000, -2, 3, 1234, 0, 2)
            #expect(bits(ai) == bits(Array(a[..<5000])), "fill_uniform \(isaName(isa))")
        }
    }
    #expect(Array(a[1000...]) == Array(c[..<(n - 1000)]), "offset shifts the stream")
    #expect(a.allSatisfy { $0 >= -2 && $0 < 3 })
    let mean = a.reduce(0.0) { $0 + Double($1) } / Double(n)
    #expect(abs(mean - 0.5) < 4 * 5 / sqrt(12.0 * Double(n)), "uniform mean \(mean)")
    #expect(abs(-2 + 5 * lk_rng_uniform(1234, 5) - a[5]) < 1e-6, "fill_uniform uses lk_rng_uniform(seed, offset + i)")
    #expect(lk_rng_uniform(1, 0) != lk_rng_uniform(2, 0), "seed matters")
    var z = [Float](repeating: 0, count: n), z2 = z
    lk_rng_fill_normal(&z, Int64(n), 1, 2, 99, 7, 2)
    lk_rng_fill_normal(&z2, Int64(n), 1, 2, 99, 7, 1)
    #expect(bits(z) == bits(z2))
    let zm = z.reduce(0.0) { $0 + Double($1) } / Double(n)
    let zv = z.reduce(0.0) { $0 + (Double($1) - zm) * (Double($1) - zm) } / Double(n)
    #expect(abs(zm - 1) < 4 * 2 / sqrt(Double(n)), "normal mean \(zm)")
    #expect(abs(zv - 4) < 4 * 4 * sqrt(2.0 / Double(n)), "normal variance \(zv)")
    #expect(z.allSatisfy { $0.isFinite })
}

@Test(arguments: [0.0, 0.1, 0.5, 0.9] as [Float])
func dropoutKeepRateMaskAndScaling(_ p: Float) {
    let n = 30_011
    let x = bulkFloats(n, 0.5, 1.5, seed: 31), dout = bulkFloats(n, 0.5, 1.5, seed: 32)
    var y = [Float](repeating: .nan, count: n), yRef = y
    lk_dropout_forward_isa(testISA, &y, x, Int64(n), p, 42, 17, 2)
    lk_dropout_forward_ref(&yRef, x, Int64(n), p, 42, 17)
    #expect(bits(y) == bits(yRef))
    let kept = y.indices.filter { y[$0] != 0 }
    let rate = Double(kept.count) / Double(n), q = 1 - Double(p)
    #expect(abs(rate - q) <= 4 * sqrt(q * (1 - q) / Double(n)) + 1e-12, "keep rate \(rate) for p=\(p)")
    #expect(kept.allSatisfy { y[$0] == x[$0] * (1 / (1 - p)) }, "kept values scaled by 1/(1-p)")
    // backward uses the same mask and scale, and accumulates
    var din = [Float](repeating: 1, count: n), dinRef = din
    lk_dropout_backward_isa(testISA, &din, dout, Int64(n), p, 42, 17, 3)
    lk_dropout_backward_ref(&dinRef, dout, Int64(n), p, 42, 17)
    #expect(bits(din) == bits(dinRef))
    let sameMask = (0..<n).allSatisfy { i in y[i] != 0 ? din[i] == 1 + dout[i] * (1 / (1 - p)) : din[i] == 1 }
    #expect(sameMask, "backward mask/scale differ from forward")
    // every ISA build gives bitwise the ref's mask and values
    for isa in allISAs {
        withISA(isa) {
            var yi = [Float](repeating: .nan, count: n), di = [Float](repeating: 1, count: n)
            lk_dropout_forward_isa(testISA, &yi, x, Int64(n), p, 42, 17, 2)
            lk_dropout_backward_isa(testISA, &di, dout, Int64(n), p, 42, 17, 2)
            #expect(bits(yi) == bits(yRef) && bits(di) == bits(dinRef), "dropout \(isaName(isa)) differs from _ref")
        }
    }
    // same (seed, offset) -> same mask; another offset or seed -> another mask
    var y2 = y, y3 = y, y4 = y
    lk_dropout_forward_isa(testISA, &y2, x, Int64(n), p, 42, 17, 1)
    lk_dropout_forward_isa(testISA, &y3, x, Int64(n), p, 42, 18, 1)
    lk_dropout_forward_isa(testISA, &y4, x, Int64(n), p, 43, 17, 1)
    #expect(bits(y2) == bits(y))
    if p > 0 { #expect(y3 != y && y4 != y) }
}

@Test func dropoutAllDropped() {
    let n = 1000
    let x = [Float](repeating: 2, count: n)
    var y = [Float](repeating: .nan, count: n), yRef = y, din = [Float](repeating: 1, count: n), dinRef = din
    lk_dropout_forward_isa(testISA, &y, x, Int64(n), 1, 1, 0, 2)
    lk_dropout_forward_ref(&yRef, x, Int64(n), 1, 1, 0)
    lk_dropout_backward_isa(testISA, &din, x, Int64(n), 1, 1, 0, 2)
    lk_dropout_backward_ref(&dinRef, x, Int64(n), 1, 1, 0)
    #expect(y.allSatisfy { $0 == 0 } && yRef.allSatisfy { $0 == 0 })
    #expect(din.allSatisfy { $0 == 1 } && dinRef.allSatisfy { $0 == 1 })
}

// MARK: - Small helpers

@Test func smallHelpersMatchLoops() {
    for (rows, C) in awkwardShapes + [(301, 257)] {
        let n = rows * C
        var rng = TestRNG(UInt64(n))
        let a = rng.floats(n), b = rng.floats(n), bias = rng.floats(C)
        var y = b
        lk_axpy(&y, a, 0.5, Int64(n), 2)
        #expect(y == zip(a, b).map { $1 + 0.5 * $0 })
        var o = [Float](repeating: .nan, count: n)
        lk_add(&o, a, b, Int64(n), 2)
        #expect(o == zip(a, b).map { $0 + $1 })
        lk_mul(&o, a, b, Int64(n), 2)
        #expect(o == zip(a, b).map { $0 * $1 })
        lk_scale(&o, a, -3, Int64(n), 2)
        #expect(o == a.map { -3 * $0 })
        o = a
        lk_add_bias(&o, bias, Int64(rows), Int64(C), 2)
        #expect(o == a.indices.map { a[$0] + bias[$0 % C] })
        var db = bias
        lk_sum_rows(&db, a, Int64(rows), Int64(C), 2)
        var expected = [Double](repeating: 0, count: C)
        for i in 0..<n { expected[i % C] += Double(a[i]) }
        expectClose(db, zip(bias, expected).map { $0 + Float($1) }, rtol: 1e-5, atol: 1e-5, "sum_rows \(rows)x\(C)")
        expectThreadInvariant("helpers \(rows)x\(C)") { nt in
            var d = [Float](repeating: 0, count: C), y = b, s = a, p = a, q = a, r = a
            lk_sum_rows(&d, a, Int64(rows), Int64(C), nt)
            lk_axpy(&y, a, 0.5, Int64(n), nt)
            lk_add(&s, a, b, Int64(n), nt)
            lk_mul(&p, a, b, Int64(n), nt)
            lk_scale(&q, a, 0.7, Int64(n), nt)
            lk_add_bias(&r, bias, Int64(rows), Int64(C), nt)
            return [d, y, s, p, q, r]
        }
    }
}

// Pointwise activations, SwiGLU and softmax: optimised vs _ref per ISA, finite differences, thread invariance,
// masking special cases.
import Testing
import CLeaderKernels

private let activations: [(id: Int32, name: String)] = [
    (Int32(LK_ACT_RELU), "relu"), (Int32(LK_ACT_GELU_TANH), "gelu_tanh"), (Int32(LK_ACT_SILU), "silu"),
    (Int32(LK_ACT_TANH), "tanh"), (Int32(LK_ACT_SIGMOID), "sigmoid"),
]
private let lengths = [1, 7, 33, 300, 1000, 4099]

private func act(_ x: [Float], _ a: Int32, threads: Int32? = nil) -> [Float] {
    var out = [Float](repeating: .nan, count: x.count)
    if let threads { lk_activation_forward_isa(testISA, &out, x, Int64(x.count), a, threads) }
    else { lk_activation_forward_ref(&out, x, Int64(x.count), a) }
    return out
}

private func actBackward(_ din0: [Float], _ dout: [Float], _ x: [Float], _ a: Int32, threads: Int32? = nil) -> [Float] {
    var din = din0
    if let threads { lk_activation_backward_isa(testISA, &din, dout, x, Int64(x.count), a, threads) }
    else { lk_activation_backward_ref(&din, dout, x, Int64(x.count), a) }
    return din
}

/// Inputs covering the interesting ranges: near 0 (tanh polynomial branch), moderate, large |x| (saturation).
private func activationInputs(_ n: Int, seed: UInt64) -> [Float] {
    var rng = TestRNG(seed)
    var x = rng.floats(n, -6, 6)
    let specials: [Float] = [0, 1e-7, -1e-7, 1e-3, -0.39, 0.41, 9, -9, 20, -20, 50, -50, 100, -100, 89, -89, 200, -200]
    for (i, s) in specials.enumerated() where i < n { x[(i * 7919) % n] = s }
    return x
}

@Test(arguments: activations.indices)
func activationMatchesReference(_ ai: Int) {
    let a = activations[ai]
    for n in lengths {
        let x = activationInputs(n, seed: UInt64(n))
        var rng = TestRNG(UInt64(n) + 1)
        let dout = rng.floats(n), din0 = rng.floats(n)
        let ref = act(x, a.id), refB = actBackward(din0, dout, x, a.id)
        for isa in allISAs {
            withISA(isa) {
                let tag = "\(a.name) n=\(n) \(isaName(isa))"
                // rtol: gelu(-6) ~ exp(2u) amplifies float rounding of u (|2u| ~ 25) ~25x: inherent
                expectClose(act(x, a.id, threads: 2), ref, rtol: 1e-5, atol: 1e-7, "\(tag) forward")
                // atol: where f' crosses 0 the float rounding of its O(1) terms remains
                expectClose(actBackward(din0, dout, x, a.id, threads: 2), refB, rtol: 2e-6, atol: 5e-7, "\(tag) backward")
            }
        }
    }
}

@Test(arguments: activations.indices)
func activationGradientMatchesFiniteDifferences(_ ai: Int) {
    let a = activations[ai]
    var rng = TestRNG(77)
    // keep away from relu's kink at 0 so the central difference is meaningful
    let x = rng.floats(40, -4, 4).map { abs($0) < 0.05 ? $0 + 0.1 : $0 }, dout = rng.floats(40)
    let g = actBackward([Float](repeating: 0, count: 40), dout, x, a.id, threads: 2)
    expectGradient(g, x, h: 1e-2, "\(a.name)") { weightedSum(act($0, a.id), dout) }
}

@Test func activationIsThreadInvariant() {
    let n = 40_003
    let x = activationInputs(n, seed: 3)
    var rng = TestRNG(4)
    let dout = rng.floats(n), z = [Float](repeating: 0, count: n)
    for isa in allISAs {
        withISA(isa) {
            for a in activations {
                expectThreadInvariant("\(a.name) \(isaName(isa))") { nt in
                    [act(x, a.id, threads: nt), actBackward(z, dout, x, a.id, threads: nt)]
                }
            }
        }
    }
}

@Test func activationSaturatesWithoutNaN() {
    let x: [Float] = [-1e4, -500, -100, -88, 88, 100, 500, 1e4]
    for isa in allISAs {
        withISA(isa) {
            for a in activations {
                let y = act(x, a.id, threads: 1)
                let g = actBackward([Float](repeating: 0, count: x.count), [Float](repeating: 1, count: x.count), x, a.id,
                                    threads: 1)
                #expect(y.allSatisfy(\.isFinite) && g.allSatisfy(\.isFinite), "\(a.name) \(isaName(isa)): \(y) \(g)")
            }
        }
    }
}

// MARK: - SwiGLU

private func swiglu(_ gate: [Float], _ up: [Float], threads: Int32? = nil) -> [Float] {
    var out = [Float](repeating: .nan, count: gate.count)
    if let threads { lk_swiglu_forward_isa(testISA, &out, gate, up, Int64(gate.count), threads) }
    else { lk_swiglu_forward_ref(&out, gate, up, Int64(gate.count)) }
    return out
}

private func swigluBackward(_ dg0: [Float], _ du0: [Float], _ dout: [Float], _ gate: [Float], _ up: [Float],
                            threads: Int32? = nil) -> [[Float]] {
    var dg = dg0, du = du0
    if let threads { lk_swiglu_backward_isa(testISA, &dg, &du, dout, gate, up, Int64(gate.count), threads) }
    else { lk_swiglu_backward_ref(&dg, &du, dout, gate, up, Int64(gate.count)) }
    return [dg, du]
}

@Test func swigluMatchesReferenceAndFiniteDifferences() {
    for n in lengths {
        let gate = activationInputs(n, seed: UInt64(n) + 10)
        var rng = TestRNG(UInt64(n) + 11)
        let up = rng.floats(n, -2, 2), dout = rng.floats(n), dg0 = rng.floats(n), du0 = rng.floats(n)
        let ref = swiglu(gate, up), refB = swigluBackward(dg0, du0, dout, gate, up)
        for isa in allISAs {
            withISA(isa) {
                let tag = "swiglu n=\(n) \(isaName(isa))"
                expectClose(swiglu(gate, up, threads: 2), ref, rtol: 2e-6, atol: 1e-7, "\(tag) forward")
                let b = swigluBackward(dg0, du0, dout, gate, up, threads: 2)
                expectClose(b[0], refB[0], rtol: 2e-6, atol: 1e-6, "\(tag) dgate")
                expectClose(b[1], refB[1], rtol: 2e-6, atol: 2e-7, "\(tag) dup")
            }
        }
    }
    var rng = TestRNG(12)
    let gate = rng.floats(30, -4, 4), up = rng.floats(30, -2, 2), dout = rng.floats(30)
    let z = [Float](repeating: 0, count: 30)
    let g = swigluBackward(z, z, dout, gate, up, threads: 2)
    expectGradient(g[0], gate, "swiglu dgate") { weightedSum(swiglu($0, up), dout) }
    expectGradient(g[1], up, "swiglu dup") { weightedSum(swiglu(gate, $0), dout) }
}

@Test func swigluIsThreadInvariant() {
    let n = 70_001
    var rng = TestRNG(13)
    let gate = rng.floats(n, -6, 6), up = rng.floats(n), dout = rng.floats(n), z = [Float](repeating: 0, count: n)
    for isa in allISAs {
        withISA(isa) {
            expectThreadInvariant("swiglu \(isaName(isa))") { nt in
                [swiglu(gate, up, threads: nt)] + swigluBackward(z, z, dout, gate, up, threads: nt)
            }
        }
    }
}

// MARK: - Softmax

private func softmax(_ x: [Float], _ rowLen: [Int32]?, _ rows: Int, _ n: Int, _ scale: Float,
                     threads: Int32? = nil) -> [Float] {
    var out = [Float](repeating: .nan, count: rows * n)
    switch (threads, rowLen) {
    case (let nt?, let rl?): lk_softmax_forward_isa(testISA, &out, x, rl, Int64(rows), Int64(n), scale, nt)
    case (let nt?, nil): lk_softmax_forward_isa(testISA, &out, x, nil, Int64(rows), Int64(n), scale, nt)
    case (nil, let rl?): lk_softmax_forward_ref(&out, x, rl, Int64(rows), Int64(n), scale)
    case (nil, nil): lk_softmax_forward_ref(&out, x, nil, Int64(rows), Int64(n), scale)
    }
    return out
}

private func softmaxBackward(_ din0: [Float], _ dout: [Float], _ y: [Float], _ rows: Int, _ n: Int, _ scale: Float,
                             threads: Int32? = nil) -> [Float] {
    var din = din0
    if let threads { lk_softmax_backward_isa(testISA, &din, dout, y, Int64(rows), Int64(n), scale, threads) }
    else { lk_softmax_backward_ref(&din, dout, y, Int64(rows), Int64(n), scale) }
    return din
}

/// Row lengths cycling through full, partial, 0, negative and over-long.
private func mixedRowLengths(_ rows: Int, _ n: Int) -> [Int32] {
    (0..<rows).map { r in
        switch r % 5 {
        case 0: return Int32(n)
        case 1: return Int32(max(1, n / 2))
        case 2: return 0
        case 3: return -3
        default: return Int32(n + 5)
        }
    }
}

@Test(arguments: awkwardShapes.indices)
func softmaxMatchesReference(_ shapeIndex: Int) {
    let (rows, n) = awkwardShapes[shapeIndex]
    var rng = TestRNG(UInt64(300 + shapeIndex))
    let x = rng.floats(rows * n, -8, 8), dout = rng.floats(rows * n), din0 = rng.floats(rows * n)
    for scale: Float in [1, 0.125, -2] {
        for rowLen in [nil, mixedRowLengths(rows, n)] as [[Int32]?] {
            let ref = softmax(x, rowLen, rows, n, scale)
            let refB = softmaxBackward(din0, dout, ref, rows, n, scale)
            for isa in allISAs {
                withISA(isa) {
                    let tag = "softmax \(rows)x\(n) scale=\(scale) masked=\(rowLen != nil) \(isaName(isa))"
                    expectClose(softmax(x, rowLen, rows, n, scale, threads: 2), ref, rtol: 1e-5, atol: 1e-7, "\(tag) out")
                    expectClose(softmaxBackward(din0, dout, ref, rows, n, scale, threads: 2), refB,
                                rtol: 1e-5, atol: 1e-6, "\(tag) din")
                }
            }
        }
    }
}

@Test func softmaxMaskingSpecialCases() {
    let (rows, n) = (5, 9)
    var rng = TestRNG(31)
    let x = rng.floats(rows * n, -3, 3)
    let rowLen: [Int32] = [0, 4, 9, -1, 1]
    for isa in allISAs {
        withISA(isa) {
            for y in [softmax(x, rowLen, rows, n, 1, threads: 2), softmax(x, rowLen, rows, n, 1)] {
                #expect(y.allSatisfy { !$0.isNaN }, "\(isaName(isa)): NaN in masked softmax")
                for r in 0..<rows {
                    let len = max(0, min(n, Int(rowLen[r])))
                    let row = y[(r * n)..<(r * n + n)]
                    let sum = row.prefix(len).reduce(0, +)
                    #expect(abs(sum - (len > 0 ? 1 : 0)) < 1e-5, "\(isaName(isa)) row \(r) sums to \(sum)")
                    #expect(row.dropFirst(len).allSatisfy { $0 == 0 }, "\(isaName(isa)) row \(r) not zero past len")
                }
                // length-1 row is exactly one-hot
                #expect(y[4 * n] == 1)
            }
        }
    }
    // huge logits: subtracting the max keeps it finite
    let big: [Float] = [1e30, 1e30 - 1, -1e30, 3e38]
    let y = softmax(big, nil, 1, 4, 1, threads: 1)
    #expect(y.allSatisfy(\.isFinite) && abs(y.reduce(0, +) - 1) < 1e-6)
}

@Test func softmaxGradientMatchesFiniteDifferences() {
    let (rows, n) = (4, 11)
    var rng = TestRNG(32)
    let x = rng.floats(rows * n, -2, 2), dout = rng.floats(rows * n)
    let rowLen: [Int32] = [11, 5, 0, 1]
    for scale: Float in [1, 0.5] {
        for rl in [nil, rowLen] as [[Int32]?] {
            let y = softmax(x, rl, rows, n, scale)
            let g = softmaxBackward([Float](repeating: 0, count: rows * n), dout, y, rows, n, scale, threads: 2)
            expectGradient(g, x, h: 1e-2, "softmax scale=\(scale) masked=\(rl != nil)") {
                weightedSum(softmax($0, rl, rows, n, scale), dout)
            }
        }
    }
}

@Test func softmaxIsThreadInvariant() {
    let (rows, n) = (130, 517)
    var rng = TestRNG(33)
    let x = rng.floats(rows * n, -8, 8), dout = rng.floats(rows * n), z = [Float](repeating: 0, count: rows * n)
    let rl = mixedRowLengths(rows, n)
    for isa in allISAs {
        withISA(isa) {
            expectThreadInvariant("softmax \(isaName(isa))") { nt in
                let y = softmax(x, rl, rows, n, 0.3, threads: nt)
                return [y, softmaxBackward(z, dout, y, rows, n, 0.3, threads: nt)]
            }
        }
    }
}

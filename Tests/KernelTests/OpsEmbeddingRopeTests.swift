// Embedding (negative ids = padding) and RoPE (both layouts, inverse, in-place): optimised vs _ref, gradients,
// thread invariance.
import Testing
import CLeaderKernels
import Foundation

private func ids(_ n: Int, vocab: Int, seed: UInt64) -> [Int32] {
    var rng = TestRNG(seed)
    return (0..<n).map { i in i % 4 == 3 ? -1 : Int32(rng.int(vocab)) }  // every 4th a padding id
}

@Test(arguments: [(1, 1, 1), (7, 3, 5), (33, 17, 64), (300, 64, 97), (1000, 5, 130)])
func embeddingMatchesReference(_ nIds: Int, _ vocab: Int, _ dim: Int) {
    var rng = TestRNG(UInt64(nIds * 7 + dim))
    let table = rng.floats(vocab * dim), dout = rng.floats(nIds * dim), dt0 = rng.floats(vocab * dim)
    let idv = ids(nIds, vocab: vocab, seed: UInt64(dim))
    var outRef = [Float](repeating: .nan, count: nIds * dim), out = outRef
    lk_embedding_forward_ref(&outRef, table, idv, Int64(nIds), Int64(dim))
    var dtRef = dt0, dt = dt0
    lk_embedding_backward_ref(&dtRef, dout, idv, Int64(nIds), Int64(dim))
    for isa in allISAs {
        withISA(isa) {
            lk_embedding_forward(&out, table, idv, Int64(nIds), Int64(dim), 2)
            #expect(bits(out) == bits(outRef), "embedding forward \(nIds)x\(dim)")
            dt = dt0
            lk_embedding_backward(&dt, dout, idv, Int64(nIds), Int64(dim), 2)
            expectClose(dt, dtRef, rtol: 1e-6, atol: 1e-6, "embedding backward \(nIds)x\(dim)")
        }
    }
    // padding rows are zero; real rows are copies
    for i in 0..<nIds {
        let row = Array(outRef[(i * dim)..<((i + 1) * dim)])
        if idv[i] < 0 { #expect(row.allSatisfy { $0 == 0 }) }
        else { #expect(row == Array(table[(Int(idv[i]) * dim)..<((Int(idv[i]) + 1) * dim)])) }
    }
}

@Test func embeddingBackwardIsExactScatterAddAndThreadInvariant() {
    // The gradient of sum(w*out) w.r.t. table[v,j] is the sum of w[i,j] over ids[i]==v (linear: check exactly
    // against a double sum), and padding ids contribute nothing.
    let (nIds, vocab, dim) = (4000, 50, 70)
    var rng = TestRNG(41)
    let dout = rng.floats(nIds * dim), idv = ids(nIds, vocab: vocab, seed: 42)
    var expected = [Double](repeating: 0, count: vocab * dim)
    for i in 0..<nIds where idv[i] >= 0 {
        for j in 0..<dim { expected[Int(idv[i]) * dim + j] += Double(dout[i * dim + j]) }
    }
    var dt = [Float](repeating: 0, count: vocab * dim)
    lk_embedding_backward(&dt, dout, idv, Int64(nIds), Int64(dim), 2)
    expectClose(dt, expected.map { Float($0) }, rtol: 1e-5, atol: 1e-4, "embedding scatter-add")
    expectThreadInvariant("embedding") { nt in
        var o = [Float](repeating: 0, count: nIds * dim), d = [Float](repeating: 0, count: vocab * dim)
        let table = (0..<(vocab * dim)).map { Float($0) }
        lk_embedding_forward(&o, table, idv, Int64(nIds), Int64(dim), nt)
        lk_embedding_backward(&d, dout, idv, Int64(nIds), Int64(dim), nt)
        return [o, d]
    }
}

// MARK: - RoPE

private let layouts: [Int32] = [Int32(LK_ROPE_ADJACENT), Int32(LK_ROPE_HALF)]

private func rope(_ x: [Float], _ pos: [Int32], _ s: (B: Int, T: Int, H: Int, D: Int), _ layout: Int32,
                  threads: Int32? = nil) -> [Float] {
    var out = [Float](repeating: .nan, count: x.count)
    if let threads {
        lk_rope_forward(&out, x, pos, Int64(s.B), Int64(s.T), Int64(s.H), Int64(s.D), 10000, layout, threads)
    } else {
        lk_rope_forward_ref(&out, x, pos, Int64(s.B), Int64(s.T), Int64(s.H), Int64(s.D), 10000, layout)
    }
    return out
}

private func ropeBackward(_ din0: [Float], _ dout: [Float], _ pos: [Int32], _ s: (B: Int, T: Int, H: Int, D: Int),
                          _ layout: Int32, threads: Int32? = nil) -> [Float] {
    var din = din0
    if let threads {
        lk_rope_backward(&din, dout, pos, Int64(s.B), Int64(s.T), Int64(s.H), Int64(s.D), 10000, layout, threads)
    } else {
        lk_rope_backward_ref(&din, dout, pos, Int64(s.B), Int64(s.T), Int64(s.H), Int64(s.D), 10000, layout)
    }
    return din
}

private let ropeShapes: [(B: Int, T: Int, H: Int, D: Int)] = [(1, 1, 1, 2), (2, 3, 3, 8), (1, 17, 2, 64),
                                                               (2, 5, 4, 300), (1, 3, 1, 7)]

@Test(arguments: ropeShapes.indices)
func ropeMatchesReferenceBothLayouts(_ si: Int) {
    let s = ropeShapes[si]
    let n = s.B * s.T * s.H * s.D
    var rng = TestRNG(UInt64(500 + si))
    let x = rng.floats(n), dout = rng.floats(n), din0 = rng.floats(n)
    let pos = (0..<(s.B * s.T)).map { _ in Int32(rng.int(4096)) }
    for layout in layouts {
        let ref = rope(x, pos, s, layout), refB = ropeBackward(din0, dout, pos, s, layout)
        for isa in allISAs {
            withISA(isa) {
                let tag = "rope \(s) layout=\(layout) \(isaName(isa))"
                expectClose(rope(x, pos, s, layout, threads: 2), ref, rtol: 1e-6, atol: 1e-6, "\(tag) forward")
                expectClose(ropeBackward(din0, dout, pos, s, layout, threads: 2), refB, rtol: 1e-6, atol: 1e-6,
                            "\(tag) backward")
                // in place
                var inPlace = x
                inPlace.withUnsafeMutableBufferPointer { p in
                    lk_rope_forward(p.baseAddress, p.baseAddress, pos, Int64(s.B), Int64(s.T), Int64(s.H), Int64(s.D),
                                    10000, layout, 2)
                }
                #expect(bits(inPlace) == bits(rope(x, pos, s, layout, threads: 2)), "\(tag) in place")
                // rotation is orthogonal: backward(forward(x)) == x, and norms are preserved
                let back = ropeBackward([Float](repeating: 0, count: n), ref, pos, s, layout, threads: 2)
                expectClose(back, x, rtol: 1e-5, atol: 1e-5, "\(tag) inverse")
            }
        }
    }
}

@Test func ropeLayoutsRotateTheDocumentedPairs() {
    // D = 4, one token at position 1: frequencies 1 and 10000^(-1/2) = 0.01.
    let x: [Float] = [1, 2, 3, 4], pos: [Int32] = [1]
    let s = (B: 1, T: 1, H: 1, D: 4)
    func rot(_ a: Float, _ b: Float, _ ang: Double) -> (Float, Float) {
        (Float(Double(a) * cos(ang) - Double(b) * sin(ang)), Float(Double(a) * sin(ang) + Double(b) * cos(ang)))
    }
    let (a0, a1) = rot(1, 2, 1), (a2, a3) = rot(3, 4, 0.01)
    expectClose(rope(x, pos, s, Int32(LK_ROPE_ADJACENT), threads: 1), [a0, a1, a2, a3], "adjacent layout")
    let (h0, h2) = rot(1, 3, 1), (h1, h3) = rot(2, 4, 0.01)
    expectClose(rope(x, pos, s, Int32(LK_ROPE_HALF), threads: 1), [h0, h1, h2, h3], "half layout")
    // position 0 is the identity
    #expect(rope(x, [0], s, Int32(LK_ROPE_HALF), threads: 1) == x)
}

@Test func ropeGradientMatchesFiniteDifferences() {
    let s = (B: 1, T: 3, H: 2, D: 6)
    let n = 36
    var rng = TestRNG(51)
    let x = rng.floats(n), dout = rng.floats(n), pos: [Int32] = [0, 5, 77]
    for layout in layouts {
        let g = ropeBackward([Float](repeating: 0, count: n), dout, pos, s, layout, threads: 2)
        expectGradient(g, x, "rope layout=\(layout)") { weightedSum(rope($0, pos, s, layout), dout) }
    }
}

@Test func ropeIsThreadInvariant() {
    let s = (B: 2, T: 33, H: 4, D: 128)
    let n = s.B * s.T * s.H * s.D
    var rng = TestRNG(52)
    let x = rng.floats(n), dout = rng.floats(n), pos = (0..<(s.B * s.T)).map { Int32($0 % 33) }
    for layout in layouts {
        expectThreadInvariant("rope layout=\(layout)") { nt in
            [rope(x, pos, s, layout, threads: nt),
             ropeBackward([Float](repeating: 0, count: n), dout, pos, s, layout, threads: nt)]
        }
    }
}

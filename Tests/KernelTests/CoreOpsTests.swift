import Testing
import CLeaderKernels

/// Deterministic test data in [-1, 1).
private func randomFloats(_ n: Int, seed: UInt64) -> [Float] {
    var s = seed &+ 0x9E37_79B9_7F4A_7C15
    return (0..<n).map { _ in
        s = s &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(Int64(bitPattern: s >> 11) % 2_000_000) / 1_000_000 - 1
    }
}

@Test func fillAndIota() {
    var a = [Float](repeating: 0, count: 70_000), b = a
    lk_fill(&a, 2.5, Int64(a.count), 2)
    lk_fill_ref(&b, 2.5, Int64(b.count))
    #expect(a == b && a.allSatisfy { $0 == 2.5 })
    var i = [Int32](repeating: -1, count: 5)
    lk_iota_i32(&i, 5, 2)
    #expect(i == [0, 1, 2, 3, 4])
}

@Test func copyColsConcatAndSplit() {
    // Concatenate (3,2) and (3,3) into (3,5), then split back with accumulate.
    let a: [Float] = [1, 2, 3, 4, 5, 6], b: [Float] = [7, 8, 9, 10, 11, 12, 13, 14, 15]
    var out = [Float](repeating: 0, count: 15)
    out.withUnsafeMutableBufferPointer { o in
        lk_copy_cols(o.baseAddress, 5, a, 2, 3, 2, 0, 2)
        lk_copy_cols(o.baseAddress! + 2, 5, b, 3, 3, 3, 0, 2)
    }
    let expected: [Float] = [1, 2, 7, 8, 9, 3, 4, 10, 11, 12, 5, 6, 13, 14, 15]
    #expect(out == expected)
    var back = [Float](repeating: 1, count: 9), backRef = back
    out.withUnsafeBufferPointer { o in
        lk_copy_cols(&back, 3, o.baseAddress! + 2, 5, 3, 3, 1, 2)
        lk_copy_cols_ref(&backRef, 3, o.baseAddress! + 2, 5, 3, 3, 1)
    }
    #expect(back == b.map { $0 + 1 } && back == backRef)
}

@Test(arguments: [(2, 3, 4, 5), (1, 7, 1, 3), (3, 1, 6, 8), (2, 40, 8, 64)])
func swap12MatchesRefAndInverts(_ dims: (Int, Int, Int, Int)) {
    let (A, B, C, D) = dims
    let n = A * B * C * D
    let x = randomFloats(n, seed: 1)
    var y1 = [Float](repeating: 0, count: n), y2 = y1, yr = y1
    lk_swap12_forward(&y1, x, Int64(A), Int64(B), Int64(C), Int64(D), 1)
    lk_swap12_forward(&y2, x, Int64(A), Int64(B), Int64(C), Int64(D), 2)
    lk_swap12_forward_ref(&yr, x, Int64(A), Int64(B), Int64(C), Int64(D))
    #expect(y1 == yr && y2 == yr)
    // element (a,b,c,d) lands at (a,c,b,d)
    let (a, b, c, d) = (A - 1, B / 2, C - 1, D / 2)
    #expect(yr[((a * C + c) * B + b) * D + d] == x[((a * B + b) * C + c) * D + d])
    // backward of the swap is the swap back, accumulated
    let base = randomFloats(n, seed: 2)
    var g1 = base, g2 = base, gr = base
    lk_swap12_backward(&g1, yr, Int64(A), Int64(B), Int64(C), Int64(D), 1)
    lk_swap12_backward(&g2, yr, Int64(A), Int64(B), Int64(C), Int64(D), 2)
    lk_swap12_backward_ref(&gr, yr, Int64(A), Int64(B), Int64(C), Int64(D))
    #expect(g1 == gr && g2 == gr)
    #expect(gr == zip(base, x).map { $0 + $1 })
}

@Test func maskedMeanKnownValuesAndRef() {
    // B=3, T=3, C=2; lengths 2, 0, 3 (and one out-of-range length clamps to T)
    let x: [Float] = [1, 2, 3, 4, 100, 100,   5, 6, 7, 8, 9, 10,   1, 1, 2, 2, 3, 3]
    var len: [Int32] = [2, 0, 3]
    var out = [Float](repeating: -1, count: 6), outRef = out
    lk_masked_mean_forward(&out, x, len, 3, 3, 2, 2)
    lk_masked_mean_forward_ref(&outRef, x, len, 3, 3, 2)
    let expectedOut: [Float] = [2, 3, 0, 0, 2, 2]
    #expect(out == expectedOut && out == outRef)
    var din = [Float](repeating: 1, count: 18), dinRef = din
    let dout: [Float] = [2, 4, 5, 5, 3, 6]
    lk_masked_mean_backward(&din, dout, len, 3, 3, 2, 2)
    lk_masked_mean_backward_ref(&dinRef, dout, len, 3, 3, 2)
    let expectedDin: [Float] = [2, 3, 2, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 2, 3, 2, 3]
    #expect(din == expectedDin && din == dinRef)
    len = [9, -1, 1]
    lk_masked_mean_forward(&out, x, len, 3, 3, 2, 1)
    let third: Float = 1 / 3
    let expected: [Float] = [104 * third, 106 * third, 0, 0, 1, 1]
    #expect(out == expected)
}

@Test func maskedMeanThreadInvariantLarge() {
    let (B, T, C) = (37, 50, 64)
    let x = randomFloats(B * T * C, seed: 3)
    let len = (0..<B).map { Int32($0 % (T + 1)) }
    var o1 = [Float](repeating: 0, count: B * C), o2 = o1, orf = o1
    lk_masked_mean_forward(&o1, x, len, Int64(B), Int64(T), Int64(C), 1)
    lk_masked_mean_forward(&o2, x, len, Int64(B), Int64(T), Int64(C), 2)
    lk_masked_mean_forward_ref(&orf, x, len, Int64(B), Int64(T), Int64(C))
    #expect(o1 == o2 && o1 == orf)
    var d1 = [Float](repeating: 0, count: B * T * C), d2 = d1, dr = d1
    lk_masked_mean_backward(&d1, o1, len, Int64(B), Int64(T), Int64(C), 1)
    lk_masked_mean_backward(&d2, o1, len, Int64(B), Int64(T), Int64(C), 2)
    lk_masked_mean_backward_ref(&dr, o1, len, Int64(B), Int64(T), Int64(C))
    #expect(d1 == d2 && d1 == dr)
}

@Test func attentionRowLengths() {
    let len: [Int32] = [2, 4]
    var rl = [Int32](repeating: -1, count: 2 * 1 * 4), rr = rl
    lk_attention_row_len(&rl, len, 2, 1, 4, 0, 2)
    #expect(rl == [2, 2, 2, 2, 4, 4, 4, 4])
    lk_attention_row_len(&rl, len, 2, 1, 4, 1, 2)
    lk_attention_row_len_ref(&rr, len, 2, 1, 4, 1)
    #expect(rl == [1, 2, 2, 2, 1, 2, 3, 4] && rl == rr)
    var rh = [Int32](repeating: -1, count: 2 * 2 * 3)
    lk_attention_row_len(&rh, [3, 1], 2, 2, 3, 1, 1)
    #expect(rh == [1, 2, 3, 1, 2, 3, 1, 1, 1, 1, 1, 1])
}

@Test func findOutOfRange() {
    let x: [Int32] = [0, 3, 2, -1, 9]
    #expect(lk_find_out_of_range_i32(x, 5, -1, 10) == -1)
    #expect(lk_find_out_of_range_i32(x, 5, 0, 10) == 3)
    #expect(lk_find_out_of_range_i32(x, 5, -1, 9) == 4)
    #expect(lk_find_out_of_range_i32(x, 0, 0, 1) == -1)
}

@Test func l2NormalizeMatchesRefAndThreadInvariant() {
    let (rows, C) = (300, 64)
    var x = randomFloats(rows * C, seed: 7)
    for c in 0..<C { x[5 * C + c] = 0 }  // a zero row: below eps
    var o1 = [Float](repeating: 0, count: rows * C), o2 = o1, orf = o1
    var n1 = [Float](repeating: 0, count: rows), n2 = n1, nr = n1
    lk_l2_normalize_forward(&o1, &n1, x, Int64(rows), Int64(C), 1e-12, 1)
    lk_l2_normalize_forward(&o2, &n2, x, Int64(rows), Int64(C), 1e-12, 2)
    lk_l2_normalize_forward_ref(&orf, &nr, x, Int64(rows), Int64(C), 1e-12)
    #expect(o1 == o2 && o1 == orf && n1 == nr && n2 == nr)
    #expect(o1[5 * C..<6 * C].allSatisfy { $0 == 0 })
    let g = randomFloats(rows * C, seed: 8)
    var d1 = [Float](repeating: 0, count: rows * C), d2 = d1, dr = d1
    lk_l2_normalize_backward(&d1, g, o1, n1, Int64(rows), Int64(C), 1e-12, 1)
    lk_l2_normalize_backward(&d2, g, o1, n1, Int64(rows), Int64(C), 1e-12, 2)
    lk_l2_normalize_backward_ref(&dr, g, o1, n1, Int64(rows), Int64(C), 1e-12)
    #expect(d1 == d2 && d1 == dr)
}

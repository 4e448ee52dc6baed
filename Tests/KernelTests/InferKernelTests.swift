// Serial inference kernels (lk_infer.h) against their references, for every ISA build.
import CLeaderKernels
import Testing

@Test(arguments: allISAs)
func linearPackedMatchesReference(isa: Int32) {
    var rng = TestRNG(11)
    // (M, N, K): single rows, tiles with remainders in both directions, K = 0, the student's real shapes.
    let shapes = [(1, 1, 1), (3, 7, 5), (9, 33, 17), (17, 300, 64), (25, 64, 300), (8, 131, 128), (5, 4, 0), (0, 3, 2)]
    for (m, n, k) in shapes {
        let w = rng.floats(n * k), x = rng.floats(m * (k + 3)), bias = rng.floats(n)
        var packed = [Float](repeating: .nan, count: Int(lk_linear_packed_floats_isa(isa, Int64(n), Int64(k))))
        lk_linear_pack_isa(isa, &packed, w, Int64(n), Int64(k))
        var scratch = [Float](repeating: 0, count: Int(lk_linear_scratch_floats(Int64(k))))
        for (useBias, accumulate) in [(true, false), (false, false), (true, true), (false, true)] {
            let start = rng.floats(m * (n + 2))
            var got = start, want = start
            // ldx = k + 3 and ldy = n + 2: strided rows; the padding columns must stay untouched.
            lk_linear_packed_forward_isa(isa, &got, Int64(n + 2), x, Int64(k + 3), packed, useBias ? bias : nil, Int64(m),
                                     Int64(n), Int64(k), accumulate ? 1 : 0, &scratch)
            lk_linear_forward_ref(&want, Int64(n + 2), x, Int64(k + 3), w, useBias ? bias : nil, Int64(m), Int64(n),
                                  Int64(k), accumulate ? 1 : 0)
            expectClose(got, want, rtol: 1e-5, atol: 2e-5,
                        "linear \(isaName(isa)) M\(m) N\(n) K\(k) bias \(useBias) acc \(accumulate)")
        }
    }
}

/// The fused W1 → GELU → set mean of serving is, bit for bit, the three kernels it replaces run in turn: ragged
/// sets (empty ones, a first offset inside X, row counts off the micro-tile), widths off the panel width, with and
/// without a bias, P's padding columns untouched.
@Test(arguments: allISAs)
func linearGeluMeanIsTheUnfusedChain(isa: Int32) {
    var rng = TestRNG(14)
    for (n, k, lengths) in [(300, 64, [3, 0, 1, 17, 0, 9, 2] as [Int32]), (7, 5, [1, 6, 0]), (33, 17, [13]), (16, 3, [0])] {
        let skip: Int32 = 4   // rows of X before the first set
        var offsets: [Int32] = [skip]
        for l in lengths { offsets.append(offsets.last! + l) }
        let rows = Int(offsets.last!), sets = lengths.count
        let w = rng.floats(n * k), x = rng.floats(rows * (k + 3), -3, 3), bias = rng.floats(n)
        var packed = [Float](repeating: .nan, count: Int(lk_linear_packed_floats_isa(isa, Int64(n), Int64(k))))
        lk_linear_pack_isa(isa, &packed, w, Int64(n), Int64(k))
        for useBias in [true, false] {
            let b = useBias ? bias : nil
            var y = [Float](repeating: 0, count: rows * n), g = y
            var scratch = [Float](repeating: 0, count: Int(lk_linear_scratch_floats(Int64(k))))
            lk_linear_packed_forward_isa(isa, &y, Int64(n), x, Int64(k + 3), packed, b, Int64(rows), Int64(n), Int64(k), 0,
                                         &scratch)
            lk_activation_forward_isa(isa, &g, y, Int64(rows * n), Int32(LK_ACT_GELU_TANH), 1)
            var want = [Float](repeating: -7, count: sets * (n + 2))
            for s in 0..<sets {   // lk_segment_mean_forward_isa writes rows n apart: one set at a time into P's rows
                var row = [Float](repeating: 0, count: n)
                lk_segment_mean_forward_isa(isa, &row, g, [offsets[s], offsets[s + 1]], 1, Int64(n))
                for j in 0..<n { want[s * (n + 2) + j] = row[j] }
            }
            var got = [Float](repeating: -7, count: sets * (n + 2))
            var fusedScratch = [Float](repeating: .nan, count: Int(lk_linear_gelu_mean_scratch_floats(Int64(n), Int64(k))))
            let xFirst = Array(x[(Int(skip) * (k + 3))...])   // X starts at the row of offsets[0]
            lk_linear_gelu_mean_packed_isa(isa, &got, Int64(n + 2), xFirst, Int64(k + 3), packed, b, offsets, Int64(sets),
                                           Int64(n), Int64(k), &fusedScratch)
            let differing = zip(bits(got), bits(want)).filter { $0 != $1 }.count
            #expect(differing == 0, "\(isaName(isa)) N\(n) K\(k) sets \(lengths) bias \(useBias)")
        }
    }
}

@Test func linearPackedRowsDoNotDependOnTheBatch() {
    // A row's result is the same whether it is computed alone or inside a larger M (serving relies on it).
    var rng = TestRNG(12)
    let (n, k) = (300, 64)
    let w = rng.floats(n * k), x = rng.floats(19 * k), bias = rng.floats(n)
    let isa = lk_isa_active()
    var packed = [Float](repeating: 0, count: Int(lk_linear_packed_floats_isa(isa, Int64(n), Int64(k))))
    lk_linear_pack_isa(isa, &packed, w, Int64(n), Int64(k))
    var scratch = [Float](repeating: 0, count: Int(lk_linear_scratch_floats(Int64(k))))
    var all = [Float](repeating: 0, count: 19 * n)
    lk_linear_packed_forward_isa(isa, &all, Int64(n), x, Int64(k), packed, bias, 19, Int64(n), Int64(k), 0, &scratch)
    for r in [0, 7, 18] {
        var one = [Float](repeating: 0, count: n)
        Array(x[(r * k)..<((r + 1) * k)]).withUnsafeBufferPointer { xr in
            lk_linear_packed_forward_isa(isa, &one, Int64(n), xr.baseAddress, Int64(k), packed, bias, 1, Int64(n), Int64(k), 0,
                                     &scratch)
        }
        #expect(bits(one) == bits(Array(all[(r * n)..<((r + 1) * n)])), "row \(r)")
    }
}

@Test(arguments: allISAs)
func setAttentionMatchesReference(isa: Int32) {
    var rng = TestRNG(13)
    for (h, d) in [(4, 16), (2, 3), (1, 8)] {
        let lengths: [Int32] = [3, 0, 1, 17, 0, 40, 2]
        var offsets: [Int32] = [0]
        for l in lengths { offsets.append(offsets.last! + l) }
        let tokens = Int(offsets.last!), hd = h * d, ldq = 3 * hd + 1, ldo = hd + 2
        let qkv = rng.floats(tokens * ldq, -2, 2)
        let start = rng.floats(tokens * ldo)
        var got = start, want = start
        var scratch = [Float](repeating: 0, count: Int(lk_set_attention_scratch_floats(40, Int64(d))))
        withISA(isa) {
            lk_set_attention_forward_isa(testISA, &got, Int64(ldo), qkv, Int64(ldq), nil, offsets, Int64(lengths.count), Int64(h),
                                     Int64(d), 0.37, &scratch)
        }
        lk_set_attention_forward_ref(&want, Int64(ldo), qkv, Int64(ldq), nil, offsets, Int64(lengths.count), Int64(h),
                                     Int64(d), 0.37)
        expectClose(got, want, rtol: 1e-5, atol: 1e-6, "set attention \(isaName(isa)) H\(h) D\(d)")

        // Rows read in place from a table (repeats included) = the same rows gathered first, bit for bit.
        let tableRows = 23
        let table = rng.floats(tableRows * ldq, -2, 2)
        let rows = (0..<tokens).map { _ in Int32(rng.int(tableRows)) }
        var gathered = [Float](repeating: 0, count: tokens * ldq)
        for (t, r) in rows.enumerated() {
            for j in 0..<ldq { gathered[t * ldq + j] = table[Int(r) * ldq + j] }
        }
        var inPlace = start, copied = start, wantRows = start
        withISA(isa) {
            lk_set_attention_forward_isa(testISA, &inPlace, Int64(ldo), table, Int64(ldq), rows, offsets, Int64(lengths.count),
                                     Int64(h), Int64(d), 0.37, &scratch)
            lk_set_attention_forward_isa(testISA, &copied, Int64(ldo), gathered, Int64(ldq), nil, offsets, Int64(lengths.count),
                                     Int64(h), Int64(d), 0.37, &scratch)
        }
        lk_set_attention_forward_ref(&wantRows, Int64(ldo), table, Int64(ldq), rows, offsets, Int64(lengths.count),
                                     Int64(h), Int64(d), 0.37)
        #expect(bits(inPlace) == bits(copied), "set attention rows \(isaName(isa)) H\(h) D\(d)")
        expectClose(inPlace, wantRows, rtol: 1e-5, atol: 1e-6, "set attention rows vs ref \(isaName(isa)) H\(h) D\(d)")
    }
}

@Test func setAttentionOfOneTokenIsItsValue() {
    // Hand-computed: a set of one attends only to itself, so the output is v.
    let qkv: [Float] = [1, 2, 3, 4, 5, 6]  // H = 2, D = 1: q = (1,2), k = (3,4), v = (5,6)
    var out: [Float] = [0, 0], scratch = [Float](repeating: 0, count: Int(lk_set_attention_scratch_floats(2, 1)))
    lk_set_attention_forward_isa(testISA, &out, 2, qkv, 6, nil, [0, 1], 1, 2, 1, 1, &scratch)
    #expect(out == [5, 6])
    // Two tokens, one head of width 1: scores q0·k = (1·3, 1·7) → softmax (e^3, e^7)/Σ, weights for v = (5, 9).
    let two: [Float] = [1, 3, 5, 2, 7, 9]
    var out2: [Float] = [0, 0]
    lk_set_attention_forward_isa(testISA, &out2, 1, two, 3, nil, [0, 2], 1, 1, 1, 1, &scratch)
    let p: Float = 1 / (1 + 54.59815)  // e^4
    #expect(abs(out2[0] - (p * 5 + (1 - p) * 9)) < 1e-5)
}

@Test(arguments: allISAs)
func segmentMeanMatchesReference(isa: Int32) {
    var rng = TestRNG(14)
    let offsets: [Int32] = [0, 0, 3, 4, 4, 30]
    for c in [1, 64, 300] {
        let x = rng.floats(30 * c)
        var got = [Float](repeating: .nan, count: 5 * c), want = got
        withISA(isa) { lk_segment_mean_forward_isa(testISA, &got, x, offsets, 5, Int64(c)) }
        lk_segment_mean_forward_ref(&want, x, offsets, 5, Int64(c))
        expectClose(got, want, rtol: 1e-5, atol: 1e-6, "segment mean \(isaName(isa)) C\(c)")
        #expect(got[0..<c].allSatisfy { $0 == 0 } && got[(3 * c)..<(4 * c)].allSatisfy { $0 == 0 }, "empty sets give 0")
    }
}

/// The serving engine calls LayerNorm, activations and gathers with one thread, which takes their serial
/// branch (no OpenMP region); it must equal the reference and, bitwise, the parallel path.
@Test(arguments: allISAs)
func oneThreadPathsMatchReferencesAndThreads(isa: Int32) {
    var rng = TestRNG(15)
    for rows in [9, 300] {   // 300 x 64 is above the parallel threshold: threads 2 take the OpenMP path
        let c = 64
        let x = rng.floats(rows * c, -3, 3), w = rng.floats(c), b = rng.floats(c)
        var one = [Float](repeating: 0, count: rows * c), two = one, want = one
        var mean = [Float](repeating: 0, count: rows), rstd = mean, m2 = mean, r2 = mean
        withISA(isa) {
            lk_layernorm_forward_isa(testISA, &one, &mean, &rstd, x, w, b, Int64(rows), Int64(c), 1e-5, 1)
            lk_layernorm_forward_isa(testISA, &two, &m2, &r2, x, w, b, Int64(rows), Int64(c), 1e-5, 2)
        }
        var mr = mean, rr = mean
        lk_layernorm_forward_ref(&want, &mr, &rr, x, w, b, Int64(rows), Int64(c), 1e-5)
        expectClose(one, want, rtol: 1e-5, atol: 1e-5, "layernorm 1 thread \(isaName(isa)) rows \(rows)")
        #expect(bits(one) == bits(two) && bits(mean) == bits(m2) && bits(rstd) == bits(r2))
        for act in [ActivationCase.relu, .gelu, .sigmoid] {
            var a1 = [Float](repeating: 0, count: x.count), a2 = a1, r = a1
            withISA(isa) {
                lk_activation_forward_isa(testISA, &a1, x, Int64(x.count), act.rawValue, 1)
                lk_activation_forward_isa(testISA, &a2, x, Int64(x.count), act.rawValue, 2)
            }
            lk_activation_forward_ref(&r, x, Int64(x.count), act.rawValue)
            expectClose(a1, r, rtol: 1e-5, atol: 1e-6, "activation \(act) \(isaName(isa)) n \(x.count)")
            #expect(bits(a1) == bits(a2))
        }
        let ids: [Int32] = (0..<rows).map { i in i % 7 == 3 ? -1 : Int32((i * 5) % rows) }
        var g1 = [Float](repeating: .nan, count: rows * c), g2 = g1, gr = g1
        lk_embedding_forward(&g1, x, ids, Int64(rows), Int64(c), 1)
        lk_embedding_forward(&g2, x, ids, Int64(rows), Int64(c), 2)
        lk_embedding_forward_ref(&gr, x, ids, Int64(rows), Int64(c))
        #expect(bits(g1) == bits(gr) && bits(g2) == bits(gr))
    }
}

private enum ActivationCase: Int32 { case relu = 0, gelu = 1, sigmoid = 4 }

// bf16 products (lk_bf16.h): packing layout, every path (portable, AMX tiles, AVX512-BF16) against the oracle
// with an error bound, and the quantised-weight driver. A fast path is checked where this CPU can run it
// (lk_bf16_path_clamp; it is skipped, not faked, elsewhere: the portable path always runs).
import CLeaderKernels
import Testing

private let u = Double(Float.ulpOfOne) / 2   // f32 unit roundoff 2^-24
/// Every bf16 path (LK_BF16_PATH_*: 0 portable, 1 AMX, 2 AVX512-BF16), and those this process can run.
let allBf16Paths: [Int32] = [Int32(LK_BF16_PATH_PORTABLE), Int32(LK_BF16_PATH_AMX), Int32(LK_BF16_PATH_AVX512_BF16)]
private let bf16Paths = allBf16Paths.filter { lk_bf16_path_clamp($0) == $0 }

private func bf(_ v: Float) -> Double { Double(lk_bf16_to_f32(lk_f32_to_bf16(v))) }

/// Per output: the bound (K/2 + 3)·u·(Σ_k |bf(x)·bf(w)| + |bias|) on the f32 sum of the exact bf16 products
/// (pairs are added to the running sum one product at a time, plus the bias add and the beta·y fma).
private func bounds(_ x: [Float], ldx: Int, _ w: [Float], bias: [Float]?, m: Int, n: Int, k: Int) -> [Double] {
    var out = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = abs(Double(bias?[j] ?? 0))
            for t in 0..<k { s += abs(bf(x[i * ldx + t]) * bf(w[j * k + t])) }
            out[i * n + j] = (Double(k) / 2 + 3) * u * s + 1e-30
        }
    }
    return out
}

@Test func bf16PackingFollowsTheDocumentedLayout() {
    var rng = TestRNG(31)
    for (n, k) in [(1, 1), (16, 32), (17, 33), (40, 64), (5, 300)] {
        let w = rng.floats(n * k)
        var packed = [UInt16](repeating: 0xFFFF, count: Int(lk_bf16_packed_elems(Int64(n), Int64(k))))
        lk_bf16_pack(&packed, w, Int64(k), Int64(n), Int64(k))
        let kp = Int(lk_bf16_padded_k(Int64(k)))
        #expect(kp % 32 == 0 && kp >= k && kp < k + 32)
        var mismatches = 0
        for p in 0..<((n + 15) / 16) {
            for t in 0..<(kp / 32) {
                for row in 0..<16 {
                    for col in 0..<16 {
                        for e in 0..<2 {
                            let (nn, kk) = (p * 16 + col, t * 32 + 2 * row + e)
                            let want: UInt16 = nn < n && kk < k ? lk_f32_to_bf16(w[nn * k + kk]) : 0
                            if packed[p * 16 * kp + t * 512 + row * 32 + col * 2 + e] != want { mismatches += 1 }
                        }
                    }
                }
            }
        }
        #expect(mismatches == 0, "N\(n) K\(k)")
    }
}

@Test(arguments: bf16Paths)
func bf16LinearMatchesReference(path: Int32) {
    var rng = TestRNG(32)
    // Rows around the 16/32-row tiles, columns around the 16-column panels, K around the 32-deep tile step.
    let shapes = [(1, 1, 1), (5, 15, 31), (16, 16, 32), (17, 17, 33), (33, 40, 64), (70, 131, 128), (3, 64, 300), (40, 300, 64)]
    for (m, n, k) in shapes {
        let w = rng.floats(n * k), x = rng.floats(m * (k + 3), -3, 3), bias = rng.floats(n)
        var packed = [UInt16](repeating: 0, count: Int(lk_bf16_packed_elems(Int64(n), Int64(k))))
        lk_bf16_pack(&packed, w, Int64(k), Int64(n), Int64(k))
        var scratch = [UInt8](repeating: 0, count: Int(lk_bf16_scratch_bytes(Int64(k))))
        for (useBias, beta, gelu) in [(true, Float(0), Int32(0)), (false, 0, 0), (true, 1, 0), (false, 0.5, 0), (true, 0, 1),
                                      (true, 1, 1)] {
            let start = rng.floats(m * (n + 2))
            var got = start, want = start
            // ldx = k + 3 and ldy = n + 2: strided rows; the two columns past N must stay untouched.
            lk_bf16_linear_forward_path(path, &got, Int64(n + 2), x, Int64(k + 3), packed, useBias ? bias : nil,
                                        Int64(m), Int64(n), Int64(k), beta, gelu, &scratch)
            lk_bf16_linear_forward_ref(&want, Int64(n + 2), x, Int64(k + 3), w, Int64(k), useBias ? bias : nil,
                                       Int64(m), Int64(n), Int64(k), beta, gelu)
            let bound = bounds(x, ldx: k + 3, w, bias: useBias ? bias : nil, m: m, n: n, k: k)
            var worst = 0.0, untouched = true
            for i in 0..<m {
                for j in 0..<(n + 2) {
                    let o = i * (n + 2) + j
                    if j >= n { untouched = untouched && got[o].bitPattern == start[o].bitPattern; continue }
                    let slack = beta == 0 ? 0 : 2 * u * abs(Double(beta * start[o]))
                    // GELU: its slope is at most 1.13; the AMX epilogue evaluates it to ~1e-4 relative (lk_bf16.h).
                    let allowed = gelu == 0 ? bound[i * n + j] + slack
                        : 1.13 * (bound[i * n + j] + slack) + 1.5e-4 * abs(Double(want[o])) + 1e-30
                    worst = max(worst, abs(Double(got[o]) - Double(want[o])) / allowed)
                }
            }
            #expect(worst <= 1, "path \(path) M\(m) N\(n) K\(k) bias \(useBias) beta \(beta) gelu \(gelu): error/bound \(worst)")
            #expect(untouched, "path \(path) M\(m) N\(n) K\(k): columns past N written")
        }
    }
}

@Test func bf16RoundsTheOperands() {
    // Against the exact f32 product the bf16 result must differ (the operands are rounded), by at most the
    // operand rounding: |Σ x w − Σ bf(x) bf(w)| ≤ Σ (2^-8 + 2^-16)|x w| + the sum bound. A path that skipped
    // the rounding would have error ~1e-7 and fail the first check.
    var rng = TestRNG(33)
    let (m, n, k) = (20, 48, 96)
    let w = rng.floats(n * k), x = rng.floats(m * k)
    var packed = [UInt16](repeating: 0, count: Int(lk_bf16_packed_elems(Int64(n), Int64(k))))
    lk_bf16_pack(&packed, w, Int64(k), Int64(n), Int64(k))
    var scratch = [UInt8](repeating: 0, count: Int(lk_bf16_scratch_bytes(Int64(k))))
    var got = [Float](repeating: 0, count: m * n), exact = got
    lk_bf16_linear_forward(&got, Int64(n), x, Int64(k), packed, nil, Int64(m), Int64(n), Int64(k), 0, 0, &scratch)
    lk_linear_forward_ref(&exact, Int64(n), x, Int64(k), w, nil, Int64(m), Int64(n), Int64(k), 0)
    var meanErr = 0.0, within = true
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for t in 0..<k { s += abs(Double(x[i * k + t]) * Double(w[j * k + t])) }
            let err = abs(Double(got[i * n + j]) - Double(exact[i * n + j]))
            meanErr += err / Double(m * n)
            within = within && err <= (1.0 / 256 + 1.0 / 65536 + (Double(k) / 2 + 3) * u * 1.01) * s
        }
    }
    #expect(within)
    #expect(meanErr > 1e-4, "mean |bf16 − f32| = \(meanErr): the operands were not rounded")
}

@Test(arguments: bf16Paths)
func bf16QuantisedProductMatchesReference(path: Int32) {
    var rng = TestRNG(34)
    let dtypes: [Int32] = [LK_DTYPE_F32, LK_DTYPE_F16, LK_DTYPE_BF16, LK_DTYPE_Q8_0, LK_DTYPE_Q4_0, LK_DTYPE_Q4_1]
        .map { Int32($0) }
    for dtype in dtypes {
        for (m, n, k) in [(1, 7, 32), (17, 33, 64), (40, 70, 96), (65, 20, 576)] {
            let wf = rng.floats(n * k, -0.3, 0.3), x = rng.floats(m * (k + 1), -2, 2)
            let wq = quantize(wf, rows: n, n: k, dtype)
            let wd = dequantizeRef(wq, rows: n, n: k, dtype)   // the weight the product must see
            var want = rng.floats(m * n)
            let start = want
            lk_bf16_linear_forward_ref(&want, Int64(n), x, Int64(k + 1), wd, Int64(k), nil, Int64(m), Int64(n), Int64(k), 1, 0)
            let bound = bounds(x, ldx: k + 1, wd, bias: nil, m: m, n: n, k: k)
            var results: [[Float]] = []
            for threads: Int32 in [1, 2, 3] {
                var got = start
                lk_qgemm_bf16_path(path, &got, Int64(n), x, Int64(k + 1), wq, Int64(m), Int64(n), Int64(k), dtype, 1, threads)
                results.append(got)
            }
            var worst = 0.0
            for o in 0..<(m * n) {
                worst = max(worst, abs(Double(results[0][o]) - Double(want[o])) / (bound[o] + 2 * u * abs(Double(start[o]))))
            }
            #expect(worst <= 1, "path \(path) dtype \(dtype) M\(m) N\(n) K\(k): error/bound \(worst)")
            #expect(bits(results[0]) == bits(results[1]) && bits(results[0]) == bits(results[2]),
                    "path \(path) dtype \(dtype) M\(m) N\(n) K\(k): result depends on the thread count")
        }
    }
}

@Test func bf16RowsDoNotDependOnTheBatch() {
    // Serving relies on it: a row alone gives bitwise what it gives inside a larger M (both paths).
    var rng = TestRNG(35)
    let (n, k) = (131, 128)
    let w = rng.floats(n * k), x = rng.floats(37 * k), bias = rng.floats(n)
    var packed = [UInt16](repeating: 0, count: Int(lk_bf16_packed_elems(Int64(n), Int64(k))))
    lk_bf16_pack(&packed, w, Int64(k), Int64(n), Int64(k))
    var scratch = [UInt8](repeating: 0, count: Int(lk_bf16_scratch_bytes(Int64(k))))
    for path in bf16Paths {
        var all = [Float](repeating: 0, count: 37 * n)
        lk_bf16_linear_forward_path(path, &all, Int64(n), x, Int64(k), packed, bias, 37, Int64(n), Int64(k), 0, 1, &scratch)
        for r in [0, 16, 31, 36] {
            var one = [Float](repeating: 0, count: n)
            Array(x[(r * k)..<((r + 1) * k)]).withUnsafeBufferPointer { xr in
                lk_bf16_linear_forward_path(path, &one, Int64(n), xr.baseAddress, Int64(k), packed, bias, 1, Int64(n),
                                            Int64(k), 0, 1, &scratch)
            }
            #expect(bits(one) == bits(Array(all[(r * n)..<((r + 1) * n)])), "path \(path) row \(r)")
        }
    }
}

@Test(arguments: bf16Paths)
func bf16InputGradientMatchesReference(path: Int32) {
    // dX (M,K) += dY (M,N) · W (N,K): the oracle is the forward oracle with Wᵀ as the weight and beta 1.
    var rng = TestRNG(36)
    let dtypes: [Int32] = [LK_DTYPE_F32, LK_DTYPE_Q8_0, LK_DTYPE_Q4_1].map { Int32($0) }
    for dtype in dtypes {
        for (m, n, k) in [(1, 7, 32), (17, 33, 64), (40, 70, 96), (33, 576, 64)] {
            let wf = rng.floats(n * k, -0.3, 0.3), dy = rng.floats(m * (n + 1), -2, 2)
            let wq = quantize(wf, rows: n, n: k, dtype)
            let wd = dequantizeRef(wq, rows: n, n: k, dtype)
            var wt = [Float](repeating: 0, count: k * n)
            for r in 0..<n { for c in 0..<k { wt[c * n + r] = wd[r * k + c] } }
            let start = rng.floats(m * (k + 2))
            var want = start
            lk_bf16_linear_forward_ref(&want, Int64(k + 2), dy, Int64(n + 1), wt, Int64(n), nil, Int64(m), Int64(k),
                                       Int64(n), 1, 0)
            var results: [[Float]] = []
            for threads: Int32 in [1, 2, 3] {
                var got = start
                lk_qgemm_bf16_backward_input_path(path, &got, Int64(k + 2), dy, Int64(n + 1), wq, Int64(m), Int64(n),
                                                  Int64(k), dtype, threads)
                results.append(got)
            }
            var worst = 0.0, untouched = true
            for i in 0..<m {
                for c in 0..<(k + 2) {
                    let o = i * (k + 2) + c
                    if c >= k { untouched = untouched && results[0][o].bitPattern == start[o].bitPattern; continue }
                    var s = 0.0
                    for r in 0..<n { s += abs(bf(dy[i * (n + 1) + r]) * bf(wd[r * k + c])) }
                    let bound = (Double(n) / 2 + 3) * u * s + 2 * u * abs(Double(start[o])) + 1e-30
                    worst = max(worst, abs(Double(results[0][o]) - Double(want[o])) / bound)
                }
            }
            #expect(worst <= 1, "path \(path) dtype \(dtype) M\(m) N\(n) K\(k): error/bound \(worst)")
            #expect(untouched, "path \(path) dtype \(dtype) M\(m) N\(n) K\(k): columns past K written")
            #expect(bits(results[0]) == bits(results[1]) && bits(results[0]) == bits(results[2]),
                    "path \(path) dtype \(dtype) M\(m) N\(n) K\(k): result depends on the thread count")
        }
    }
}

@Test(arguments: bf16Paths)
func bf16GeluMeanIsTheUnfusedComposition(path: Int32) {
    // lk_bf16_linear_gelu_mean = lk_bf16_linear_forward(gelu) then lk_segment_mean_forward, bit for bit, on
    // ragged sets (empty ones, sets across the 32-row blocks) given as a slice of a larger offsets array.
    var rng = TestRNG(37)
    let (n, k) = (300, 64)
    let w = rng.floats(n * k), bias = rng.floats(n)
    var packed = [UInt16](repeating: 0, count: Int(lk_bf16_packed_elems(Int64(n), Int64(k))))
    lk_bf16_pack(&packed, w, Int64(k), Int64(n), Int64(k))
    var scratch = [UInt8](repeating: 0, count: Int(lk_bf16_scratch_bytes(Int64(k))))
    let all: [Int32] = [0, 5, 5, 17, 18, 50, 50, 83, 84]   // the slice from index 1 starts at row 5
    let x = rng.floats(84 * k, -2, 2)
    let sets = all.count - 2, first = Int(all[1]), rows = Int(all.last!) - first
    var full = [Float](repeating: 0, count: rows * n), want = [Float](repeating: .nan, count: sets * n)
    x.withUnsafeBufferPointer { xb in
        let xs = xb.baseAddress! + first * k
        lk_bf16_linear_forward_path(path, &full, Int64(n), xs, Int64(k), packed, bias, Int64(rows), Int64(n), Int64(k), 0, 1,
                                    &scratch)
        let rel = all[1...].map { $0 - all[1] }
        lk_segment_mean_forward_isa(testISA, &want, full, Array(rel), Int64(sets), Int64(n))
        var got = [Float](repeating: .nan, count: sets * n)
        all.withUnsafeBufferPointer { ob in
            lk_bf16_linear_gelu_mean_path(path, &got, Int64(n), xs, Int64(k), packed, bias, ob.baseAddress! + 1, Int64(sets),
                                          Int64(n), Int64(k), &scratch)
        }
        #expect(bits(got) == bits(want), "path \(path)")
        // sets 0 (rows 5..<5) and 4 (50..<50) are empty
        #expect(got[0..<n].allSatisfy { $0 == 0 } && got[(4 * n)..<(5 * n)].allSatisfy { $0 == 0 }, "an empty set pools to 0")
        #expect(got[n..<(2 * n)].contains { $0 != 0 })
    }
}

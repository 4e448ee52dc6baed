// int8 activations (Q8A) and the integer-dot products lk_qgemm_q8* (lk_quant.h), every ISA / code path.
import CLeaderKernels
import Testing

private let isas: [Int32] = [LK_ISA_GENERIC, LK_ISA_AVX2, LK_ISA_AVX512].map { Int32($0) }
private let paths: [Int32] = [LK_Q8_PATH_GENERIC, LK_Q8_PATH_AVX2, LK_Q8_PATH_AVX_VNNI, LK_Q8_PATH_AVX512_VNNI]
    .map { Int32($0) }
private let q8Dtypes: [Int32] = [LK_DTYPE_Q8_0, LK_DTYPE_Q4_0, LK_DTYPE_Q4_1].map { Int32($0) }
private let u = Double(Float.ulpOfOne) / 2   // f32 unit roundoff 2^-24

/// Weights (rows, k) quantised with lk_quantize_row_ref, values spread like a trained layer (a few large).
private func weights(_ g: inout QuantRNG, rows: Int, k: Int, _ dtype: Int32) -> [UInt8] {
    let w = (0..<rows * k).map { i in g.float() * (i % 37 == 0 ? 0.5 : 0.08) + (i % 11 == 0 ? 0.02 : 0) }
    return quantize(w, rows: rows, n: k, dtype)
}

/// |m| of every value's block (Q4_1; zero for the others).
private func blockMins(_ w: [UInt8], rows: Int, k: Int, _ dtype: Int32) -> [Float] {
    guard dtype == Int32(LK_DTYPE_Q4_1) else { return [Float](repeating: 0, count: rows * k) }
    let rb = rowBytes(k, dtype)
    return (0..<rows * k).map { i in
        let (r, c) = (i / k, i % k), o = r * rb + c / 32 * 20 + 2
        return abs(lk_f16_to_f32(UInt16(w[o]) | UInt16(w[o + 1]) << 8))
    }
}

private func quantizeActivations(isa: Int32?, _ x: [Float], m: Int, k: Int, ldx: Int, threads: Int32 = 2) -> [UInt8] {
    var out = [UInt8](repeating: 0xAA, count: max(1, m * Int(lk_q8a_row_bytes(Int64(k)))))
    x.withUnsafeBufferPointer { x in
        out.withUnsafeMutableBytes { o in
            if let isa {
                lk_quantize_q8a_isa(isa, o.baseAddress, x.baseAddress, Int64(ldx), Int64(m), Int64(k), threads)
            } else {
                lk_quantize_q8a_ref(o.baseAddress, x.baseAddress, Int64(ldx), Int64(m), Int64(k))
            }
        }
    }
    return out
}

private func dequantizedActivations(_ xq: [UInt8], m: Int, k: Int) -> [Float] {
    var out = [Float](repeating: 0, count: m * k)
    xq.withUnsafeBytes { q in
        out.withUnsafeMutableBufferPointer { o in lk_dequantize_q8a_ref(o.baseAddress, q.baseAddress, Int64(m), Int64(k)) }
    }
    return out
}

/// Y (m, n; ldy n+1) from Y0 with the int8 product: the _ref (path nil) or an explicit path.
private func q8gemm(path: Int32?, _ y0: [Float], _ xq: [UInt8], _ w: [UInt8], m: Int, n: Int, k: Int, dtype: Int32,
                    beta: Float, threads: Int32) -> [Float] {
    var y = y0
    y.withUnsafeMutableBufferPointer { y in
        xq.withUnsafeBytes { x in
            w.withUnsafeBytes { w in
                if let path {
                    lk_qgemm_q8_path(path, y.baseAddress, Int64(n + 1), x.baseAddress, w.baseAddress, Int64(m), Int64(n),
                                     Int64(k), dtype, beta, threads)
                } else {
                    lk_qgemm_q8_ref(y.baseAddress, Int64(n + 1), x.baseAddress, w.baseAddress, Int64(m), Int64(n),
                                    Int64(k), dtype, beta)
                }
            }
        }
    }
    return y
}

// MARK: - Quantiser

@Test(arguments: isas)
func q8aQuantizerMatchesReferenceBitwise(isa: Int32) {
    var g = QuantRNG(seed: 11)
    for (m, k) in [(1, 32), (3, 96), (17, 576), (69, 1536)] {
        let ldx = k + 5
        var x = g.floats(m * ldx).map { $0 * 3 }
        for j in 0..<32 { x[j] = 0 }                      // an all-zero block: d = 0, q = 0
        if m > 1 { x[ldx] = 1e-30; x[ldx + 1] = -2e-30 }  // tiny values
        let want = quantizeActivations(isa: nil, x, m: m, k: k, ldx: ldx)
        let got = quantizeActivations(isa: isa, x, m: m, k: k, ldx: ldx)
        #expect(got == want, "isa \(isa) m \(m) k \(k)")
        // The definition: |x - d*q| <= d/2 (+ the rounding of x*(1/d)), |q| <= 127, s = d*sum(q).
        let xh = dequantizedActivations(want, m: m, k: k)
        var worst = 0.0
        for i in 0..<m {
            for b in 0..<k / 32 {
                let o = (i * (k / 32) + b) * 40
                let d = want.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: o, as: Float.self) }
                let s = want.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: o + 4, as: Float.self) }
                let q = (0..<32).map { Int(Int8(bitPattern: want[o + 8 + $0])) }
                #expect(q.allSatisfy { abs($0) <= 127 } && s == d * Float(q.reduce(0, +)))
                for j in 0..<32 {
                    let e = Double(abs(x[i * ldx + b * 32 + j] - xh[i * k + b * 32 + j]))
                    worst = max(worst, d > 0 ? e / Double(d) : e)
                }
            }
        }
        #expect(worst <= 0.5 + 1e-4, "max |x - x^| / d = \(worst)")
    }
}

// MARK: - Product vs its reference

/// Bound on |optimised - ref|: the ref is the exact combine (in double) of the exact integer dots; the optimised
/// path rounds each block's f32 combine (dw*dx, the int->f32 conversion is exact below 2^24, two fused adds),
/// accumulates up to nb of them per lane in f32 and sums up to 16 lanes by a tree (4 levels) and the c*s terms
/// apart, so |err| <= (nb + 8) u sum_b |term_b| + |beta y| u, and
/// |term_b| <= sum_j |x^_j| (|w^_j| + 2|m_b|) (the Q4_1 split d*nib*x + m*x; m = 0 otherwise).
private func combineBound(_ xh: [Float], _ wh: [Float], _ mins: [Float], i: Int, n: Int, k: Int, betaY: Float) -> Double {
    var a = 0.0
    for c in 0..<k { a += Double(abs(xh[i * k + c])) * (Double(abs(wh[n * k + c])) + 2 * Double(mins[n * k + c])) }
    return (Double(k / 32) + 8) * u * a + 2 * u * Double(abs(betaY)) + 1e-30
}

@Test(arguments: paths)
func int8GemmMatchesReference(path: Int32) {
    var g = QuantRNG(seed: 7 + UInt64(path))
    for dtype in q8Dtypes {
        for (m, n, k) in [(1, 1, 32), (3, 33, 96), (1, 70, 576), (2, 45, 1536), (17, 31, 576), (69, 70, 1536), (4, 32, 576),
                         (5, 97, 96)] {
            let w = weights(&g, rows: n, k: k, dtype)
            let x = g.floats(m * k)
            let xq = quantizeActivations(isa: nil, x, m: m, k: k, ldx: k)
            let (xh, wh, mins) = (dequantizedActivations(xq, m: m, k: k), dequantizeRef(w, rows: n, n: k, dtype),
                                  blockMins(w, rows: n, k: k, dtype))
            for beta: Float in [0, 1] {
                let y0 = g.floats(m * (n + 1))
                let want = q8gemm(path: nil, y0, xq, w, m: m, n: n, k: k, dtype: dtype, beta: beta, threads: 1)
                let got = q8gemm(path: path, y0, xq, w, m: m, n: n, k: k, dtype: dtype, beta: beta, threads: 2)
                var bad = 0, worst = 0.0
                for i in 0..<m {
                    for c in 0..<n {
                        let e = abs(Double(got[i * (n + 1) + c]) - Double(want[i * (n + 1) + c]))
                        let bound = combineBound(xh, wh, mins, i: i, n: c, k: k, betaY: beta * y0[i * (n + 1) + c])
                        worst = max(worst, e / bound)
                        if !(e <= bound) { bad += 1 }
                    }
                    #expect(got[i * (n + 1) + n] == y0[i * (n + 1) + n], "padding column written")
                }
                #expect(bad == 0, "path \(path) dtype \(dtype) m \(m) n \(n) k \(k) beta \(beta): \(bad) outside, worst \(worst)x bound")
                for t: Int32 in [1, 3] {
                    let again = q8gemm(path: path, y0, xq, w, m: m, n: n, k: k, dtype: dtype, beta: beta, threads: t)
                    #expect(again.map(\.bitPattern) == got.map(\.bitPattern), "threads \(t) differ, path \(path)")
                }
            }
        }
    }
}

@Test func int8PathsClampToTheCPU() {
    let active = lk_qgemm_q8_path_active()
    #expect(active >= Int32(LK_Q8_PATH_GENERIC) && active <= Int32(LK_Q8_PATH_AVX512_VNNI))
    #expect(lk_qgemm_q8_path_clamp(Int32(LK_Q8_PATH_GENERIC)) == Int32(LK_Q8_PATH_GENERIC))
    #expect(lk_qgemm_q8_path_clamp(99) == Int32(LK_Q8_PATH_GENERIC))
    for p in paths { #expect(lk_qgemm_q8_path_clamp(p) <= p) }
    #expect(lk_qgemm_q8_supports(Int32(LK_DTYPE_Q4_1)) == 1 && lk_qgemm_q8_supports(Int32(LK_DTYPE_F16)) == 0)
}

// MARK: - Product vs the exact fp32 product of the unquantised input

/// |Y_int8 - Y_fp32| <= sum_j |x_j - x^_j| |w^_j| + combine rounding <= sum_b (d_b / 2) sum_{j in b} |w^_j| + ...:
/// the only approximation is the activations' rounding to int8 (the weights are the same blocks on both sides).
@Test(arguments: [Int32(LK_ISA_GENERIC), Int32(LK_ISA_AVX512)])
func int8GemmWithinQ8RoundingOfExactProduct(isa: Int32) {
    var g = QuantRNG(seed: 99)
    for dtype in q8Dtypes {
        for (m, n, k) in [(3, 33, 96), (17, 70, 576), (5, 40, 1536)] {
            let w = weights(&g, rows: n, k: k, dtype)
            let x = g.floats(m * k).enumerated().map { $0.offset % 13 == 0 ? $0.element * 4 : $0.element }
            let xq = quantizeActivations(isa: isa, x, m: m, k: k, ldx: k)
            let (xh, wh, mins) = (dequantizedActivations(xq, m: m, k: k), dequantizeRef(w, rows: n, n: k, dtype),
                                  blockMins(w, rows: n, k: k, dtype))
            var exact = [Float](repeating: 0, count: m * n)
            exact.withUnsafeMutableBufferPointer { y in
                x.withUnsafeBufferPointer { x in
                    w.withUnsafeBytes { w in
                        lk_qgemm_ref(y.baseAddress, Int64(n), x.baseAddress, Int64(k), w.baseAddress, Int64(m), Int64(n),
                                     Int64(k), dtype, 0)
                    }
                }
            }
            var got = [Float](repeating: 0, count: m * n)
            got.withUnsafeMutableBufferPointer { y in
                xq.withUnsafeBytes { x in
                    w.withUnsafeBytes { w in
                        lk_qgemm_q8_isa(isa, y.baseAddress, Int64(n), x.baseAddress, w.baseAddress, Int64(m), Int64(n),
                                        Int64(k), dtype, 0, 2)
                    }
                }
            }
            var bad = 0, maxRatio = 0.0, sumErr = 0.0, sumBound = 0.0
            for i in 0..<m {
                for c in 0..<n {
                    var q8 = 0.0
                    for b in 0..<k / 32 {
                        var dx = 0.0, aw = 0.0
                        for j in 0..<32 {
                            dx = max(dx, Double(abs(x[i * k + b * 32 + j])) / 127)
                            aw += Double(abs(wh[c * k + b * 32 + j]))
                        }
                        q8 += dx / 2 * aw * (1 + 1e-6)
                    }
                    let bound = q8 + combineBound(xh, wh, mins, i: i, n: c, k: k, betaY: 0) + 2 * u * Double(abs(exact[i * n + c]))
                    let e = abs(Double(got[i * n + c]) - Double(exact[i * n + c]))
                    if !(e <= bound) { bad += 1 }
                    maxRatio = max(maxRatio, e / bound)
                    sumErr += e
                    sumBound += bound
                }
            }
            #expect(bad == 0, "isa \(isa) dtype \(dtype) m \(m) n \(n) k \(k): \(bad) outside, worst \(maxRatio)x bound")
            // The bound is not vacuous: the int8 product does differ from the exact one, by a fraction of the bound.
            #expect(sumErr > 0 && sumErr < sumBound)
        }
    }
}

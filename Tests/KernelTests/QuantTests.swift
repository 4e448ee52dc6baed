// Conversions, (de)quantisation and quantised products (lk_quant.h), for every ISA build.
import CLeaderKernels
import Testing

/// Deterministic xorshift64* generator (also used by Int8GemmTests.swift).
struct QuantRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> UInt64 {
        state ^= state >> 12; state ^= state << 25; state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
    mutating func float() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
    mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in float() } }
}

private let allDtypes: [Int32] = [LK_DTYPE_F32, LK_DTYPE_F16, LK_DTYPE_BF16, LK_DTYPE_Q8_0, LK_DTYPE_Q4_0,
                                  LK_DTYPE_Q4_1].map { Int32($0) }

func rowBytes(_ n: Int, _ dtype: Int32) -> Int {
    n / Int(lk_dtype_block_size(dtype)) * Int(lk_dtype_block_bytes(dtype))
}

/// rows x n matrix quantised row by row with lk_quantize_row_ref (also used by Int8GemmTests.swift).
func quantize(_ x: [Float], rows: Int, n: Int, _ dtype: Int32) -> [UInt8] {
    let rb = rowBytes(n, dtype)
    var out = [UInt8](repeating: 0, count: max(rows * rb, 1))
    x.withUnsafeBufferPointer { x in
        out.withUnsafeMutableBytes { o in
            for r in 0..<rows { lk_quantize_row_ref(o.baseAddress! + r * rb, x.baseAddress! + r * n, Int64(n), dtype) }
        }
    }
    return out
}

func dequantizeRef(_ q: [UInt8], rows: Int, n: Int, _ dtype: Int32) -> [Float] {
    let rb = rowBytes(n, dtype)
    var out = [Float](repeating: 0, count: rows * n)
    q.withUnsafeBytes { q in
        out.withUnsafeMutableBufferPointer { o in
            for r in 0..<rows { lk_dequantize_row_ref(o.baseAddress! + r * n, q.baseAddress! + r * rb, Int64(n), dtype) }
        }
    }
    return out
}

// MARK: - Conversions

@Test func dtypeSizes() {
    #expect(lk_dtype_block_size(Int32(LK_DTYPE_F32)) == 1 && lk_dtype_block_bytes(Int32(LK_DTYPE_F32)) == 4)
    #expect(lk_dtype_block_size(Int32(LK_DTYPE_F16)) == 1 && lk_dtype_block_bytes(Int32(LK_DTYPE_F16)) == 2)
    #expect(lk_dtype_block_size(Int32(LK_DTYPE_BF16)) == 1 && lk_dtype_block_bytes(Int32(LK_DTYPE_BF16)) == 2)
    #expect(lk_dtype_block_size(Int32(LK_DTYPE_Q8_0)) == 32 && lk_dtype_block_bytes(Int32(LK_DTYPE_Q8_0)) == 34)
    #expect(lk_dtype_block_size(Int32(LK_DTYPE_Q4_0)) == 32 && lk_dtype_block_bytes(Int32(LK_DTYPE_Q4_0)) == 18)
    #expect(lk_dtype_block_size(Int32(LK_DTYPE_Q4_1)) == 32 && lk_dtype_block_bytes(Int32(LK_DTYPE_Q4_1)) == 20)
    #expect(lk_dtype_block_size(99) == 0 && lk_dtype_block_bytes(99) == 0)
}

@Test func f16RoundTripsEveryValue() {
    var bad: [UInt16] = []
    for h in 0...UInt16.max {
        let f = lk_f16_to_f32(h), swiftValue = Float(Float16(bitPattern: h))
        let decoded = f.bitPattern == swiftValue.bitPattern || (f.isNaN && swiftValue.isNaN)
        let back = lk_f32_to_f16(f)
        let encoded = f.isNaN ? (back & 0x7c00 == 0x7c00 && back & 0x3ff != 0) : back == h
        if !(decoded && encoded) { bad.append(h) }
    }
    #expect(bad.isEmpty, "first failing f16 patterns: \(bad.prefix(8))")
}

@Test func f16RoundsToNearestEven() {
    #expect(lk_f32_to_f16(.infinity) == 0x7c00 && lk_f32_to_f16(-.infinity) == 0xfc00)
    #expect(lk_f32_to_f16(-0.0) == 0x8000 && lk_f32_to_f16(0) == 0)
    #expect(lk_f16_to_f32(0x0001) == Float(sign: .plus, exponent: -24, significand: 1))   // smallest subnormal
    #expect(lk_f32_to_f16(65504) == 0x7bff && lk_f32_to_f16(65519.99) == 0x7bff && lk_f32_to_f16(65520) == 0x7c00)
    #expect(lk_f32_to_f16(1 + 0x1p-11) == 0x3c00)          // tie -> even (down)
    #expect(lk_f32_to_f16(1 + 3 * 0x1p-11) == 0x3c02)      // tie -> even (up)
    #expect(lk_f32_to_f16(0x1p-25) == 0 && lk_f32_to_f16(0x1.000002p-25) == 1)   // subnormal rounding
    #expect(lk_f32_to_f16(3 * 0x1p-25) == 2)               // 1.5 ulp ties to even 2
    #expect(lk_f16_to_f32(lk_f32_to_f16(.nan)).isNaN)
    var rng = QuantRNG(seed: 7), bad: [Float] = []
    for _ in 0..<20000 {   // random magnitudes over the whole f16 range, against Swift's Float16 conversion
        let f = Float(sign: rng.next() & 1 == 0 ? .plus : .minus, exponent: Int(rng.next() % 44) - 28,
                      significand: 1 + Float(rng.next() >> 41) / Float(1 << 23))
        if lk_f32_to_f16(f) != Float16(f).bitPattern { bad.append(f) }
    }
    #expect(bad.isEmpty, "first failing values: \(bad.prefix(8))")
}

@Test func bf16RoundsToNearestEven() {
    #expect(lk_f32_to_bf16(1) == 0x3f80 && lk_bf16_to_f32(0x3f80) == 1)
    #expect(lk_f32_to_bf16(1 + 0x1p-8) == 0x3f80)          // tie -> even (down)
    #expect(lk_f32_to_bf16(1 + 3 * 0x1p-8) == 0x3f82)      // tie -> even (up)
    #expect(lk_f32_to_bf16(-0.0) == 0x8000 && lk_f32_to_bf16(.infinity) == 0x7f80)
    #expect(lk_bf16_to_f32(lk_f32_to_bf16(.nan)).isNaN && lk_bf16_to_f32(lk_f32_to_bf16(Float(bitPattern: 0x7f800001))).isNaN)
    var bad: [UInt16] = []
    for h in 0...UInt16.max where !lk_bf16_to_f32(h).isNaN && lk_f32_to_bf16(lk_bf16_to_f32(h)) != h { bad.append(h) }
    #expect(bad.isEmpty, "first failing bf16 patterns: \(bad.prefix(8))")
}

// MARK: - Quantise / dequantise

@Test func quantizeDequantizeErrorBounds() {
    var rng = QuantRNG(seed: 11)
    let n = 32 * 64
    var x = rng.floats(n).map { $0 * 3 }
    x[5] = 0; for j in 32..<64 { x[j] = 0 }                  // an all-zero block (d = 0)
    for dtype in allDtypes {
        let y = dequantizeRef(quantize(x, rows: 1, n: n, dtype), rows: 1, n: n, dtype)
        for b in 0..<(n / 32) {
            let blk = Array(x[(b * 32)..<(b * 32 + 32)])
            let amax = blk.map(abs).max()!, lo = blk.min()!, hi = blk.max()!
            let bound: Float
            switch Int(dtype) {
            case LK_DTYPE_F32: bound = 0
            case LK_DTYPE_F16: bound = amax * 0x1p-11
            case LK_DTYPE_BF16: bound = amax * 0x1p-8
            case LK_DTYPE_Q8_0: bound = amax / 127 * 0.5 + amax * 0x1p-10
            case LK_DTYPE_Q4_0: bound = amax / 8 * 1.0 + amax * 0x1p-9
            default: bound = (hi - lo) / 15 * 0.5 + (abs(lo) + abs(hi)) * 0x1p-9
            }
            let worst = (0..<32).map { abs(y[b * 32 + $0] - blk[$0]) }.max()!
            #expect(worst <= bound, "dtype \(dtype) block \(b): err \(worst) bound \(bound)")
        }
    }
}

@Test func q4NibbleOrderAndGgmlRounding() {
    // Q4_0: values k*d - 8d for a block whose signed max is -8d: the nibbles are recovered exactly.
    var x = [Float](repeating: 0, count: 32)
    for j in 0..<32 { x[j] = Float(j % 16 - 8) * 0.25 }    // max magnitude -2 -> d = 0.25
    let q = quantize(x, rows: 1, n: 32, Int32(LK_DTYPE_Q4_0))
    #expect(q.count == 18 && lk_f16_to_f32(UInt16(q[0]) | UInt16(q[1]) << 8) == 0.25)
    for j in 0..<16 { #expect(q[2 + j] & 15 == UInt8(j % 16) && q[2 + j] >> 4 == UInt8(j % 16)) }
    // Q8_0: d = amax/127, q = round(x/d).
    var y = [Float](repeating: 0, count: 32); y[0] = 127; y[1] = -63.5; y[2] = 0.49
    let q8 = quantize(y, rows: 1, n: 32, Int32(LK_DTYPE_Q8_0))
    #expect(Int8(bitPattern: q8[2]) == 127 && Int8(bitPattern: q8[3]) == -64 && q8[4] == 0)
    // Q4_1: d = (max-min)/15, m = min.
    let z = (0..<32).map { Float($0 % 16) * 0.5 + 1 }
    let q41 = quantize(z, rows: 1, n: 32, Int32(LK_DTYPE_Q4_1))
    #expect(lk_f16_to_f32(UInt16(q41[0]) | UInt16(q41[1]) << 8) == 0.5 && lk_f16_to_f32(UInt16(q41[2]) | UInt16(q41[3]) << 8) == 1)
    #expect(dequantizeRef(q41, rows: 1, n: 32, Int32(LK_DTYPE_Q4_1)) == z)
}

@Test(arguments: allISAs)
func dequantizeMatchesReferenceBitwise(isa: Int32) {
    var rng = QuantRNG(seed: 21)
    let rows = 7, n = 32 * 9
    let x = rng.floats(rows * n).map { $0 * 5 }
    for dtype in allDtypes {
        let q = quantize(x, rows: rows, n: n, dtype)
        let want = dequantizeRef(q, rows: rows, n: n, dtype)
        var got = [Float](repeating: .nan, count: rows * n)
        let rb = rowBytes(n, dtype)
        q.withUnsafeBytes { qp in
            got.withUnsafeMutableBufferPointer { g in
                for r in 0..<rows { lk_dequantize_row_isa(isa, g.baseAddress! + r * n, qp.baseAddress! + r * rb, Int64(n), dtype) }
            }
        }
        #expect(got.map(\.bitPattern) == want.map(\.bitPattern), "dtype \(dtype) isa \(isa)")
        if dtype == Int32(LK_DTYPE_F16) || dtype == Int32(LK_DTYPE_BF16) {   // odd lengths hit the scalar tails
            var tail = [Float](repeating: .nan, count: 21), tailRef = tail
            q.withUnsafeBytes { qp in
                lk_dequantize_row_isa(isa, &tail, qp.baseAddress!, 21, dtype)
                lk_dequantize_row_ref(&tailRef, qp.baseAddress!, 21, dtype)
            }
            #expect(tail.map(\.bitPattern) == tailRef.map(\.bitPattern))
        }
        for t: Int32 in [1, 2, 3] {
            var all = [Float](repeating: .nan, count: rows * n)
            q.withUnsafeBytes { qp in lk_dequantize(&all, qp.baseAddress!, Int64(rows), Int64(n), dtype, t) }
            #expect(all.map(\.bitPattern) == want.map(\.bitPattern))
        }
    }
}

// MARK: - Quantised products

private func qgemm(isa: Int32?, _ y0: [Float], _ x: [Float], _ w: [UInt8], m: Int, n: Int, k: Int, dtype: Int32,
                   beta: Float, threads: Int32) -> [Float] {
    var y = y0
    x.withUnsafeBufferPointer { x in
        w.withUnsafeBytes { w in
            y.withUnsafeMutableBufferPointer { y in
                if let isa {
                    lk_qgemm_isa(isa, y.baseAddress, Int64(n + 1), x.baseAddress, Int64(k + 2), w.baseAddress,
                                 Int64(m), Int64(n), Int64(k), dtype, beta, threads)
                } else {
                    lk_qgemm_ref(y.baseAddress, Int64(n + 1), x.baseAddress, Int64(k + 2), w.baseAddress,
                                 Int64(m), Int64(n), Int64(k), dtype, beta)
                }
            }
        }
    }
    return y
}

private func qbackward(isa: Int32?, _ dx0: [Float], _ dy: [Float], _ w: [UInt8], m: Int, n: Int, k: Int,
                       dtype: Int32, threads: Int32) -> [Float] {
    var dx = dx0
    dy.withUnsafeBufferPointer { dy in
        w.withUnsafeBytes { w in
            dx.withUnsafeMutableBufferPointer { dx in
                if let isa {
                    lk_qgemm_backward_input_isa(isa, dx.baseAddress, Int64(k + 3), dy.baseAddress, Int64(n + 1),
                                                w.baseAddress, Int64(m), Int64(n), Int64(k), dtype, threads)
                } else {
                    lk_qgemm_backward_input_ref(dx.baseAddress, Int64(k + 3), dy.baseAddress, Int64(n + 1),
                                                w.baseAddress, Int64(m), Int64(n), Int64(k), dtype)
                }
            }
        }
    }
    return dx
}

private let qshapes: [(Int, Int, Int)] = [(1, 37, 64), (3, 50, 96), (2, 45, 576), (4, 33, 32), (9, 70, 320), (130, 65, 288),
                                          (20, 300, 576)]

@Test(arguments: allISAs)
func qgemmMatchesDequantizedReference(isa: Int32) {
    var seed: UInt64 = 300
    for dtype in allDtypes {
        for (m, n, k) in qshapes {
            var rng = QuantRNG(seed: seed); seed += 1
            let w = quantize(rng.floats(n * k), rows: n, n: k, dtype)
            let x = rng.floats(m * (k + 2))
            for beta: Float in [0, 0.5] {
                let y0 = beta == 0 ? [Float](repeating: .nan, count: m * (n + 1)) : rng.floats(m * (n + 1))
                let want = qgemm(isa: nil, y0, x, w, m: m, n: n, k: k, dtype: dtype, beta: beta, threads: 1)
                let got = qgemm(isa: isa, y0, x, w, m: m, n: n, k: k, dtype: dtype, beta: beta, threads: 2)
                let bound = Float(k + 2) * Float.ulpOfOne * Float(k) * 1.1 + 1e-5   // |x| < 1, |w| <~ 1.1
                var worst: Float = 0, pad = true
                for i in 0..<m {
                    for j in 0..<n {
                        let e = abs(got[i * (n + 1) + j] - want[i * (n + 1) + j])
                        worst = e.isNaN ? .infinity : max(worst, e)
                    }
                    pad = pad && got[i * (n + 1) + n].bitPattern == y0[i * (n + 1) + n].bitPattern
                }
                #expect(worst <= bound && pad, "dtype \(dtype) \(m)x\(n)x\(k) beta \(beta): worst \(worst)")
                for t: Int32 in [1, 3] {
                    let again = qgemm(isa: isa, y0, x, w, m: m, n: n, k: k, dtype: dtype, beta: beta, threads: t)
                    #expect(again.map(\.bitPattern) == got.map(\.bitPattern), "threads \(t)")
                }
            }
        }
    }
}

@Test(arguments: allISAs)
func qgemmBackwardInputMatchesDequantizedReference(isa: Int32) {
    var seed: UInt64 = 600
    for dtype in allDtypes {
        for (m, n, k) in qshapes {
            var rng = QuantRNG(seed: seed); seed += 1
            let w = quantize(rng.floats(n * k), rows: n, n: k, dtype)
            let dy = rng.floats(m * (n + 1))
            let dx0 = rng.floats(m * (k + 3))
            let want = qbackward(isa: nil, dx0, dy, w, m: m, n: n, k: k, dtype: dtype, threads: 1)
            let got = qbackward(isa: isa, dx0, dy, w, m: m, n: n, k: k, dtype: dtype, threads: 2)
            let bound = Float(n + 2) * Float.ulpOfOne * Float(n) * 1.1 + 1e-5
            var worst: Float = 0, pad = true
            for i in 0..<m {
                for j in 0..<k {
                    let e = abs(got[i * (k + 3) + j] - want[i * (k + 3) + j])
                    worst = e.isNaN ? .infinity : max(worst, e)
                }
                for j in k..<(k + 3) { pad = pad && got[i * (k + 3) + j] == dx0[i * (k + 3) + j] }
            }
            #expect(worst <= bound && pad, "dtype \(dtype) \(m)x\(n)x\(k): worst \(worst)")
            for t: Int32 in [1, 3] {
                let again = qbackward(isa: isa, dx0, dy, w, m: m, n: n, k: k, dtype: dtype, threads: t)
                #expect(again.map(\.bitPattern) == got.map(\.bitPattern), "threads \(t)")
            }
        }
    }
}

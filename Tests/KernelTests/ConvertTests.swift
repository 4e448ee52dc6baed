// f32 <-> f16 array conversions (lk_convert.h): every ISA build and thread count against the scalar _ref,
// bit for bit, on all 65,536 f16 patterns and on f32 values chosen to hit every rounding case.
import CLeaderKernels
import Testing

/// f32 test values: specials, NaN payloads (quiet and signalling, both signs), the overflow and underflow
/// boundaries, f16 subnormal ties, f32 subnormals, every f16 value and its neighbours, and random bits.
private func f32Cases() -> [Float] {
    var v: [Float] = [0, -0.0, .infinity, -.infinity, .nan, -.nan, 65504, 65519.99, 65520, -65520, 1e30, -1e30,
                      .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude,
                      -.leastNonzeroMagnitude, .leastNormalMagnitude, 0x1p-25, 0x1.000002p-25, 3 * 0x1p-25,
                      0x1p-24, 0x1p-14, 0x1.ffcp-15, 1 + 0x1p-11, 1 + 3 * 0x1p-11]
    for bits: UInt32 in [0x7f80_0001, 0x7fbf_ffff, 0x7fc0_0000, 0x7fff_ffff, 0x7f80_2000, 0x7fa0_0000, 0xff80_0001,
                         0xffc1_2345, 0x0000_0001, 0x807f_ffff] {
        v.append(Float(bitPattern: bits))
    }
    for h in 0...UInt16.max {
        let f = lk_f16_to_f32(h)
        v.append(f)
        v.append(f.nextUp)
        v.append(f.nextDown)
        // The exact midpoint to the next f16 (a tie), when both are finite.
        let g = lk_f16_to_f32(h &+ 1)
        if f.isFinite, g.isFinite, h & 0x7fff < 0x7bff { v.append((f + g) / 2) }
    }
    var s: UInt64 = 0x9E37_79B9_7F4A_7C15
    for _ in 0..<100_000 {
        s ^= s >> 12; s ^= s << 25; s ^= s >> 27
        v.append(Float(bitPattern: UInt32(truncatingIfNeeded: (s &* 0x2545_F491_4F6C_DD1D) >> 32)))
    }
    return v
}

private let convertISAs: [Int32] = [Int32(LK_ISA_GENERIC), Int32(LK_ISA_AVX2), Int32(LK_ISA_AVX512)]

@Test func convertF32ToF16MatchesRef() {
    let x = f32Cases()
    var want = [UInt16](repeating: 0, count: x.count)
    lk_convert_f32_to_f16_ref(&want, x, Int64(x.count))
    // The reference is the scalar converter, which agrees with Swift's Float16 on every non-NaN value.
    var bad = 0
    for (f, h) in zip(x, want) where !f.isNaN && Float16(f).bitPattern != h { bad += 1 }
    #expect(bad == 0, "\(bad) values where the scalar converter differs from Float16")
    #expect(want[4] == 0x7e00 && want[5] == 0xfe00)   // NaN -> quiet NaN with its sign
    for isa in convertISAs {
        for threads: Int32 in [1, 3] {
            // Odd lengths and offsets exercise the scalar tails and unaligned vectors.
            for (offset, n) in [(0, x.count), (1, x.count - 1), (3, 37), (5, 15), (0, 0)] {
                var got = [UInt16](repeating: 0xAAAA, count: n)
                x.withUnsafeBufferPointer { p in lk_convert_f32_to_f16_isa(isa, &got, p.baseAddress! + offset, Int64(n), threads) }
                let mismatch = (0..<n).first { got[$0] != want[offset + $0] }
                #expect(mismatch == nil, "isa \(isa) threads \(threads) offset \(offset): \(mismatch.map { "\(x[offset + $0].bitPattern) -> \(got[$0]), want \(want[offset + $0])" } ?? "")")
            }
        }
    }
    var got = [UInt16](repeating: 0, count: x.count)
    lk_convert_f32_to_f16(&got, x, Int64(x.count), 2)
    #expect(got == want)
}

@Test func convertF16ToF32MatchesRef() {
    // Every pattern (all NaN payloads, signalling ones included, subnormals, infinities), twice, shifted.
    let h = (0...UInt16.max).map { $0 } + (0...UInt16.max).reversed()
    var want = [Float](repeating: 0, count: h.count)
    lk_convert_f16_to_f32_ref(&want, h, Int64(h.count))
    #expect(want[0x7c01].bitPattern == 0x7f80_2000)   // signalling NaN kept signalling
    #expect(want[0x0001] == 0x1p-24 && want[0x7c00] == .infinity && want[0x8000].bitPattern == 0x8000_0000)
    for isa in convertISAs {
        for threads: Int32 in [1, 3] {
            for (offset, n) in [(0, h.count), (1, h.count - 1), (7, 9), (2, 33)] {
                var got = [Float](repeating: 1, count: n)
                h.withUnsafeBufferPointer { p in lk_convert_f16_to_f32_isa(isa, &got, p.baseAddress! + offset, Int64(n), threads) }
                let mismatch = (0..<n).first { got[$0].bitPattern != want[offset + $0].bitPattern }
                #expect(mismatch == nil, "isa \(isa) threads \(threads) offset \(offset): pattern \(mismatch.map { h[offset + $0] } ?? 0)")
            }
        }
    }
    var got = [Float](repeating: 0, count: h.count)
    lk_convert_f16_to_f32(&got, h, Int64(h.count), 2)
    #expect(zip(got, want).allSatisfy { $0.bitPattern == $1.bitPattern })
}

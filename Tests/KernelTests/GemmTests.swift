// SGEMM kernels (lk_gemm.h) against the naive double-accumulation reference, for every ISA build.
import CLeaderKernels
import Testing

/// Deterministic xorshift64* generator: same data on every run and platform.
private struct GemmRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> UInt64 {
        state ^= state >> 12; state ^= state << 25; state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
    mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in float() } }
}


/// One GEMM problem with padded leading dimensions (lda > k etc.).
private struct Problem {
    let m: Int, n: Int, k: Int, ta: Bool, tb: Bool
    let alpha: Float, beta: Float
    var lda: Int { (ta ? m : k) + 3 }
    var ldb: Int { (tb ? k : n) + 5 }
    var ldc: Int { n + 2 }
    var aCount: Int { (ta ? k : m) * lda }
    var bCount: Int { (tb ? n : k) * ldb }
    var cCount: Int { m * ldc }
}

private struct Operands {
    var a: [Float], b: [Float], c: [Float]
    init(_ p: Problem, seed: UInt64) {
        var rng = GemmRNG(seed: seed)
        a = rng.floats(max(p.aCount, 1)); b = rng.floats(max(p.bCount, 1))
        // beta == 0 must not read C: fill it with NaN so any read shows up in the result.
        c = p.beta == 0 ? [Float](repeating: .nan, count: max(p.cCount, 1)) : rng.floats(max(p.cCount, 1))
    }
}

/// C after lk_sgemm_isa / lk_sgemm_ref.
private func runSgemm(_ p: Problem, _ o: Operands, isa: Int32?, threads: Int32) -> [Float] {
    var c = o.c
    o.a.withUnsafeBufferPointer { a in
        o.b.withUnsafeBufferPointer { b in
            c.withUnsafeMutableBufferPointer { c in
                let (m, n, k) = (Int64(p.m), Int64(p.n), Int64(p.k))
                let (ta, tb) = (p.ta ? Int32(1) : 0, p.tb ? Int32(1) : 0)
                if let isa {
                    lk_sgemm_isa(isa, c.baseAddress, Int64(p.ldc), a.baseAddress, Int64(p.lda), b.baseAddress,
                                 Int64(p.ldb), m, n, k, ta, tb, p.alpha, p.beta, threads)
                } else {
                    lk_sgemm_ref(c.baseAddress, Int64(p.ldc), a.baseAddress, Int64(p.lda), b.baseAddress,
                                 Int64(p.ldb), m, n, k, ta, tb, p.alpha, p.beta)
                }
            }
        }
    }
    return c
}

/// Per-element error bound for float accumulation: (K+2)·2u·(|α|·|A||B| + |β||C|), from the reference on
/// absolute values; plus a tiny absolute slack.
private func tolerance(_ p: Problem, _ o: Operands) -> [Float] {
    let absP = Problem(m: p.m, n: p.n, k: p.k, ta: p.ta, tb: p.tb, alpha: abs(p.alpha), beta: abs(p.beta))
    var absO = o
    absO.a = o.a.map(abs); absO.b = o.b.map(abs); absO.c = o.c.map { $0.isNaN ? 0 : abs($0) }
    let mag = runSgemm(absP, absO, isa: nil, threads: 1)
    let u = Float(p.k + 2) * 2 * Float.ulpOfOne / 2
    return mag.map { $0 * u + 1e-30 }
}

/// Compares the visible m x n part of C; the padding columns must be untouched.
private func expectClose(_ got: [Float], _ want: [Float], _ tol: [Float], _ p: Problem, _ what: String) {
    var bad = 0, first = ""
    for i in 0..<p.m {
        for j in 0..<p.ldc {
            let x = i * p.ldc + j
            let ok = j < p.n ? (abs(got[x] - want[x]) <= tol[x]) : (got[x].bitPattern == want[x].bitPattern)
            if !ok { bad += 1; if first.isEmpty { first = "(\(i),\(j)) got \(got[x]) want \(want[x]) tol \(tol[x])" } }
        }
    }
    #expect(bad == 0, "\(what): \(bad) bad elements, first \(first)")
}

private let shapes: [(Int, Int, Int)] = [
    (1, 1, 1), (7, 13, 5), (33, 65, 17), (64, 1536, 384), (130, 70, 300), (2, 100, 50), (3, 33, 700),
    (65, 257, 513), (8, 40, 3),
]
private let scalars: [(Float, Float)] = [(1, 0), (-1.5, 0.5), (1, 1)]

@Test(arguments: allISAs)
func sgemmMatchesReference(isa: Int32) {
    var seed: UInt64 = 1
    for (m, n, k) in shapes {
        for ta in [false, true] {
            for tb in [false, true] {
                for (alpha, beta) in scalars {
                    // The large shape once per transpose combo is enough.
                    if m * n * k > 1_000_000 && beta != 0 { continue }
                    let p = Problem(m: m, n: n, k: k, ta: ta, tb: tb, alpha: alpha, beta: beta)
                    let o = Operands(p, seed: seed); seed += 1
                    let want = runSgemm(p, o, isa: nil, threads: 1)
                    let got = runSgemm(p, o, isa: isa, threads: 2)
                    expectClose(got, want, tolerance(p, o), p,
                                "isa \(isa) \(m)x\(n)x\(k) ta \(ta) tb \(tb) alpha \(alpha) beta \(beta)")
                }
            }
        }
    }
}

@Test(arguments: allISAs)
func sgemmDegenerateSizes(isa: Int32) {
    // K == 0: C = beta*C; beta == 0 writes zeros over NaN.
    for beta: Float in [0, 0.5] {
        let p = Problem(m: 5, n: 6, k: 0, ta: false, tb: false, alpha: 2, beta: beta)
        let o = Operands(p, seed: 77)
        let got = runSgemm(p, o, isa: isa, threads: 2)
        for i in 0..<5 { for j in 0..<6 {
            let x = i * p.ldc + j
            #expect(got[x] == (beta == 0 ? 0 : beta * o.c[x]))
        } }
    }
    // M == 0 or N == 0: nothing is written.
    for (m, n) in [(0, 4), (4, 0)] {
        let p = Problem(m: m, n: n, k: 3, ta: false, tb: false, alpha: 1, beta: 0)
        let o = Operands(p, seed: 78)
        let got = runSgemm(p, o, isa: isa, threads: 2)
        #expect(got.map(\.bitPattern) == o.c.map(\.bitPattern))
    }
    // alpha == 0 does not read A or B.
    let p = Problem(m: 4, n: 4, k: 4, ta: false, tb: false, alpha: 0, beta: 0.5)
    var o = Operands(p, seed: 79)
    o.a = o.a.map { _ in .nan }
    let got = runSgemm(p, o, isa: isa, threads: 1)
    for i in 0..<4 { for j in 0..<4 { #expect(got[i * p.ldc + j] == 0.5 * o.c[i * p.ldc + j]) } }
}

@Test(arguments: allISAs)
func sgemmIsBitwiseThreadInvariant(isa: Int32) {
    let cases: [(Int, Int, Int, Bool, Bool)] = [
        (1, 300, 70, false, false), (3, 129, 65, true, true), (8, 1536, 384, false, false),
        (64, 100, 600, false, true), (200, 300, 270, true, false), (97, 1100, 40, false, false),
        (300, 50, 70, false, true),   // tall: threads split rows (grid 2x1, 3x1), not columns
    ]
    for (i, (m, n, k, ta, tb)) in cases.enumerated() {
        let p = Problem(m: m, n: n, k: k, ta: ta, tb: tb, alpha: 0.75, beta: 0.5)
        let o = Operands(p, seed: 500 + UInt64(i))
        let one = runSgemm(p, o, isa: isa, threads: 1).map(\.bitPattern)
        for t: Int32 in [2, 3] {
            #expect(runSgemm(p, o, isa: isa, threads: t).map(\.bitPattern) == one, "\(m)x\(n)x\(k) threads \(t)")
        }
    }
}

/// C after lk_sgemm_batched_isa / lk_sgemm_batched_ref; entries stride by their (padded) sizes plus 7.
private func runBatched(_ p: Problem, batch: Int, _ o: Operands, isa: Int32?, threads: Int32) -> [Float] {
    var c = o.c
    let (sa, sb, sc) = (Int64(p.aCount + 7), Int64(p.bCount + 7), Int64(p.cCount + 7))
    o.a.withUnsafeBufferPointer { a in
        o.b.withUnsafeBufferPointer { b in
            c.withUnsafeMutableBufferPointer { c in
                let (m, n, k) = (Int64(p.m), Int64(p.n), Int64(p.k))
                let (ta, tb) = (p.ta ? Int32(1) : 0, p.tb ? Int32(1) : 0)
                if let isa {
                    lk_sgemm_batched_isa(isa, c.baseAddress, Int64(p.ldc), sc, a.baseAddress, Int64(p.lda), sa,
                                         b.baseAddress, Int64(p.ldb), sb, Int64(batch), m, n, k, ta, tb,
                                         p.alpha, p.beta, threads)
                } else {
                    lk_sgemm_batched_ref(c.baseAddress, Int64(p.ldc), sc, a.baseAddress, Int64(p.lda), sa,
                                         b.baseAddress, Int64(p.ldb), sb, Int64(batch), m, n, k, ta, tb,
                                         p.alpha, p.beta)
                }
            }
        }
    }
    return c
}

@Test(arguments: allISAs)
func sgemmBatchedMatchesReferenceAndIsThreadInvariant(isa: Int32) {
    let cases: [(Int, Int, Int, Int, Bool, Bool, Float)] = [
        (32, 16, 16, 16, false, true, 0), (32, 16, 16, 16, false, false, 0.5), (3, 70, 50, 40, true, false, 1),
        (5, 2, 33, 19, false, true, 0), (1, 130, 90, 64, false, false, 0),
    ]
    for (i, (batch, m, n, k, ta, tb, beta)) in cases.enumerated() {
        let p = Problem(m: m, n: n, k: k, ta: ta, tb: tb, alpha: -1.25, beta: beta)
        // Operands for the whole batch: each entry is `count + 7` floats apart.
        let big = Problem(m: m, n: n, k: k, ta: ta, tb: tb, alpha: p.alpha, beta: beta)
        var o = Operands(big, seed: 900 + UInt64(i))
        var rng = GemmRNG(seed: 1000 + UInt64(i))
        o.a = rng.floats(batch * (p.aCount + 7)); o.b = rng.floats(batch * (p.bCount + 7))
        o.c = beta == 0 ? [Float](repeating: .nan, count: batch * (p.cCount + 7)) : rng.floats(batch * (p.cCount + 7))
        let want = runBatched(p, batch: batch, o, isa: nil, threads: 1)
        let one = runBatched(p, batch: batch, o, isa: isa, threads: 1)
        let bound = Float(k + 2) * Float.ulpOfOne * Float(k) * 1.25 * 2 + 1e-6   // |a|,|b| < 1, |alpha| = 1.25
        var worst: Float = 0, nanSeen = false
        for b in 0..<batch {
            for r in 0..<m { for j in 0..<n {
                let x = b * (p.cCount + 7) + r * p.ldc + j
                if one[x].isNaN { nanSeen = true }
                worst = max(worst, abs(one[x] - want[x]))
            } }
        }
        #expect(!nanSeen && worst <= bound, "batch \(batch) \(m)x\(n)x\(k): worst \(worst) bound \(bound)")
        for t: Int32 in [2, 3] {
            #expect(runBatched(p, batch: batch, o, isa: isa, threads: t).map(\.bitPattern) == one.map(\.bitPattern),
                    "batch \(batch) \(m)x\(n)x\(k) threads \(t)")
        }
        // A batched entry equals the single-matrix call.
        var single = Operands(p, seed: 1)
        single.a = Array(o.a[0..<p.aCount]); single.b = Array(o.b[0..<p.bCount]); single.c = Array(o.c[0..<p.cCount])
        let s = runSgemm(p, single, isa: isa, threads: 2)
        #expect(s.map(\.bitPattern) == Array(one[0..<p.cCount]).map(\.bitPattern))
    }
}

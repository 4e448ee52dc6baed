// Shared helpers of the ops kernel tests: deterministic data, ISA selection, tolerant and bitwise comparison,
// central finite differences.
import Testing
import CLeaderKernels

/// splitmix64: deterministic test data independent of the platform RNG.
struct TestRNG {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [lo, hi).
    mutating func float(_ lo: Float = -1, _ hi: Float = 1) -> Float {
        lo + (hi - lo) * Float(next() >> 40) * 0x1p-24
    }
    mutating func floats(_ n: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] {
        (0..<n).map { _ in float(lo, hi) }
    }
    mutating func int(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

/// Every ISA build; ISAs the CPU lacks are clamped down by the kernels (then a lower build is tested twice).
let allISAs: [Int32] = [Int32(LK_ISA_GENERIC), Int32(LK_ISA_AVX2), Int32(LK_ISA_AVX512)]

/// Row/column shapes from the brief: tiny, odd, not multiples of 16, long rows.
let awkwardShapes: [(rows: Int, cols: Int)] = [(1, 1), (3, 7), (17, 33), (64, 300), (5, 1000)]

/// Runs `body` with the ops kernels of this thread forced to `isa` (thread-local, so parallel tests are unaffected).
/// Test functions using it are synchronous, so they stay on one thread.
func withISA<T>(_ isa: Int32, _ body: () throws -> T) rethrows -> T {
    let prev = lk_ops_set_isa_for_thread(isa)
    defer { _ = lk_ops_set_isa_for_thread(prev) }
    return try body()
}

func isaName(_ isa: Int32) -> String { String(cString: lk_isa_name(lk_isa_clamp(isa))) }

/// Largest violation of |a-b| <= atol + rtol*|b| (<= 0 means all within); records a failure with context.
@discardableResult
func expectClose(_ a: [Float], _ b: [Float], rtol: Float = 1e-5, atol: Float = 1e-6, _ what: @autoclosure () -> String,
                 sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
    guard a.count == b.count else {
        Issue.record("\(what()): count \(a.count) vs \(b.count)", sourceLocation: sourceLocation)
        return false
    }
    var worst = -Float.infinity, at = -1
    for i in a.indices {
        let excess: Float
        if a[i].isNaN || b[i].isNaN { excess = a[i].isNaN && b[i].isNaN ? 0 : .infinity }
        else { excess = abs(a[i] - b[i]) - (atol + rtol * abs(b[i])) }
        if excess > worst { worst = excess; at = i }
    }
    if worst > 0 {
        Issue.record("\(what()): element \(at): \(a[at]) vs \(b[at])", sourceLocation: sourceLocation)
        return false
    }
    return true
}

func expectClose(_ a: Float, _ b: Float, rtol: Float = 1e-5, atol: Float = 1e-6, _ what: @autoclosure () -> String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    expectClose([a], [b], rtol: rtol, atol: atol, what(), sourceLocation: sourceLocation)
}

/// Bitwise equality (distinguishes -0/+0 and NaN payloads).
func bits(_ a: [Float]) -> [UInt32] { a.map(\.bitPattern) }

/// Thread counts for the bitwise-identity checks.
let threadCounts: [Int32] = [1, 2, 3]

/// Checks `run(nt)` gives bitwise the same arrays for 1, 2 and 3 threads.
func expectThreadInvariant(_ what: String, sourceLocation: SourceLocation = #_sourceLocation,
                           _ run: (Int32) -> [[Float]]) {
    let base = run(1).map(bits)
    for nt in threadCounts.dropFirst() {
        #expect(run(nt).map(bits) == base, "\(what): \(nt) threads differ from 1", sourceLocation: sourceLocation)
    }
}

/// Indices to probe with finite differences: all for small inputs, else a deterministic sample.
func probeIndices(_ n: Int, max: Int = 16, seed: UInt64 = 7) -> [Int] {
    if n <= max { return Array(0..<n) }
    var rng = TestRNG(seed)
    return (0..<max).map { _ in rng.int(n) }
}

/// Central finite difference of the scalar `loss(x)` w.r.t. x[i], evaluated in float with step h.
func centralDifference(_ x: [Float], _ i: Int, h: Float, _ loss: ([Float]) -> Double) -> Double {
    var xp = x, xm = x
    xp[i] += h
    xm[i] -= h
    let hp = Double(xp[i] - x[i]), hm = Double(x[i] - xm[i])  // the steps actually taken in float
    return (loss(xp) - loss(xm)) / (hp + hm)
}

/// Compares an analytic gradient with central differences at the probe indices:
/// |fd - g| <= atol + rtol*|g|. A wrong formula (missing term, wrong sign/factor) breaks this by O(1).
func expectGradient(_ grad: [Float], _ x: [Float], h: Float = 1e-2, rtol: Double = 2e-2, atol: Double = 2e-3,
                    _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
                    loss: ([Float]) -> Double) {
    for i in probeIndices(x.count) {
        let fd = centralDifference(x, i, h: h, loss)
        let g = Double(grad[i])
        #expect(abs(fd - g) <= atol + rtol * abs(g), "\(what): d/dx[\(i)] analytic \(g) vs numeric \(fd)",
                sourceLocation: sourceLocation)
    }
}

/// sum_i w[i]*y[i] in double: the scalar whose gradient w.r.t. y is w (the dout of the backward pass).
func weightedSum(_ y: [Float], _ w: [Float]) -> Double {
    var s = 0.0
    for i in y.indices { s += Double(y[i]) * Double(w[i]) }
    return s
}

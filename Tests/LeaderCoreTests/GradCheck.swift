@testable import LeaderCore

/// Deterministic test data in [-scale, scale).
func testValues(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var g = SplitMix64(seed: seed)
    return (0..<n).map { _ in (Float(g.next() >> 40) / Float(1 << 24) * 2 - 1) * scale }
}

func testTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) throws -> Tensor {
    try Tensor(shape: shape, values: testValues(try Shape.count(shape), seed: seed, scale: scale))
}

/// The central difference (L(x_i + eps) − L(x_i − eps)) / 2·eps of `loss` in element `i` of `t`; `t` is restored.
func centralDifference(_ t: Tensor, _ i: Int, eps: Float = 1e-2, _ loss: () throws -> Double) rethrows -> Double {
    let orig = t.pointer[i]
    defer { t.pointer[i] = orig }
    t.pointer[i] = orig + eps
    let lp = try loss()
    t.pointer[i] = orig - eps
    let lm = try loss()
    return (lp - lm) / (2 * Double(eps))
}

/// Finite-difference check of a module's backward. The scalar is L = Σ out ⊙ R for a fixed random R, so
/// dOut = R. Every element of `input` (when given) and of every parameter in `store` is perturbed by ±eps;
/// the result maps "input" and each parameter name to ‖fd − analytic‖ / max(‖fd‖, ‖analytic‖).
/// Also returns the analytic norms, so tests can insist the gradients are not trivially zero.
func gradientCheck(store: ParameterStore, input: Tensor?, eps: Float = 1e-2,
                   forward: () throws -> Tensor,
                   backward: (_ dOut: Tensor, _ dIn: Tensor?) throws -> Void) throws
    -> [String: (relError: Double, norm: Double)]
{
    let out0 = try forward()
    let r = testValues(out0.count, seed: 99)
    let dOut = try Tensor(shape: out0.shape, values: r)
    store.zeroGrad()
    let dIn = try input.map { x throws(LeaderError) in try Tensor(zeros: x.shape) }
    try backward(dOut, dIn)

    func loss() throws -> Double {
        let out = try forward()
        var s = 0.0
        for (o, w) in zip(UnsafeBufferPointer(start: out.pointer, count: out.count), r) { s += Double(o) * Double(w) }
        return s
    }
    func compare(_ t: Tensor, analytic: [Float]) throws -> (Double, Double) {
        var diff = 0.0, nf = 0.0, na = 0.0
        for i in 0..<t.count {
            let fd = try centralDifference(t, i, eps: eps, loss), a = Double(analytic[i])
            diff += (fd - a) * (fd - a)
            nf += fd * fd
            na += a * a
        }
        return (diff.squareRoot() / max(nf.squareRoot(), na.squareRoot(), 1e-8), na.squareRoot())
    }

    var result: [String: (relError: Double, norm: Double)] = [:]
    if let input, let dIn { result["input"] = try compare(input, analytic: dIn.toArray()) }
    for p in store.parameters {
        result[p.name] = try compare(store.value(p), analytic: store.grad(p).toArray())
    }
    return result
}

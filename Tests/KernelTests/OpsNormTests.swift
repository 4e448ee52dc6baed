// LayerNorm and RMSNorm: optimised vs _ref for every ISA and awkward shapes, finite differences for every
// backward output, bitwise identity across thread counts.
import Testing
import CLeaderKernels

private let eps: Float = 1e-5

private func layernorm(_ x: [Float], _ w: [Float], _ b: [Float]?, _ rows: Int, _ C: Int,
                       threads: Int32? = nil) -> (out: [Float], mean: [Float], rstd: [Float]) {
    var out = [Float](repeating: .nan, count: rows * C)
    var mean = [Float](repeating: .nan, count: rows), rstd = mean
    if let threads {
        if let b { lk_layernorm_forward_isa(testISA, &out, &mean, &rstd, x, w, b, Int64(rows), Int64(C), eps, threads) }
        else { lk_layernorm_forward_isa(testISA, &out, &mean, &rstd, x, w, nil, Int64(rows), Int64(C), eps, threads) }
    } else {
        if let b { lk_layernorm_forward_ref(&out, &mean, &rstd, x, w, b, Int64(rows), Int64(C), eps) }
        else { lk_layernorm_forward_ref(&out, &mean, &rstd, x, w, nil, Int64(rows), Int64(C), eps) }
    }
    return (out, mean, rstd)
}

/// Backward accumulating into the given starting gradients (dbias nil = no bias).
private func layernormBackward(_ din0: [Float], _ dw0: [Float], _ db0: [Float]?, _ dout: [Float], _ x: [Float],
                               _ w: [Float], _ mean: [Float], _ rstd: [Float], _ rows: Int, _ C: Int,
                               threads: Int32? = nil) -> (din: [Float], dw: [Float], db: [Float]?) {
    var din = din0, dw = dw0, db = db0 ?? []
    let hasBias = db0 != nil
    switch (threads, hasBias) {
    case (let nt?, true):
        lk_layernorm_backward_isa(testISA, &din, &dw, &db, dout, x, w, mean, rstd, Int64(rows), Int64(C), nt)
    case (let nt?, false):
        lk_layernorm_backward_isa(testISA, &din, &dw, nil, dout, x, w, mean, rstd, Int64(rows), Int64(C), nt)
    case (nil, true):
        lk_layernorm_backward_ref(&din, &dw, &db, dout, x, w, mean, rstd, Int64(rows), Int64(C))
    case (nil, false):
        lk_layernorm_backward_ref(&din, &dw, nil, dout, x, w, mean, rstd, Int64(rows), Int64(C))
    }
    return (din, dw, hasBias ? db : nil)
}

@Test(arguments: awkwardShapes.indices)
func layernormMatchesReference(_ shapeIndex: Int) {
    let (rows, C) = awkwardShapes[shapeIndex]
    var rng = TestRNG(UInt64(100 + shapeIndex))
    let x = rng.floats(rows * C, -2, 3), w = rng.floats(C, 0.5, 1.5), b = rng.floats(C)
    let dout = rng.floats(rows * C), din0 = rng.floats(rows * C), dw0 = rng.floats(C), db0 = rng.floats(C)
    for bias in [b, nil] as [[Float]?] {
        let ref = layernorm(x, w, bias, rows, C)
        let refB = layernormBackward(din0, dw0, bias == nil ? nil : db0, dout, x, w, ref.mean, ref.rstd, rows, C)
        for isa in allISAs {
            withISA(isa) {
                let tag = "layernorm \(rows)x\(C) bias=\(bias != nil) \(isaName(isa))"
                let opt = layernorm(x, w, bias, rows, C, threads: 2)
                expectClose(opt.out, ref.out, rtol: 1e-5, atol: 2e-5, "\(tag) out")
                expectClose(opt.mean, ref.mean, rtol: 1e-5, atol: 1e-6, "\(tag) mean")
                expectClose(opt.rstd, ref.rstd, rtol: 1e-5, atol: 1e-6, "\(tag) rstd")
                let optB = layernormBackward(din0, dw0, bias == nil ? nil : db0, dout, x, w, ref.mean, ref.rstd,
                                             rows, C, threads: 2)
                expectClose(optB.din, refB.din, rtol: 1e-4, atol: 2e-5, "\(tag) din")
                expectClose(optB.dw, refB.dw, rtol: 1e-5, atol: 2e-5, "\(tag) dweight")
                if let db = optB.db, let rdb = refB.db { expectClose(db, rdb, rtol: 1e-5, atol: 2e-5, "\(tag) dbias") }
            }
        }
    }
}

@Test(arguments: [(3, 7), (4, 33)])
func layernormGradientsMatchFiniteDifferences(_ rows: Int, _ C: Int) {
    var rng = TestRNG(UInt64(rows * 1000 + C))
    let x = rng.floats(rows * C, -2, 2), w = rng.floats(C, 0.5, 1.5), b = rng.floats(C), dout = rng.floats(rows * C)
    let fwd = layernorm(x, w, b, rows, C)
    let g = layernormBackward([Float](repeating: 0, count: rows * C), [Float](repeating: 0, count: C),
                              [Float](repeating: 0, count: C), dout, x, w, fwd.mean, fwd.rstd, rows, C, threads: 2)
    expectGradient(g.din, x, "layernorm din") { weightedSum(layernorm($0, w, b, rows, C).out, dout) }
    expectGradient(g.dw, w, "layernorm dweight") { weightedSum(layernorm(x, $0, b, rows, C).out, dout) }
    expectGradient(g.db!, b, "layernorm dbias") { weightedSum(layernorm(x, w, $0, rows, C).out, dout) }
}

@Test func layernormIsThreadInvariant() {
    let (rows, C) = (97, 700)
    var rng = TestRNG(5)
    let x = rng.floats(rows * C, -2, 3), w = rng.floats(C, 0.5, 1.5), b = rng.floats(C), dout = rng.floats(rows * C)
    let z = [Float](repeating: 0, count: rows * C), zc = [Float](repeating: 0, count: C)
    for isa in allISAs {
        withISA(isa) {
            expectThreadInvariant("layernorm \(isaName(isa))") { nt in
                let f = layernorm(x, w, b, rows, C, threads: nt)
                let g = layernormBackward(z, zc, zc, dout, x, w, f.mean, f.rstd, rows, C, threads: nt)
                return [f.out, f.mean, f.rstd, g.din, g.dw, g.db!]
            }
        }
    }
}

// MARK: - RMSNorm

private func rmsnorm(_ x: [Float], _ w: [Float], _ rows: Int, _ C: Int,
                     threads: Int32? = nil) -> (out: [Float], rstd: [Float]) {
    var out = [Float](repeating: .nan, count: rows * C), rstd = [Float](repeating: .nan, count: rows)
    if let threads { lk_rmsnorm_forward_isa(testISA, &out, &rstd, x, w, Int64(rows), Int64(C), eps, threads) }
    else { lk_rmsnorm_forward_ref(&out, &rstd, x, w, Int64(rows), Int64(C), eps) }
    return (out, rstd)
}

private func rmsnormBackward(_ din0: [Float], _ dw0: [Float]?, _ dout: [Float], _ x: [Float], _ w: [Float],
                             _ rstd: [Float], _ rows: Int, _ C: Int,
                             threads: Int32? = nil) -> (din: [Float], dw: [Float]?) {
    var din = din0, dw = dw0 ?? []
    let hasDW = dw0 != nil
    switch (threads, hasDW) {
    case (let nt?, true): lk_rmsnorm_backward_isa(testISA, &din, &dw, dout, x, w, rstd, Int64(rows), Int64(C), nt)
    case (let nt?, false): lk_rmsnorm_backward_isa(testISA, &din, nil, dout, x, w, rstd, Int64(rows), Int64(C), nt)
    case (nil, true): lk_rmsnorm_backward_ref(&din, &dw, dout, x, w, rstd, Int64(rows), Int64(C))
    case (nil, false): lk_rmsnorm_backward_ref(&din, nil, dout, x, w, rstd, Int64(rows), Int64(C))
    }
    return (din, hasDW ? dw : nil)
}

@Test(arguments: awkwardShapes.indices)
func rmsnormMatchesReference(_ shapeIndex: Int) {
    let (rows, C) = awkwardShapes[shapeIndex]
    var rng = TestRNG(UInt64(200 + shapeIndex))
    let x = rng.floats(rows * C, -2, 3), w = rng.floats(C, 0.5, 1.5)
    let dout = rng.floats(rows * C), din0 = rng.floats(rows * C), dw0 = rng.floats(C)
    let ref = rmsnorm(x, w, rows, C)
    for frozen in [false, true] {
        let refB = rmsnormBackward(din0, frozen ? nil : dw0, dout, x, w, ref.rstd, rows, C)
        for isa in allISAs {
            withISA(isa) {
                let tag = "rmsnorm \(rows)x\(C) frozen=\(frozen) \(isaName(isa))"
                let opt = rmsnorm(x, w, rows, C, threads: 2)
                expectClose(opt.out, ref.out, rtol: 1e-5, atol: 1e-6, "\(tag) out")
                expectClose(opt.rstd, ref.rstd, rtol: 1e-5, atol: 1e-6, "\(tag) rstd")
                let optB = rmsnormBackward(din0, frozen ? nil : dw0, dout, x, w, ref.rstd, rows, C, threads: 2)
                expectClose(optB.din, refB.din, rtol: 1e-4, atol: 2e-5, "\(tag) din")
                if let dw = optB.dw, let rdw = refB.dw { expectClose(dw, rdw, rtol: 1e-5, atol: 2e-5, "\(tag) dweight") }
            }
        }
    }
}

@Test(arguments: [(3, 7), (4, 33)])
func rmsnormGradientsMatchFiniteDifferences(_ rows: Int, _ C: Int) {
    var rng = TestRNG(UInt64(rows * 1000 + C + 1))
    let x = rng.floats(rows * C, -2, 2), w = rng.floats(C, 0.5, 1.5), dout = rng.floats(rows * C)
    let fwd = rmsnorm(x, w, rows, C)
    let g = rmsnormBackward([Float](repeating: 0, count: rows * C), [Float](repeating: 0, count: C), dout, x, w,
                            fwd.rstd, rows, C, threads: 2)
    expectGradient(g.din, x, "rmsnorm din") { weightedSum(rmsnorm($0, w, rows, C).out, dout) }
    expectGradient(g.dw!, w, "rmsnorm dweight") { weightedSum(rmsnorm(x, $0, rows, C).out, dout) }
}

@Test func rmsnormIsThreadInvariant() {
    let (rows, C) = (97, 700)
    var rng = TestRNG(6)
    let x = rng.floats(rows * C, -2, 3), w = rng.floats(C, 0.5, 1.5), dout = rng.floats(rows * C)
    let z = [Float](repeating: 0, count: rows * C), zc = [Float](repeating: 0, count: C)
    for isa in allISAs {
        withISA(isa) {
            expectThreadInvariant("rmsnorm \(isaName(isa))") { nt in
                let f = rmsnorm(x, w, rows, C, threads: nt)
                let g = rmsnormBackward(z, zc, dout, x, w, f.rstd, rows, C, threads: nt)
                return [f.out, f.rstd, g.din, g.dw!]
            }
        }
    }
}

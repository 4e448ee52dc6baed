import Testing
@testable import LeaderCore

/// Wraps a scalar loss as a 1-element "module output" for `gradientCheck`.
private func scalar(_ v: Float) throws -> Tensor { try Tensor(shape: [1], values: [v]) }

@Test func bceWithLogitsValueAndGradient() throws {
    let store = try ParameterStore(seed: 1)
    let ctx = try Context()
    let loss = BCEWithLogitsLoss()
    let logits = try Tensor(shape: [2, 2], values: [0, 2, -1, 30])
    let targets = try Tensor(shape: [2, 2], values: [1, 0, 0, 1])
    // mean of log(2), 2+log(1+e^-2), log(1+e^-1), log(1+e^-30)
    let expected = (0.693147180 + 2.126928011 + 0.313261687 + 9.4e-14) / 4
    #expect(abs(Double(try loss.forward(logits, targets: targets, ctx)) - expected) < 1e-6)
    let r = try gradientCheck(store: store, input: logits, eps: 1e-2,
                              forward: { try scalar(loss.forward(logits, targets: targets, ctx)) },
                              backward: { dOut, dIn in try loss.backward(dOut.pointer[0], into: #require(dIn), ctx) })
    #expect(try #require(r["input"]).relError < 1e-3)
}

@Test func mseGradientBothSides() throws {
    let store = try ParameterStore(seed: 1)
    let ctx = try Context()
    let loss = MSELoss()
    let a = try testTensor([3, 4], seed: 1), b = try testTensor([3, 4], seed: 2)
    let ra = try gradientCheck(store: store, input: a, forward: { try scalar(loss.forward(a, b, ctx)) },
                               backward: { dOut, dIn in try loss.backward(dOut.pointer[0], intoA: dIn, ctx) })
    #expect(try #require(ra["input"]).relError < 1e-3)
    let rb = try gradientCheck(store: store, input: b, forward: { try scalar(loss.forward(a, b, ctx)) },
                               backward: { dOut, dIn in try loss.backward(dOut.pointer[0], intoA: nil, intoB: dIn, ctx) })
    #expect(try #require(rb["input"]).relError < 1e-3)
}

@Test func crossEntropyIgnoresNegativeTargets() throws {
    let ctx = try Context()
    let loss = CrossEntropyLoss()
    let logits = try Tensor(shape: [2, 3], values: [1, 2, 3, 5, 5, 5])
    let l = try loss.forward(logits, targets: IndexTensor(shape: [2], values: [2, -1]), ctx)
    #expect(abs(Double(l) - 0.407605964) < 1e-6)  // -log softmax([1,2,3])[2]
    expectError(.invalidArgument, "cross-entropy: target 3 outside 3 classes") { try loss.forward(logits, targets: IndexTensor(shape: [2], values: [3, 0]), ctx) }
}

@Test func infoNCEGradients() throws {
    let store = try ParameterStore(seed: 1)
    let ctx = try Context()
    let loss = try InfoNCELoss(temperature: 0.5)
    let a = try testTensor([4, 3], seed: 3), b = try testTensor([4, 3], seed: 4)
    let ra = try gradientCheck(store: store, input: a, forward: { try scalar(loss.forward(a, b, ctx)) },
                               backward: { dOut, dIn in try loss.backward(dOut.pointer[0], intoA: dIn, intoB: nil, ctx) })
    #expect(try #require(ra["input"]).relError < 2e-3)
    let rb = try gradientCheck(store: store, input: b, forward: { try scalar(loss.forward(a, b, ctx)) },
                               backward: { dOut, dIn in try loss.backward(dOut.pointer[0], intoA: nil, intoB: dIn, ctx) })
    #expect(try #require(rb["input"]).relError < 2e-3)
    // identical, well-separated pairs give a loss near zero
    let e = try Tensor(shape: [2, 2], values: [10, 0, 0, 10])
    #expect(try loss.forward(e, e, ctx) < 1e-6)
}

@Test func maskedMeanPoolGradients() throws {
    let store = try ParameterStore(seed: 1)
    let ctx = try Context()
    let pool = MaskedMeanPool()
    let x = try testTensor([3, 4, 2], seed: 5)
    let lengths = try IndexTensor(shape: [3], values: [4, 1, 2])
    let r = try gradientCheck(store: store, input: x, forward: { try pool.forward(x, lengths: lengths, ctx) },
                              backward: { dOut, dIn in try pool.backward(dOut, into: #require(dIn), ctx) })
    #expect(try #require(r["input"]).relError < 1e-3)
}

@Test func concatForwardAndBackward() throws {
    let ctx = try Context()
    let cat = Concat()
    let a = try Tensor(shape: [2, 1], values: [1, 2]), b = try Tensor(shape: [2, 2], values: [3, 4, 5, 6])
    let y = try cat.forward([a, b], ctx)
    #expect(y.shape == [2, 3] && y.toArray() == [1, 3, 4, 2, 5, 6])
    let da = try Tensor(zeros: [2, 1]), db = try Tensor(shape: [2, 2], values: [1, 1, 1, 1])
    try cat.backward(Tensor(shape: [2, 3], values: [10, 20, 30, 40, 50, 60]), into: [da, db], ctx)
    #expect(da.toArray() == [10, 40] && db.toArray() == [21, 31, 51, 61])
    expectError(.invalidArgument, "concat: shape [3, 2] does not match [2, 1] before the last dim") { try cat.forward([a, Tensor(zeros: [3, 2])], ctx) }
}

@Test func l2NormalizeGradients() throws {
    let store = try ParameterStore(seed: 1)
    let ctx = try Context()
    let norm = try L2Normalize()
    let x = try testTensor([3, 5], seed: 6)
    let y = try norm.forward(x, ctx).toArray()
    let rowNorm = (0..<5).reduce(Float(0)) { $0 + y[$1] * y[$1] }
    #expect(abs(rowNorm - 1) < 1e-6)
    let r = try gradientCheck(store: store, input: x, eps: 3e-3, forward: { try norm.forward(x, ctx) },
                              backward: { try norm.backward($0, into: $1, ctx) })
    #expect(try #require(r["input"]).relError < 2e-3)
}

import Testing
@testable import LeaderCore

/// Every checked gradient agrees with finite differences to `tol` and is not trivially zero.
private func expectGradients(_ r: [String: (relError: Double, norm: Double)], tol: Double = 1e-2,
                             sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!r.isEmpty, sourceLocation: sourceLocation)
    let worst = r.max { $0.value.relError < $1.value.relError }
    print("gradient check line \(sourceLocation.line): worst \(worst?.key ?? "-") rel error \(worst?.value.relError ?? 0)")
    for (name, v) in r.sorted(by: { $0.key < $1.key }) {
        #expect(v.relError < tol, "\(name): relative error \(v.relError)", sourceLocation: sourceLocation)
        #expect(v.norm > 1e-4, "\(name): gradient norm \(v.norm) is trivially small", sourceLocation: sourceLocation)
    }
}

@Test func linearGradients() throws {
    let store = try ParameterStore(seed: 1)
    let lin = try Linear(store, "lin", inFeatures: 4, outFeatures: 5)
    let ctx = try Context()
    let x = try testTensor([2, 3, 4], seed: 2)
    let r = try gradientCheck(store: store, input: x, forward: { try lin.forward(x, ctx) },
                              backward: { try lin.backward($0, into: $1, ctx) })
    expectGradients(r)
    #expect(r.count == 3)
}

@Test func layerNormGradients() throws {
    let store = try ParameterStore(seed: 3)
    let ln = try LayerNorm(store, "ln", channels: 6, eps: 1e-5)
    try store.load("ln.weight", values: testValues(6, seed: 4, scale: 0.5).map { $0 + 1 })
    try store.load("ln.bias", values: testValues(6, seed: 5, scale: 0.5))
    let ctx = try Context()
    let x = try testTensor([3, 6], seed: 6, scale: 2)
    let r = try gradientCheck(store: store, input: x, eps: 3e-3, forward: { try ln.forward(x, ctx) },
                              backward: { try ln.backward($0, into: $1, ctx) })
    expectGradients(r)
}

@Test func rmsNormGradients() throws {
    let store = try ParameterStore(seed: 7)
    let norm = try RMSNorm(store, "rms", channels: 6)
    try store.load("rms.weight", values: testValues(6, seed: 8, scale: 0.5).map { $0 + 1 })
    let ctx = try Context()
    let x = try testTensor([3, 6], seed: 9, scale: 2)
    let r = try gradientCheck(store: store, input: x, eps: 3e-3, forward: { try norm.forward(x, ctx) },
                              backward: { try norm.backward($0, into: $1, ctx) })
    expectGradients(r)
}

@Test func embeddingGradientsSkipPadding() throws {
    let store = try ParameterStore(seed: 10)
    let emb = try Embedding(store, "emb", vocab: 5, dim: 3)
    let ctx = try Context()
    let ids = try IndexTensor(shape: [2, 3], values: [4, 0, -1, 4, 2, -1])
    let y = try emb.forward(ids, ctx)
    #expect(Array(y.toArray()[6..<9]) == [0, 0, 0])
    let r = try gradientCheck(store: store, input: nil, forward: { try emb.forward(ids, ctx) },
                              backward: { dOut, _ in try emb.backward(dOut, ctx) })
    #expect(r["emb.weight"].map { $0.relError < 1e-2 } == true)
    let g = store.grad(try #require(store.parameter(named: "emb.weight"))).toArray()
    #expect(Array(g[3..<6]) == [0, 0, 0] && Array(g[9..<12]) == [0, 0, 0])  // ids 1 and 3 unused
    expectError(.invalidArgument, "emb.weight: id 5 outside vocabulary of 5") { try emb.forward(IndexTensor(shape: [1], values: [5]), ctx) }
}

@Test func attentionWithPaddingMaskGradients() throws {
    let store = try ParameterStore(seed: 11)
    let attn = try MultiHeadAttention(store, "attn", AttentionConfig(channels: 8, heads: 2))
    let ctx = try Context()
    let x = try testTensor([2, 4, 8], seed: 12)
    let lengths = try IndexTensor(shape: [2], values: [4, 2])
    let r = try gradientCheck(store: store, input: x,
                              forward: { try attn.forward(x, lengths: lengths, ctx) },
                              backward: { try attn.backward($0, into: $1, ctx) })
    expectGradients(r)
}

@Test func paddedKeysDoNotInfluenceValidRows() throws {
    let store = try ParameterStore(seed: 13)
    let attn = try MultiHeadAttention(store, "attn", AttentionConfig(channels: 8, heads: 2))
    let ctx = try Context()
    let x = try testTensor([1, 4, 8], seed: 14)
    let lengths = try IndexTensor(shape: [1], values: [2])
    let before = try attn.forward(x, lengths: lengths, ctx).toArray()
    x.pointer[3 * 8 + 1] += 5  // change a padded position
    let after = try attn.forward(x, lengths: lengths, ctx).toArray()
    #expect(Array(before[0..<16]) == Array(after[0..<16]))
}

@Test func causalGroupedQueryAttentionWithRoPEGradients() throws {
    for layout in [RoPEConfig.Layout.half, .adjacent] {
        let store = try ParameterStore(seed: 15)
        let cfg = AttentionConfig(channels: 16, heads: 4, kvHeads: 2, causal: true,
                                  rope: RoPEConfig(theta: 100, layout: layout), outBias: false)
        let attn = try MultiHeadAttention(store, "attn", cfg)
        let ctx = try Context()
        let x = try testTensor([2, 5, 16], seed: 16)
        let lengths = try IndexTensor(shape: [2], values: [5, 3])
        let positions = try IndexTensor(shape: [2, 5], values: [0, 1, 2, 3, 4, 7, 8, 9, 10, 11])
        let r = try gradientCheck(store: store, input: x,
                                  forward: { try attn.forward(x, lengths: lengths, positions: positions, ctx) },
                                  backward: { try attn.backward($0, into: $1, ctx) })
        expectGradients(r)
        #expect(store.parameter(named: "attn.k.weight")?.shape == [8, 16])
    }
}

@Test func causalAttentionIgnoresTheFuture() throws {
    let store = try ParameterStore(seed: 17)
    let attn = try MultiHeadAttention(store, "attn", AttentionConfig(channels: 8, heads: 2, kvHeads: 1, causal: true))
    let ctx = try Context()
    let x = try testTensor([1, 4, 8], seed: 18)
    let lengths = try IndexTensor(shape: [1], values: [4])
    let before = try attn.forward(x, lengths: lengths, ctx).toArray()
    x.pointer[2 * 8] += 3  // token 2 changes: rows 0 and 1 must not
    let after = try attn.forward(x, lengths: lengths, ctx).toArray()
    #expect(Array(before[0..<16]) == Array(after[0..<16]))
    #expect(Array(before[16..<24]) != Array(after[16..<24]))
}

@Test func swiGLUFeedForwardGradients() throws {
    let store = try ParameterStore(seed: 19)
    let ffn = try SwiGLUFeedForward(store, "ffn", channels: 6, hidden: 10)
    let ctx = try Context()
    let x = try testTensor([2, 3, 6], seed: 20)
    let r = try gradientCheck(store: store, input: x, forward: { try ffn.forward(x, ctx) },
                              backward: { try ffn.backward($0, into: $1, ctx) })
    expectGradients(r)
}

@Test func feedForwardGradients() throws {
    for act in [ActivationKind.geluTanh, .relu] {
        let store = try ParameterStore(seed: 21)
        let ffn = try FeedForward(store, "ffn", channels: 6, hidden: 10, activation: act)
        let ctx = try Context()
        let x = try testTensor([2, 3, 6], seed: 22)
        let r = try gradientCheck(store: store, input: x, eps: 1e-3, forward: { try ffn.forward(x, ctx) },
                                  backward: { try ffn.backward($0, into: $1, ctx) })
        expectGradients(r)
    }
}

@Test func transformerBlockGradients() throws {
    let store = try ParameterStore(seed: 23)
    let cfg = TransformerBlockConfig(attention: AttentionConfig(channels: 8, heads: 2), hidden: 12, normEps: 1e-5)
    let block = try TransformerBlock(store, "block", cfg)
    let ctx = try Context()
    let x = try testTensor([2, 4, 8], seed: 24)
    let lengths = try IndexTensor(shape: [2], values: [3, 4])
    let r = try gradientCheck(store: store, input: x, eps: 3e-3,
                              forward: { try block.forward(x, lengths: lengths, ctx) },
                              backward: { dOut, dIn in try block.backward(dOut, into: #require(dIn), ctx) })
    expectGradients(r)
}

@Test func llamaStyleBlockGradients() throws {
    let store = try ParameterStore(seed: 25)
    let attention = AttentionConfig(channels: 8, heads: 4, kvHeads: 2, causal: true, rope: RoPEConfig(),
                                    outBias: false)
    let cfg = TransformerBlockConfig(attention: attention, hidden: 12, norm: .rmsNorm, normEps: 1e-6,
                                     feedForward: .swiGLU)
    let block = try TransformerBlock(store, "layer", cfg)
    let ctx = try Context()
    let x = try testTensor([2, 3, 8], seed: 26)
    let lengths = try IndexTensor(shape: [2], values: [3, 2])
    let positions = try IndexTensor(shape: [2, 3], values: [0, 1, 2, 0, 1, 2])
    let r = try gradientCheck(store: store, input: x, eps: 3e-3,
                              forward: { try block.forward(x, lengths: lengths, positions: positions, ctx) },
                              backward: { dOut, dIn in try block.backward(dOut, into: #require(dIn), ctx) })
    expectGradients(r)
}

@Test func transformerBlockWithDropoutGradients() throws {
    // Training mode: the dropout masks are fixed by resetting the context's key stream before each forward.
    let store = try ParameterStore(seed: 27)
    let cfg = TransformerBlockConfig(attention: AttentionConfig(channels: 8, heads: 2, probDropout: 0.2),
                                     hidden: 12, dropout: 0.3, finalDropout: true)
    let block = try TransformerBlock(store, "block", cfg)
    let ctx = try Context(training: true, seed: 5)
    let x = try testTensor([2, 4, 8], seed: 28)
    let lengths = try IndexTensor(shape: [2], values: [4, 3])
    let r = try gradientCheck(store: store, input: x, eps: 3e-3,
                              forward: { ctx.setDropoutKeysDrawn(0); return try block.forward(x, lengths: lengths, ctx) },
                              backward: { dOut, dIn in try block.backward(dOut, into: #require(dIn), ctx) })
    expectGradients(r)
    // eval mode is deterministic and differs from training mode
    ctx.training = false
    let evalOut = try block.forward(x, lengths: lengths, ctx).toArray()
    ctx.training = true
    ctx.setDropoutKeysDrawn(0)
    let trainOut = try block.forward(x, lengths: lengths, ctx).toArray()
    #expect(evalOut != trainOut)
}

@Test func sharedBlockInstancesAccumulateIntoOneStore() throws {
    // One block applied to two inputs (two instances over the same parameters) has the gradient of the sum.
    let store = try ParameterStore(seed: 29)
    let cfg = TransformerBlockConfig(attention: AttentionConfig(channels: 8, heads: 2), hidden: 12, normEps: 1e-5)
    let first = try TransformerBlock(store, "block", cfg)
    let second = try TransformerBlock(sharingParametersOf: first)
    #expect(store.parameters.count == 13)  // registered once
    let ctx = try Context()
    let x = try testTensor([2, 3, 8], seed: 30), z = try testTensor([1, 2, 8], seed: 31)
    let l1 = try IndexTensor(shape: [2], values: [3, 2]), l2 = try IndexTensor(shape: [1], values: [2])
    let r = try gradientCheck(store: store, input: x, eps: 3e-3, forward: {
        let a = try first.forward(x, lengths: l1, ctx).toArray()
        let b = try second.forward(z, lengths: l2, ctx).toArray()
        return try Tensor(shape: [a.count + b.count], values: a + b)
    }, backward: { dOut, dIn in
        let n = x.count
        try first.backward(Tensor(shape: x.shape, values: Array(dOut.toArray()[0..<n])), into: #require(dIn), ctx)
        try second.backward(Tensor(shape: z.shape, values: Array(dOut.toArray()[n...])), into: Tensor(zeros: z.shape), ctx)
    })
    expectGradients(r)
}

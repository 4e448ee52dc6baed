import Testing
@testable import LeaderCore

/// Forward output and every gradient of a block big enough to cross the kernels' parallel thresholds.
private func blockRun(_ cfg: TransformerBlockConfig, threads: Int, positions: Bool) throws -> [[Float]] {
    let store = try ParameterStore(seed: 3, threads: threads)
    let block = try TransformerBlock(store, "block", cfg)
    let ctx = try Context(threads: threads, training: true, seed: 11)
    let (b, t, c) = (6, 40, cfg.attention.channels)
    let x = try testTensor([b, t, c], seed: 4)
    let lengths = try IndexTensor(shape: [b], values: [40, 1, 17, 33, 40, 8])
    let pos = positions ? try IndexTensor(shape: [b, t], values: (0..<(b * t)).map { Int32($0 % t) }) : nil
    let y = try block.forward(x, lengths: lengths, positions: pos, ctx)
    let dOut = try testTensor(y.shape, seed: 5)
    let dIn = try Tensor(zeros: x.shape)
    store.zeroGrad()
    try block.backward(dOut, into: dIn, ctx)
    return [y.toArray(), dIn.toArray(), store.flatGrads.toArray(), store.flatValues.toArray()]
}

@Test func studentBlockIsThreadCountInvariant() throws {
    let cfg = TransformerBlockConfig(attention: AttentionConfig(channels: 64, heads: 4, probDropout: 0.1),
                                     hidden: 300, normEps: 1e-12, dropout: 0.4, finalDropout: true)
    let one = try blockRun(cfg, threads: 1, positions: false)
    let two = try blockRun(cfg, threads: 2, positions: false)
    #expect(one == two)
    #expect(one[2].contains { $0 != 0 })
}

@Test func llamaBlockIsThreadCountInvariant() throws {
    let attention = AttentionConfig(channels: 64, heads: 8, kvHeads: 2, causal: true, rope: RoPEConfig(),
                                    outBias: false)
    let cfg = TransformerBlockConfig(attention: attention, hidden: 160, norm: .rmsNorm, feedForward: .swiGLU)
    #expect(try blockRun(cfg, threads: 1, positions: true) == blockRun(cfg, threads: 2, positions: true))
}

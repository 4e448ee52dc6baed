import Testing
@testable import LeaderCore

@Test func parametersAreAlignedNamedViewsOfOneBuffer() throws {
    let store = try ParameterStore(seed: 1)
    let w = try store.register("a.weight", shape: [3, 5], initializer: .ones)
    let b = try store.register("a.bias", shape: [3], initializer: .constant(2))
    let e = try store.register("emb.weight", shape: [700, 3], initializer: .normal(mean: 0, std: 1))
    #expect(store.parameters.map(\.name) == ["a.weight", "a.bias", "emb.weight"])
    #expect(w.offset == 0 && b.offset == 16 && e.offset == 32)
    #expect(store.count == 32 + 2100 && store.parameterCount == 15 + 3 + 2100)
    #expect(Int(bitPattern: store.value(e).pointer) % 64 == 0)
    // values survived the buffer growth caused by the third registration
    #expect(store.value(w).toArray() == [Float](repeating: 1, count: 15))
    #expect(store.value(b).toArray() == [2, 2, 2])
    // writes through a view land in the flat buffer
    store.value(b).pointer[1] = 7
    #expect(store.flatValues.toArray()[17] == 7)
    // padding stays zero
    #expect(store.flatValues.toArray()[15] == 0)
    expectError(.invalidArgument, "parameter a.bias registered twice") { try store.register("a.bias", shape: [1], initializer: .zeros) }
    expectError(.invalidArgument, "parameter a.bias: 2 values for shape [3]") { try store.load("a.bias", values: [1, 2]) }
    expectError(.invalidArgument, "unknown parameter nope") { try store.load("nope", values: [1]) }
    expectError(.invalidArgument, "parameter a.weight: shape [5, 3] does not match [3, 5]") { try store.load("a.weight", values: [Float](repeating: 0, count: 15), shape: [5, 3]) }
}

@Test func initialisersAreSeededAndPyTorchLike() throws {
    func make(_ seed: UInt64) throws -> (ParameterStore, Linear, Embedding) {
        let s = try ParameterStore(seed: seed)
        return (s, try Linear(s, "lin", inFeatures: 100, outFeatures: 50), try Embedding(s, "emb", vocab: 200, dim: 50))
    }
    let (s1, l1, e1) = try make(9), (s2, _, _) = try make(9), (s3, _, _) = try make(10)
    #expect(s1.flatValues.toArray() == s2.flatValues.toArray())
    #expect(s1.flatValues.toArray() != s3.flatValues.toArray())
    let w = s1.value(l1.weight).toArray()
    #expect(w.allSatisfy { abs($0) <= 0.1 } && w.contains { abs($0) > 0.09 })  // U(-1/sqrt(100), 1/sqrt(100))
    let e = s1.value(e1.weight).toArray().map(Double.init)
    let mean = e.reduce(0, +) / Double(e.count)
    let variance = e.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(e.count)
    #expect(abs(mean) < 0.05 && abs(variance - 1) < 0.05)
}

@Test func linearScheduleWarmsUpAndDecays() throws {
    let s = try LinearSchedule(baseLearningRate: 1, warmupSteps: 2, totalSteps: 6)
    #expect((0...7).map { s.learningRate(atStep: $0) } == [0, 0.5, 1, 0.75, 0.5, 0.25, 0, 0])
    expectError(.invalidArgument, "linear schedule: need 0 <= warmup (5) <= total (3), total > 0") { try LinearSchedule(baseLearningRate: 1, warmupSteps: 5, totalSteps: 3) }
}

@Test func adamStateIsExposedAndRestorable() throws {
    let store = try ParameterStore(seed: 1)
    let p = try store.register("p", shape: [4], initializer: .constant(1))
    let ctx = try Context()
    let adam = try Adam(store, Adam.Options(learningRate: 0.1))
    try store.grad(p).copy(from: [1, -1, 2, 0])
    try adam.update(ctx)
    #expect(adam.step == 1)
    // first Adam step moves each parameter by lr * sign(grad) (bias-corrected m/sqrt(v))
    let v = store.value(p).toArray()
    #expect(abs(v[0] - 0.9) < 1e-5 && abs(v[1] - 1.1) < 1e-5 && abs(v[2] - 0.9) < 1e-5 && v[3] == 1)
    let other = try Adam(store, Adam.Options(learningRate: 0.1))
    try other.restore(step: adam.step, m: adam.m.toArray(), v: adam.v.toArray())
    #expect(other.step == 1 && other.m.toArray() == adam.m.toArray())
    expectError(.invalidArgument, "Adam: betas must be in [0,1), got 1.0, 0.999") { try Adam(store, Adam.Options(beta1: 1)) }
}

@Test func gradientClippingScale() throws {
    let store = try ParameterStore(seed: 1)
    let p = try store.register("p", shape: [2], initializer: .zeros)
    let ctx = try Context()
    try store.grad(p).copy(from: [3, 4])
    let (scale, norm) = try GradientClipping.scale(store, maxNorm: 1, ctx)
    #expect(abs(norm - 5) < 1e-6 && abs(scale - 0.2) < 1e-6)
    #expect(try GradientClipping.scale(store, maxNorm: 10, ctx).scale == 1)
}

@Test func callerErrorsThrowInsteadOfTrapping() throws {
    let store = try ParameterStore(seed: 1)
    let ctx = try Context()
    let attn = try MultiHeadAttention(store, "attn", AttentionConfig(channels: 8, heads: 2))
    let x = try Tensor(zeros: [2, 3, 8])
    expectError(.invalidArgument, "attn: sequence length 4 outside [0, 3]") { try attn.forward(x, lengths: IndexTensor(shape: [2], values: [4, 1]), ctx) }
    expectError(.invalidArgument, "attn: lengths shape [3] does not match batch 2") { try attn.forward(x, lengths: IndexTensor(shape: [3], values: [1, 1, 1]), ctx) }
    expectError(.invalidArgument, "attn: expected (B,T,8) input, got [2, 3, 7]") { try attn.forward(Tensor(zeros: [2, 3, 7]), lengths: IndexTensor(shape: [2], values: [1, 1]), ctx) }
    expectError(.invalidArgument, "attn: backward called before forward") { try attn.backward(x, into: nil, ctx) }  // before forward
    expectError(.invalidArgument, "bad: channels 8 not divisible by heads 3") { try MultiHeadAttention(store, "bad", AttentionConfig(channels: 8, heads: 3)) }
    expectError(.invalidArgument, "bad2: heads 4 not divisible by kvHeads 3") { try MultiHeadAttention(store, "bad2", AttentionConfig(channels: 8, heads: 4, kvHeads: 3)) }
    let rope = try MultiHeadAttention(store, "rope", AttentionConfig(channels: 8, heads: 2, rope: RoPEConfig()))
    expectError(.invalidArgument, "rope: RoPE needs positions of shape [2, 3]") { try rope.forward(x, lengths: IndexTensor(shape: [2], values: [1, 1]), ctx) }
    expectError(.invalidArgument, "n_threads must be 0 or 1...1024, got -1") { try Context(threads: -1) }
    expectError(.overflow, "tensor shape [9223372036854775807, 2]: 9223372036854775807 x 2 overflows") { try Tensor(zeros: [Int.max, 2]) }
    expectError(.invalidArgument, "dropout probability must be in [0, 1), got 1.0") { try Dropout(p: 1) }
    let lin = try Linear(store, "lin", inFeatures: 8, outFeatures: 2)
    expectError(.invalidArgument, "lin.weight: expected last dimension 8, got shape [3, 4]") { try lin.forward(Tensor(zeros: [3, 4]), ctx) }
}

@Test func frozenStoreSkipsParameterGradientsButPassesInputGradients() throws {
    // Same weights in a trainable and a frozen store: identical dx, and the frozen one has no gradients.
    let cfg = TransformerBlockConfig(attention: AttentionConfig(channels: 8, heads: 2), hidden: 12)
    let ctx = try Context()
    let x = try testTensor([2, 3, 8], seed: 1), dOut = try testTensor([2, 3, 8], seed: 2)
    let lengths = try IndexTensor(shape: [2], values: [3, 2])
    var dxs: [[Float]] = []
    for trainable in [true, false] {
        let store = try ParameterStore(seed: 5, trainable: trainable)
        let block = try TransformerBlock(store, "block", cfg)
        let rms = try RMSNorm(store, "rms", channels: 8)
        let emb = try Embedding(store, "emb", vocab: 4, dim: 8)
        let y = try block.forward(x, lengths: lengths, ctx)
        let z = try rms.forward(y, ctx)
        let dz = try Tensor(zeros: z.shape)
        try rms.backward(dOut, into: dz, ctx)
        let dx = try Tensor(zeros: x.shape)
        try block.backward(dz, into: dx, ctx)
        _ = try emb.forward(IndexTensor(shape: [2], values: [1, 3]), ctx)
        try emb.backward(Tensor(zeros: [2, 8]), ctx)
        dxs.append(dx.toArray())
        #expect(store.flatGrads.count == (trainable ? store.count : 0))
        if !trainable {
            expectError(.invalidArgument, "Adam: the parameter store is frozen") { try Adam(store) }
            #expect(GradientClipping.globalNorm(store, ctx) == 0)
        }
    }
    #expect(dxs[0] == dxs[1] && dxs[0].contains { $0 != 0 })
}

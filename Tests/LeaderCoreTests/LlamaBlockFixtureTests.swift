import Foundation
import Testing
@testable import LeaderCore

/// tools/make_fixtures.py: one LLaMA-style block in PyTorch (Hugging Face RoPE and repeat_kv conventions).
struct LlamaBlockFixture: Decodable {
    struct Config: Decodable { let channels, heads, kv_heads, hidden, batch, seq: Int; let theta, rms_eps: Double }
    struct Param: Decodable { let shape: [Int]; let values: [Float] }
    let config: Config
    let lengths: [Int32]
    let positions: [Int32]
    let x, r, out, dx: [Float]
    let params: [String: Param]
    let grads: [String: [Float]]

    static func load() throws -> LlamaBlockFixture {
        guard let url = Bundle.module.url(forResource: "llama_block", withExtension: "json", subdirectory: "Fixtures")
        else { throw LeaderError.io("fixture llama_block.json not in the test bundle") }
        return try JSONDecoder().decode(LlamaBlockFixture.self, from: Data(contentsOf: url))
    }
}

/// max |a - b| / max(max |b|, 1e-6)
private func scaledMaxDiff(_ a: [Float], _ b: [Float]) -> Double {
    let scale = b.map { abs(Double($0)) }.max() ?? 0
    let diff = zip(a, b).map { abs(Double($0) - Double($1)) }.max() ?? .infinity
    return a.count == b.count ? diff / max(scale, 1e-6) : .infinity
}

@Test func llamaBlockMatchesPyTorch() throws {
    let f = try LlamaBlockFixture.load()
    let c = f.config
    let attention = AttentionConfig(channels: c.channels, heads: c.heads, kvHeads: c.kv_heads, causal: true,
                                    rope: RoPEConfig(theta: Float(c.theta), layout: .half), outBias: false)
    let cfg = TransformerBlockConfig(attention: attention, hidden: c.hidden, norm: .rmsNorm, normEps: Float(c.rms_eps),
                                     feedForward: .swiGLU)
    let store = try ParameterStore(seed: 0)
    let block = try TransformerBlock(store, "block", cfg)
    #expect(Set(store.parameters.map(\.name)) == Set(f.params.keys.map { "block.\($0)" }))
    for (name, p) in f.params { try store.load("block.\(name)", values: p.values, shape: p.shape) }

    let ctx = try Context(threads: 2)
    let x = try Tensor(shape: [c.batch, c.seq, c.channels], values: f.x)
    let out = try block.forward(x, lengths: IndexTensor(shape: [c.batch], values: f.lengths),
                                positions: IndexTensor(shape: [c.batch, c.seq], values: f.positions), ctx)
    let outDiff = scaledMaxDiff(out.toArray(), f.out)
    #expect(outDiff < 1e-5, "output max diff \(outDiff)")

    store.zeroGrad()
    let dx = try Tensor(zeros: x.shape)
    try block.backward(Tensor(shape: x.shape, values: f.r), into: dx, ctx)
    let dxDiff = scaledMaxDiff(dx.toArray(), f.dx)
    #expect(dxDiff < 1e-5, "dx max diff \(dxDiff)")
    var worst = 0.0
    for (name, g) in f.grads {
        let p = try #require(store.parameter(named: "block.\(name)"))
        let d = scaledMaxDiff(store.grad(p).toArray(), g)
        worst = max(worst, d)
        #expect(d < 1e-5, "\(name): gradient max diff \(d)")
    }
    print("LLaMA block vs PyTorch: out \(outDiff), dx \(dxDiff), worst parameter gradient \(worst) (scaled max diff)")
}

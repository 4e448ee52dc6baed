@testable import LeaderCore

/// The model of tools/make_fixtures.py, built from LeaderCore modules: embedding over padded code sets →
/// pre-LN TransformerBlocks with key-padding masks → masked mean-pool → Linear → BCE-with-logits.
final class SetModel {
    let store: ParameterStore
    let embedding: Embedding
    let blocks: [TransformerBlock]
    let pool = MaskedMeanPool()
    let head: Linear
    let loss = BCEWithLogitsLoss()

    init(vocab: Int, channels: Int, heads: Int, ffn: Int, layers: Int, labels: Int, lnEps: Float,
         dropout: Float = 0, seed: UInt64 = 7) throws {
        let store = try ParameterStore(seed: seed)
        self.store = store
        embedding = try Embedding(store, "embedding", vocab: vocab, dim: channels)
        let cfg = TransformerBlockConfig(
            attention: AttentionConfig(channels: channels, heads: heads, probDropout: dropout), hidden: ffn,
            norm: .layerNorm, normEps: lnEps, feedForward: .mlp(.geluTanh), dropout: dropout)
        blocks = try (0..<layers).map { i throws(LeaderError) in try TransformerBlock(store, "blocks.\(i)", cfg) }
        head = try Linear(store, "head", inFeatures: channels, outFeatures: labels)
    }

    /// Forward and loss; caches everything `backward` needs.
    func forward(ids: IndexTensor, lengths: IndexTensor, targets: Tensor, _ ctx: Context) throws -> Float {
        var x = try embedding.forward(ids, ctx)
        for blk in blocks { x = try blk.forward(x, lengths: lengths, ctx) }
        sequenceShape = x.shape
        let pooled = try pool.forward(x, lengths: lengths, ctx)
        let logits = try head.forward(pooled, ctx)
        return try loss.forward(logits, targets: targets, ctx)
    }

    /// Gradients of the last forward's loss, accumulated into `store.grads`.
    func backward(_ ctx: Context) throws {
        let batch = sequenceShape[0]
        let dLogits = try Tensor(zeros: [batch, head.outFeatures])
        try loss.backward(into: dLogits, ctx)
        let dPooled = try Tensor(zeros: [batch, head.inFeatures])
        try head.backward(dLogits, into: dPooled, ctx)
        var dTop = try Tensor(zeros: sequenceShape)
        try pool.backward(dPooled, into: dTop, ctx)
        for blk in blocks.reversed() {
            let dIn = try Tensor(zeros: sequenceShape)
            try blk.backward(dTop, into: dIn, ctx)
            dTop = dIn
        }
        try embedding.backward(dTop, ctx)
    }

    private var sequenceShape: [Int] = []
}

import CLeaderKernels

/// A right-padded batch of token sequences with optional multi-hot medication targets.
public struct TeacherBatch {
    public let ids: IndexTensor        // (B,T), pad 0
    public let lengths: IndexTensor    // (B)
    public let targets: Tensor?        // (B,|Med|)

    /// `sequences` must be non-empty, each of length 1...; `targets[b]` lists medication indices.
    public init(sequences: [[Int32]], targets: [[Int]]? = nil, medications: Int = 0) throws(LeaderError) {
        guard !sequences.isEmpty else { throw .invalidArgument("teacher batch: no sequences") }
        let t = sequences.map(\.count).max() ?? 0
        guard t > 0, sequences.allSatisfy({ !$0.isEmpty }) else { throw .invalidArgument("teacher batch: empty sequence") }
        _ = try Checked.product(sequences.count, t, "teacher batch")
        var flat: [Int32] = []
        flat.reserveCapacity(sequences.count * t)
        for s in sequences { flat += s + [Int32](repeating: 0, count: t - s.count) }
        ids = try IndexTensor(shape: [sequences.count, t], values: flat)
        lengths = try IndexTensor(shape: [sequences.count], values: sequences.map { Int32(clamping: $0.count) })
        if let targets {
            guard targets.count == sequences.count, medications > 0 else {
                throw .invalidArgument("teacher batch: \(targets.count) target sets for \(sequences.count) sequences")
            }
            var hot = [Float](repeating: 0, count: try Checked.product(sequences.count, medications, "targets"))
            for (b, set) in targets.enumerated() {
                for m in set {
                    guard m >= 0, m < medications else {
                        throw .invalidArgument("teacher batch: medication index \(m) outside 0..<\(medications)")
                    }
                    hot[b * medications + m] = 1
                }
            }
            self.targets = try Tensor(shape: [sequences.count, medications], values: hot)
        } else {
            self.targets = nil
        }
    }

    public var batchSize: Int { ids.shape[0] }
    /// Real (unpadded) tokens.
    public var tokenCount: Int { lengths.toArray().reduce(0) { $0 + Int($1) } }
}

/// LEADER's teacher: the decoder (frozen base + LoRA) and `cls_head = Linear(d_model → |Med|, no bias)` on
/// the final-norm hidden state of the last prompt token (from lengths), trained with mean BCE. The head
/// lives in the decoder's trainable store as `cls_head.weight`, after the adapters.
public final class TeacherModel {
    public let decoder: LlamaDecoder
    public let head: Linear
    public let medications: Int
    private let bce = BCEWithLogitsLoss()
    private var pooled: Tensor?, dLogits: Tensor?, dPooled: Tensor?, dHidden: Tensor?
    private var saved: (hidden: Tensor, lengths: IndexTensor, logits: Tensor)?

    public init(decoder: LlamaDecoder, medications: Int) throws(LeaderError) {
        guard medications > 0 else { throw .invalidArgument("teacher: the medication vocabulary is empty") }
        self.decoder = decoder
        self.medications = medications
        head = try Linear(decoder.adapters, "cls_head", inFeatures: decoder.config.dModel, outFeatures: medications,
                          bias: false)
    }

    /// Pooled hidden states (B,C) and medication logits (B,|Med|); buffers valid until the next forward.
    public func forward(_ batch: TeacherBatch, lowerOutput: Tensor? = nil, _ ctx: Context) throws(LeaderError)
        -> (hidden: Tensor, logits: Tensor)
    {
        let h = try decoder.forward(batch.ids, lengths: batch.lengths, lowerOutput: lowerOutput, ctx)
        let p = try LlamaDecoder.lastToken(h, lengths: batch.lengths, into: &pooled, ctx)
        let logits = try head.forward(p, ctx)
        saved = (h, batch.lengths, logits)
        return (p, logits)
    }

    /// Mean BCE of the last forward's logits against `targets` (B,|Med|).
    public func loss(_ targets: Tensor, _ ctx: Context) throws(LeaderError) -> Float {
        let s = try Checks.cached(saved, "teacher")
        return try bce.forward(s.logits, targets: targets, ctx)
    }

    /// Accumulates `dLoss ·` the gradients of the last loss into the trainable store (adapters + head).
    public func backward(_ dLoss: Float = 1, _ ctx: Context) throws(LeaderError) {
        let s = try Checks.cached(saved, "teacher")
        let dl = try Workspace.zeroed(&dLogits, s.logits.shape)
        try bce.backward(dLoss, into: dl, ctx)
        let dp = try Workspace.zeroed(&dPooled, [s.logits.shape[0], decoder.config.dModel])
        try head.backward(dl, into: dp, ctx)
        let dh = try Workspace.zeroed(&dHidden, s.hidden.shape)
        lk_gather_last_backward(dh.pointer, dp.pointer, s.lengths.pointer, Int64(s.hidden.shape[0]),
                                Int64(s.hidden.shape[1]), Int64(s.hidden.shape[2]), ctx.t32)
        try decoder.backward(dh, ctx)
    }
}

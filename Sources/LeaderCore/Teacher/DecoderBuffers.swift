/// Activation buffers of the decoder's modules, kept apart from the modules so that modules which never hold
/// live data at the same time can share them:
/// - the FORWARD buffers of frozen layers (no adapters, no backward) are one shared set, except the layer
///   outputs, which alternate between two (layer l writes output l % 2: it must survive only until layer l+1
///   has read it);
/// - adapted layers own the forward buffers their backward needs and take the rest (projection outputs,
///   attention scratch) from the frozen set; with activation recomputation (`RecomputeMode`) they use the
///   frozen set entirely and backward re-runs each layer's forward first;
/// - BACKWARD scratch is one set for all layers (backward runs one layer at a time), and one for all linears.
/// This keeps a 30-layer model with LoRA on the top N layers at the memory of about N + 2 layers, or with
/// recomputation at about 2 layers plus one (B,T,C) input per adapted layer.
final class LinearBuffers { var output: Tensor? }
/// Shared by all linears: `dropped` holds the dropout-masked input of the LoRA path for the duration of one
/// forward or backward call (backward recomputes it from the dropout key instead of keeping a copy per layer).
/// `quantized` holds an int8-quantised input (`QuantizedInput`) between its quantisation and the products reading it.
final class LinearGradBuffers { var dXA: Tensor?, dDropped: Tensor?, dropped: Tensor?, quantized: Tensor? }
final class NormBuffers { var output: Tensor?, rstd: Tensor? }
/// What attention backward needs (owned by each adapted layer).
final class AttentionBuffers {
    var qh: Tensor?, kh: Tensor?, vh: Tensor?, probs: Tensor?, ctx: Tensor?
    var rowLen: IndexTensor?
}
/// Attention intermediates dead after forward (shared by all layers of a decoder).
final class AttentionScratch { var qRot: Tensor?, kRot: Tensor?, scores: Tensor?, ctxh: Tensor? }
final class AttentionGradBuffers {
    var dCtx: Tensor?, dCtxh: Tensor?, dProbs: Tensor?, dScores: Tensor?
    var dQh: Tensor?, dKh: Tensor?, dVh: Tensor?, dQ: Tensor?, dK: Tensor?, dV: Tensor?, dQPre: Tensor?, dKPre: Tensor?
}
final class LayerBuffers { var h: Tensor?, y: Tensor?, act: Tensor? }
final class LayerGradBuffers { var dH: Tensor?, dNormed: Tensor?, dAct: Tensor?, dGate: Tensor?, dUp: Tensor?, dNormScratch: Tensor? }

/// The forward buffers of one layer's modules. Outputs that are dead once the layer's forward returns (the
/// q, k, v, o and down projections, RoPE/score/context intermediates) can come from a shared `transient` set.
final class LayerBufferSet {
    let layer: LayerBuffers, attention: AttentionBuffers, attnNorm: NormBuffers, ffnNorm: NormBuffers
    let gate: LinearBuffers, up: LinearBuffers
    let q: LinearBuffers, k: LinearBuffers, v: LinearBuffers, o: LinearBuffers, down: LinearBuffers
    let scratch: AttentionScratch

    init(transient: LayerBufferSet? = nil) {
        layer = LayerBuffers()
        attention = AttentionBuffers()
        attnNorm = NormBuffers()
        ffnNorm = NormBuffers()
        gate = LinearBuffers()
        up = LinearBuffers()
        q = transient?.q ?? LinearBuffers()
        k = transient?.k ?? LinearBuffers()
        v = transient?.v ?? LinearBuffers()
        o = transient?.o ?? LinearBuffers()
        down = transient?.down ?? LinearBuffers()
        scratch = transient?.scratch ?? AttentionScratch()
    }

    /// The second set of the frozen layers' alternation: only the layer's own residual/activation buffers
    /// (its output `y` must outlive the next layer's forward) are its own; every other intermediate of a frozen
    /// layer is dead when its forward returns and comes from `other`.
    init(alternatingWith other: LayerBufferSet) {
        layer = LayerBuffers()
        attention = other.attention
        attnNorm = other.attnNorm
        ffnNorm = other.ffnNorm
        gate = other.gate
        up = other.up
        q = other.q
        k = other.k
        v = other.v
        o = other.o
        down = other.down
        scratch = other.scratch
    }
}

/// The backward scratch shared by all layers.
final class GradBufferSet {
    let layer = LayerGradBuffers(), attention = AttentionGradBuffers(), linear = LinearGradBuffers()
}

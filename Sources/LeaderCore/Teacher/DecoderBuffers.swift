/// Activation buffers of the decoder's modules, kept apart from the modules so that modules which never hold
/// live data at the same time can share them:
/// - the FORWARD buffers of frozen layers (no adapters, no backward) alternate between two shared sets (layer
///   l uses set l % 2: its output must survive only until layer l+1 has read it);
/// - adapted layers own their forward buffers (backward needs them);
/// - BACKWARD scratch is one set for all layers (backward runs one layer at a time), and one for all linears.
/// This keeps a 30-layer model with LoRA on the top N layers at the memory of about N + 2 layers.
final class LinearBuffers { var output: Tensor?, xa: Tensor? }
final class LinearGradBuffers { var dXA: Tensor?, dDropped: Tensor? }
final class NormBuffers { var output: Tensor?, rstd: Tensor? }
final class AttentionBuffers {
    var qRot: Tensor?, kRot: Tensor?, qh: Tensor?, kh: Tensor?, vh: Tensor?
    var scores: Tensor?, probs: Tensor?, ctxh: Tensor?, ctx: Tensor?
    var rowLen: IndexTensor?
}
final class AttentionGradBuffers {
    var dCtx: Tensor?, dCtxh: Tensor?, dProbs: Tensor?, dScores: Tensor?
    var dQh: Tensor?, dKh: Tensor?, dVh: Tensor?, dQ: Tensor?, dK: Tensor?, dV: Tensor?, dQPre: Tensor?, dKPre: Tensor?
}
final class LayerBuffers { var h: Tensor?, y: Tensor?, act: Tensor? }
final class LayerGradBuffers { var dH: Tensor?, dNormed: Tensor?, dAct: Tensor?, dGate: Tensor?, dUp: Tensor?, dNormScratch: Tensor? }

/// The forward buffers of one layer's modules.
final class LayerBufferSet {
    let layer = LayerBuffers(), attention = AttentionBuffers(), attnNorm = NormBuffers(), ffnNorm = NormBuffers()
    let q = LinearBuffers(), k = LinearBuffers(), v = LinearBuffers(), o = LinearBuffers()
    let gate = LinearBuffers(), up = LinearBuffers(), down = LinearBuffers()
}

/// The backward scratch shared by all layers.
final class GradBufferSet {
    let layer = LayerGradBuffers(), attention = AttentionGradBuffers(), linear = LinearGradBuffers()
}

import CLeaderKernels

/// A LLaMA-family decoder over a `LlamaModelFile` (GGUF or Hugging Face folder): token embedding, layers of
/// RMSNorm → causal grouped-query attention with RoPE → RMSNorm → SwiGLU, final RMSNorm, tied or untied LM
/// head. The linear weights and the embedding table stay in the mapped file in their stored dtype
/// (quantised GGUF blocks are read by the kernels; nothing is dequantised as a whole). Only the small norm
/// weights are copied, as F32, into a frozen store. With a `LoRAConfig`, adapters on q, k, v, o, gate, up,
/// down of the top layers live in `adapters` (a trainable store) and `backward` fills their gradients.
/// With activation recomputation (`RecomputeMode`), the adapted layers keep only their inputs and share one
/// set of forward buffers; `backward` re-runs each layer's forward before its backward.
///
/// Batches are right-padded (B,T) ids with lengths (B); padded ids may be anything in range or negative.
public final class LlamaDecoder {
    public let file: LlamaModelFile
    public var config: LlamaConfig { file.config }
    public let lora: LoRAConfig?
    /// Trainable parameters: the LoRA adapters (empty without LoRA) and whatever a head registers.
    public let adapters: ParameterStore
    let layers: [DecoderLayer]
    let finalNorm: DecoderNorm
    let embedding: TensorData
    let lmHead: TensorData
    /// Arithmetic of every layer's frozen quantised products (`QuantPrecision`). Default fp32 (exact; what the
    /// golden tests and gradient checks assume); int8 is the faster opt-in (`--precision int8`), and the LM head
    /// (`logits`, greedy decoding) follows it in int8 (in bf16 it stays fp32); all backward products stay fp32.
    public var precision: QuantPrecision = .fp32 {
        didSet { for l in layers { for lin in l.linears { lin.precision = precision } } }
    }
    /// Index of the first layer with adapters (`config.layers` when none).
    public let firstAdaptedLayer: Int
    /// The recomputation setting asked for, and whether it is in effect for this decoder's adapted layers.
    public let recompute: RecomputeMode
    public let recomputing: Bool

    private var embedded: Tensor?, positions: IndexTensor?, cachedInput: Tensor?
    private var dA: Tensor?, dB: Tensor?, dFinal: Tensor?
    private var logitsBuffer: Tensor?, tokenIDs: IndexTensor?, quantizedHidden: Tensor?
    /// Recomputation: the input of each adapted layer (index l - firstAdaptedLayer), the dropout-stream
    /// position and training flag at its forward, and the lengths of the batch.
    private var layerInputs: [Tensor?] = []
    private var layerKeys: [UInt64] = []
    private var recomputeState: (lengths: IndexTensor, training: Bool)?

    /// `recompute` applies to training (forward + backward) of the adapted layers; see `RecomputeMode`.
    public init(_ file: LlamaModelFile, lora: LoRAConfig? = nil, recompute: RecomputeMode = .auto, seed: UInt64 = 0,
                threads: Int = 1) throws(LeaderError)
    {
        let c = file.config
        try lora?.validate(layers: c.layers)
        self.file = file
        self.lora = lora
        let adapters = try ParameterStore(seed: seed, threads: threads, trainable: true)
        self.adapters = adapters
        func weight(_ t: LlamaTensor) throws(LeaderError) -> TensorData {
            guard let w = file[t] else { throw .badFile("model: tensor '\(t.canonicalName)' is missing") }
            return w
        }
        func norm(_ t: LlamaTensor, _ buffers: NormBuffers) throws(LeaderError) -> DecoderNorm {
            let w = try weight(t)
            guard w.elementCount == c.dModel else { throw .badFile("\(w.name): expected \(c.dModel) values") }
            let v = try Tensor(zeros: [c.dModel])
            w.withUnsafeBytes { b in lk_dequantize_row(v.pointer, b.baseAddress, Int64(c.dModel), w.dtype.kernelDType) }
            return DecoderNorm(weight: v, eps: Float(c.rmsEps), buffers: buffers)
        }
        guard c.dModel == c.heads * c.headDim, c.headDim % 2 == 0 else {
            throw .incompatible("model: d_model \(c.dModel) must equal heads × head_dim (\(c.heads) × \(c.headDim)), head_dim even")
        }
        let first = lora.map { $0.firstAdaptedLayer(layers: c.layers) } ?? c.layers
        firstAdaptedLayer = first
        self.recompute = recompute
        let recomputing = recompute.enabled(adaptedLayers: c.layers - first)
        self.recomputing = recomputing
        layerInputs = [Tensor?](repeating: nil, count: recomputing ? c.layers - first : 0)
        layerKeys = [UInt64](repeating: 0, count: recomputing ? c.layers - first : 0)
        let frozen = LayerBufferSet()
        let shared = [frozen, LayerBufferSet(alternatingWith: frozen)]  // frozen layers alternate their outputs
        let g = GradBufferSet()
        var ls: [DecoderLayer] = []
        for l in 0..<c.layers {
            let a = l >= first ? lora : nil
            // The frozen buffers are dead once the adapted layers run (the first one's input is layer
            // first - 1's output, which they never write: with recomputation it is copied before anything runs;
            // without, it is in shared[(first - 1) % 2].layer, which adapted layers do not use). Without
            // recomputation adapted layers take only their forward-only intermediates from them; with it, all
            // of them (each layer's values are rebuilt before its backward).
            let set = a == nil ? shared[l % 2] : recomputing ? frozen : LayerBufferSet(transient: frozen)
            func lin(_ t: LlamaTensor, _ b: LinearBuffers) throws(LeaderError) -> QuantLinear {
                let base = t.canonicalName.hasSuffix(".weight") ? String(t.canonicalName.dropLast(7)) : t.canonicalName
                return try QuantLinear(try weight(t), name: base, lora: a, store: a == nil ? nil : adapters, buffers: b,
                                       grads: g.linear)
            }
            let attention = DecoderAttention(q: try lin(.q(l), set.q), k: try lin(.k(l), set.k), v: try lin(.v(l), set.v),
                                             o: try lin(.o(l), set.o), config: c, name: "layers.\(l).attn",
                                             buffers: set.attention, scratch: set.scratch, grads: g.attention)
            ls.append(DecoderLayer(attnNorm: try norm(.attnNorm(l), set.attnNorm), ffnNorm: try norm(.ffnNorm(l), set.ffnNorm),
                                   attention: attention, gate: try lin(.gate(l), set.gate), up: try lin(.up(l), set.up),
                                   down: try lin(.down(l), set.down), name: "layers.\(l)", buffers: set.layer,
                                   grads: g.layer))
        }
        layers = ls
        finalNorm = try norm(.outputNorm, NormBuffers())
        embedding = try weight(.tokenEmbedding)
        lmHead = c.tiedEmbeddings ? embedding : try weight(.lmHead)
        guard c.dModel % embedding.dtype.blockSize == 0 else {
            throw .incompatible("\(embedding.name): width \(c.dModel) is not a multiple of the \(embedding.dtype) block size")
        }
    }

    /// Token embeddings (B,T,C) of ids (B,T); ids must be < vocab (negative ids give zero rows).
    public func embed(_ ids: IndexTensor, _ ctx: Context) throws(LeaderError) -> Tensor {
        guard ids.shape.count == 2 else { throw .invalidArgument("decoder: ids must be (B,T), got \(ids.shape)") }
        if let bad = ids.firstValue(outside: Int32.min, Int32(clamping: config.vocabSize)) {
            throw .invalidArgument("decoder: token id \(bad) outside the vocabulary of \(config.vocabSize)")
        }
        let x = try Workspace.ensure(&embedded, ids.shape + [config.dModel])
        let (n, dim, dt) = (Int64(ids.count), Int64(config.dModel), embedding.dtype.kernelDType)
        embedding.withUnsafeBytes { w in lk_qembedding_forward(x.pointer, w.baseAddress, ids.pointer, n, dim, dt, ctx.t32) }
        return x
    }

    /// Positions 0..<T for each of B rows.
    func positions(b: Int, t: Int, _ ctx: Context) throws(LeaderError) -> IndexTensor {
        if let p = positions, p.shape == [b, t] { return p }
        let p = try IndexTensor(zeros: [b, t])
        lk_iota_i32(p.pointer, Int64(t), ctx.t32)
        for r in 1..<max(b, 1) { Memory.copy(p.pointer + r * t, from: p.pointer, count: t) }
        positions = p
        return p
    }

    /// Runs layers `range` on x (B,T,C); returns the last layer's buffer (x itself for an empty range).
    public func runLayers(_ x: Tensor, _ range: Range<Int>, lengths: IndexTensor, _ ctx: Context)
        throws(LeaderError) -> Tensor
    {
        guard range.lowerBound >= 0, range.upperBound <= layers.count else {
            throw .invalidArgument("decoder: layers \(range) outside 0..<\(layers.count)")
        }
        guard x.rank == 3 else { throw .invalidArgument("decoder: hidden states must be (B,T,C), got \(x.shape)") }
        let pos = try positions(b: x.shape[0], t: x.shape[1], ctx)
        var h = x
        for l in range { h = try layers[l].forward(h, lengths: lengths, positions: pos, ctx) }
        return h
    }

    /// The hidden states after the final norm (B,T,C) for ids (B,T) with lengths (B). With `lowerOutput`
    /// (the output of layer `firstAdaptedLayer - 1`, e.g. from `frozenPrefix`), the frozen layers are skipped.
    public func forward(_ ids: IndexTensor, lengths: IndexTensor, lowerOutput: Tensor? = nil, _ ctx: Context)
        throws(LeaderError) -> Tensor
    {
        var h: Tensor
        if let lowerOutput {
            guard lowerOutput.shape == ids.shape + [config.dModel] else {
                throw .invalidArgument("decoder: cached lower-layer output \(lowerOutput.shape) does not match ids \(ids.shape)")
            }
            if recomputing {
                h = lowerOutput  // copied into the first adapted layer's saved input below
            } else {
                let keep = try Workspace.ensure(&cachedInput, lowerOutput.shape)
                try keep.copy(from: lowerOutput)
                h = keep
            }
        } else {
            h = try runLayers(try embed(ids, ctx), 0..<firstAdaptedLayer, lengths: lengths, ctx)
        }
        h = recomputing ? try runAdaptedKeepingInputs(h, lengths: lengths, ctx)
                        : try runLayers(h, firstAdaptedLayer..<layers.count, lengths: lengths, ctx)
        return try finalNorm.forward(h, ctx)
    }

    /// The adapted layers with recomputation: each layer runs on a saved copy of its input (the shared
    /// buffers it writes would otherwise overwrite it), and the dropout-stream position is noted.
    private func runAdaptedKeepingInputs(_ x: Tensor, lengths: IndexTensor, _ ctx: Context) throws(LeaderError)
        -> Tensor
    {
        guard x.rank == 3 else { throw .invalidArgument("decoder: hidden states must be (B,T,C), got \(x.shape)") }
        let pos = try positions(b: x.shape[0], t: x.shape[1], ctx)
        recomputeState = nil
        var h = x
        for l in firstAdaptedLayer..<layers.count {
            let i = l - firstAdaptedLayer
            let keep = try Workspace.ensure(&layerInputs[i], h.shape)
            try keep.copy(from: h)
            layerKeys[i] = ctx.dropoutKeysDrawn
            h = try layers[l].forward(keep, lengths: lengths, positions: pos, ctx)
        }
        recomputeState = (lengths, ctx.training)
        return h
    }

    /// Re-runs adapted layer `l`'s forward from its saved input with the dropout keys (and training flag) of
    /// the original forward, refilling the shared buffers its backward reads.
    private func recomputeLayer(_ l: Int, _ ctx: Context) throws(LeaderError) {
        let i = l - firstAdaptedLayer
        guard let state = recomputeState, i >= 0, i < layerInputs.count, let x = layerInputs[i] else {
            throw .internalError("decoder: backward without a forward to recompute layer \(l) from")
        }
        let pos = try positions(b: x.shape[0], t: x.shape[1], ctx)
        ctx.setDropoutKeysDrawn(layerKeys[i])
        ctx.training = state.training
        _ = try layers[l].forward(x, lengths: state.lengths, positions: pos, ctx)
    }

    /// The output of the frozen layers below the adapters (B,T,C): what `forward(lowerOutput:)` takes.
    /// A view of a decoder buffer: copy it to keep it.
    public func frozenPrefix(_ ids: IndexTensor, lengths: IndexTensor, _ ctx: Context) throws(LeaderError) -> Tensor {
        try runLayers(try embed(ids, ctx), 0..<firstAdaptedLayer, lengths: lengths, ctx)
    }

    /// Backward from the gradient of the final hidden states (B,T,C) through the adapted layers: accumulates
    /// the adapters' gradients into `adapters`. The frozen layers below get no gradient.
    public func backward(_ dHidden: Tensor, _ ctx: Context) throws(LeaderError) {
        guard firstAdaptedLayer < layers.count else { return }
        var dOut = try Workspace.zeroed(&dFinal, dHidden.shape)
        try finalNorm.backward(dHidden, into: dOut, ctx)
        let buffers = [try Workspace.ensure(&dA, dHidden.shape), try Workspace.ensure(&dB, dHidden.shape)]
        var which = 0
        // Recomputation moves the dropout stream and may set the training flag: put both back afterwards.
        let (drawn, training) = (ctx.dropoutKeysDrawn, ctx.training)
        defer {
            ctx.setDropoutKeysDrawn(drawn)
            ctx.training = training
        }
        for l in stride(from: layers.count - 1, through: firstAdaptedLayer, by: -1) {
            // The top layer ran last: its intermediates are still in the shared buffers.
            if recomputing && l < layers.count - 1 { try recomputeLayer(l, ctx) }
            if l == firstAdaptedLayer {
                try layers[l].backward(dOut, into: nil, ctx)
            } else {
                let dIn = buffers[which]  // never the buffer dOut points at
                dIn.zero()
                try layers[l].backward(dOut, into: dIn, ctx)
                dOut = dIn
                which ^= 1
            }
        }
    }

    /// LM logits (rows, vocab) of hidden states (rows, C) (final-normed). In int8 precision, with a Q8_0 / Q4_0 /
    /// Q4_1 head, the hidden rows are quantised to int8 blocks and multiplied with integer dot products, as the
    /// layers' products are (a third of int8 decoding's time went to an fp32 head of 28 M weights).
    public func logits(_ hidden: Tensor, _ ctx: Context) throws(LeaderError) -> Tensor {
        let rows = try Checks.rows(hidden, lastDim: config.dModel, "LM head")
        let y = try Workspace.ensure(&logitsBuffer, [rows, config.vocabSize])
        let (m, n, k, dt) = (Int64(rows), Int64(config.vocabSize), Int64(config.dModel), lmHead.dtype.kernelDType)
        if precision == .int8 && lk_qgemm_q8_supports(dt) != 0 && config.dModel % 32 == 0 {
            let q = try QuantizedInput(hidden, rows: rows, width: config.dModel, into: &quantizedHidden,
                                       name: "LM head", ctx)
            lmHead.withUnsafeBytes { w in
                lk_qgemm_q8(y.pointer, n, q.blocks.pointer, w.baseAddress, m, n, k, dt, 0, ctx.t32)
            }
        } else {
            lmHead.withUnsafeBytes { w in lk_qgemm(y.pointer, n, hidden.pointer, k, w.baseAddress, m, n, k, dt, 0, ctx.t32) }
        }
        return y
    }

    /// The hidden state of the last token of each sequence (B,C), `lengths[b] - 1` (never the pad id).
    public static func lastToken(_ hidden: Tensor, lengths: IndexTensor, into out: inout Tensor?, _ ctx: Context)
        throws(LeaderError) -> Tensor
    {
        guard hidden.rank == 3, lengths.shape == [hidden.shape[0]] else {
            throw .invalidArgument("last token: hidden \(hidden.shape) and lengths \(lengths.shape) do not match")
        }
        let (b, t, c) = (hidden.shape[0], hidden.shape[1], hidden.shape[2])
        if let l = lengths.firstValue(outside: 1, Int32(clamping: t + 1)) {
            throw .invalidArgument("last token: length \(l) outside 1...\(t)")
        }
        let y = try Workspace.ensure(&out, [b, c])
        lk_gather_last_forward(y.pointer, hidden.pointer, lengths.pointer, Int64(b), Int64(t), Int64(c), ctx.t32)
        return y
    }

    /// Greedy decoding with a KV cache: the prompt runs once, then one token per step. Stops after
    /// `maxNewTokens` or at `stop` (included in the result). Returns the new tokens.
    public func generate(_ prompt: [Int32], maxNewTokens: Int, stop: Int32? = nil, _ ctx: Context)
        throws(LeaderError) -> [Int32]
    {
        guard !prompt.isEmpty else { throw .invalidArgument("generate: empty prompt") }
        guard maxNewTokens >= 0 else { throw .invalidArgument("generate: maxNewTokens must be >= 0") }
        let capacity = try Checked.sum(prompt.count, maxNewTokens, "generate length")
        let cache = try KVCache(config: config, capacity: capacity)
        let ids = try IndexTensor(shape: [1, prompt.count], values: prompt)
        let lengths = try IndexTensor(shape: [1], values: [Int32(clamping: prompt.count)])
        var h = try embed(ids, ctx)
        let pos = try positions(b: 1, t: prompt.count, ctx)
        for (l, layer) in layers.enumerated() {
            h = try layer.forward(h, lengths: lengths, positions: pos, cache: cache.layers[l], ctx)
        }
        var out: [Int32] = []
        let normed = try finalNorm.forward(h, ctx)
        let lastRow = try Tensor(viewing: normed.storage, offset: normed.offset + (prompt.count - 1) * config.dModel,
                                 shape: [1, config.dModel])
        var next = try argmax(logits(lastRow, ctx), ctx)
        let step = try IndexTensor(zeros: [1, 1]), position = try IndexTensor(zeros: [1, 1])
        while out.count < maxNewTokens {
            out.append(next)
            if next == stop || out.count == maxNewTokens { break }
            step.pointer[0] = next
            position.pointer[0] = Int32(clamping: cache.count)
            var x = try embed(step, ctx)
            for (l, layer) in layers.enumerated() { x = try layer.decode(x, cache: cache.layers[l], position: position, ctx) }
            next = try argmax(logits(finalNorm.forward(x, ctx).reshaped([1, config.dModel]), ctx), ctx)
        }
        return out
    }

    private func argmax(_ logits: Tensor, _ ctx: Context) throws(LeaderError) -> Int32 {
        let ids = try Workspace.ensure(&tokenIDs, [1])
        lk_argmax_rows(ids.pointer, logits.pointer, 1, Int64(config.vocabSize), ctx.t32)
        return ids.pointer[0]
    }
}

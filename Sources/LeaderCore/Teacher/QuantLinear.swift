import CLeaderKernels

/// A frozen linear layer `y = x Wᵀ` whose weight stays in the model file, in its stored dtype (F32, F16,
/// BF16, Q8_0, Q4_0, Q4_1), read by `lk_qgemm` without a dequantised copy (QLoRA style), plus an optional
/// LoRA adapter `(α/r)·drop(x) Aᵀ Bᵀ` with A (r, in) and B (out, r) in a trainable store
/// (`<name>.lora_A.weight`, `<name>.lora_B.weight`). Backward passes the input gradient through W
/// (`lk_qgemm_backward_input`) and accumulates the adapter's gradients; W itself gets none. `precision` chooses
/// the forward product of the frozen weight (and, for bf16, the input gradient's product too) (`QuantPrecision`: exact fp32, int8 activations × integer dots, or
/// bf16 operands on AMX tiles).
public final class QuantLinear {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: TensorData
    public let loraA: Parameter?
    public let loraB: Parameter?
    public let scaling: Float
    let store: ParameterStore?
    private let dropoutP: Float
    private var dropoutKey: UInt64?
    private let dtype: Int32
    /// The frozen product's arithmetic (set for the whole model by `LlamaDecoder.precision`).
    public var precision: QuantPrecision = .fp32
    private var input: Tensor?, xaBuffer: Tensor?
    let buffers: LinearBuffers
    let grads: LinearGradBuffers

    /// `weight` must be (out, in) with `in` a multiple of the dtype's block size. With `lora`, registers the
    /// adapter in `store`: A Kaiming-uniform (seeded by the store), B zero.
    public convenience init(_ weight: TensorData, name: String, lora: LoRAConfig?, store: ParameterStore?)
        throws(LeaderError)
    {
        try self.init(weight, name: name, lora: lora, store: store, buffers: LinearBuffers(), grads: LinearGradBuffers())
    }

    init(_ weight: TensorData, name: String, lora: LoRAConfig?, store: ParameterStore?, buffers: LinearBuffers,
         grads: LinearGradBuffers) throws(LeaderError) {
        self.buffers = buffers
        self.grads = grads
        guard weight.shape.count == 2, weight.shape[0] > 0, weight.shape[1] > 0 else {
            throw .invalidArgument("\(name): a linear weight must be 2-D, got shape \(weight.shape)")
        }
        guard weight.shape[1] % weight.dtype.blockSize == 0 else {
            throw .incompatible("\(name): \(weight.shape[1]) inputs is not a multiple of the \(weight.dtype) block size")
        }
        self.weight = weight
        outFeatures = weight.shape[0]
        inFeatures = weight.shape[1]
        dtype = weight.dtype.kernelDType
        if let lora {
            guard let store, store.trainable else {
                throw .invalidArgument("\(name): LoRA adapters need a trainable parameter store")
            }
            self.store = store
            loraA = try store.register("\(name).lora_A.weight", shape: [lora.rank, inFeatures],
                                       initializer: .linearDefault(fanIn: inFeatures))
            loraB = try store.register("\(name).lora_B.weight", shape: [outFeatures, lora.rank], initializer: .zeros)
            scaling = lora.scaling
            dropoutP = lora.dropout
        } else {
            self.store = nil
            loraA = nil
            loraB = nil
            scaling = 0
            dropoutP = 0
        }
    }

    public var hasAdapter: Bool { loraA != nil }

    /// Whether the frozen product runs on int8 activations (`precision` is int8 and the dtype has an integer path).
    var usesInt8: Bool { precision == .int8 && lk_qgemm_q8_supports(dtype) != 0 }

    /// Whether a product of `rows` rows runs on bf16 tiles (`precision` bf16; fewer rows stay fp32: converting
    /// the weight per call would dominate).
    func usesBF16(rows: Int) -> Bool { precision == .bf16 && rows >= 16 }

    /// x quantised once for this layer and any other int8 linear reading the same x (nil when this layer
    /// computes in fp32). The result lives in scratch shared by the model's linears.
    public func quantizedInput(_ x: Tensor, _ ctx: Context) throws(LeaderError) -> QuantizedInput? {
        guard usesInt8 else { return nil }
        let rows = try Checks.rows(x, lastDim: inFeatures, weight.name)
        return try QuantizedInput(x, rows: rows, width: inFeatures, into: &grads.quantized, name: weight.name, ctx)
    }

    /// x (..., in) → (..., out). Caches x for backward (it must stay unchanged until then). `quantized`: x as
    /// int8 blocks from `quantizedInput` (of any linear with the same input width), reused when this layer is int8.
    public func forward(_ x: Tensor, quantized: QuantizedInput? = nil, _ ctx: Context) throws(LeaderError) -> Tensor {
        let rows = try Checks.rows(x, lastDim: inFeatures, weight.name)
        let y = try Workspace.ensure(&buffers.output, Array(x.shape.dropLast()) + [outFeatures])
        if usesInt8 {
            var xq = quantized
            if let given = xq, given.source != x.pointer || given.rows != rows || given.width != inFeatures { xq = nil }
            if xq == nil { xq = try quantizedInput(x, ctx) }
            if let xq {
                let (m, n, k, dt) = (Int64(rows), Int64(outFeatures), Int64(inFeatures), dtype)
                weight.withUnsafeBytes { w in
                    lk_qgemm_q8(y.pointer, n, xq.blocks.pointer, w.baseAddress, m, n, k, dt, 0, ctx.t32)
                }
            }
        } else if usesBF16(rows: rows) {
            let (m, n, k, dt) = (Int64(rows), Int64(outFeatures), Int64(inFeatures), dtype)
            weight.withUnsafeBytes { w in
                lk_qgemm_bf16(y.pointer, n, x.pointer, k, w.baseAddress, m, n, k, dt, 0, ctx.t32)
            }
        } else {
            try product(y, x, rows: rows, beta: 0, ctx)
        }
        input = x
        if let store, let loraA, let loraB {
            let xd = try droppedInput(x, key: ctx.training && dropoutP > 0 ? ctx.nextDropoutKey() : nil, ctx)
            let r = loraA.shape[0]
            let t = try Workspace.ensure(&xaBuffer, [rows, r])
            Gemm.run(t.pointer, xd.pointer, store.value(loraA).pointer, m: rows, n: r, k: inFeatures, transB: true,
                     threads: ctx.threads)
            Gemm.run(y.pointer, t.pointer, store.value(loraB).pointer, m: rows, n: outFeatures, k: r, transB: true,
                     alpha: scaling, beta: 1, threads: ctx.threads)
        }
        return y
    }

    /// x itself without dropout; otherwise drop(x) with `key` in the shared scratch (the mask is a function of
    /// the key, so backward recomputes the same tensor).
    private func droppedInput(_ x: Tensor, key: UInt64?, _ ctx: Context) throws(LeaderError) -> Tensor {
        dropoutKey = key
        guard let key else { return x }
        let xd = try Workspace.ensure(&grads.dropped, x.shape)
        lk_dropout_forward(xd.pointer, x.pointer, Int64(x.count), dropoutP, key, 0, ctx.t32)
        return xd
    }

    /// y (rows, out) = x W^T + beta·y, reading W from the file.
    func product(_ y: Tensor, _ x: Tensor, rows: Int, beta: Float, _ ctx: Context) throws(LeaderError) {
        let (m, n, k, dt) = (Int64(rows), Int64(outFeatures), Int64(inFeatures), dtype)
        weight.withUnsafeBytes { w in
            lk_qgemm(y.pointer, n, x.pointer, k, w.baseAddress, m, n, k, dt, beta, ctx.t32)
        }
    }

    /// dx += dOut W (when `dIn` is given) and the adapter's gradients dA, dB (accumulate).
    public func backward(_ dOut: Tensor, into dIn: Tensor?, _ ctx: Context) throws(LeaderError) {
        let x = try Checks.cached(input, weight.name)
        try Checks.same(dOut, Array(x.shape.dropLast()) + [outFeatures], "\(weight.name) dOut")
        let rows = x.count / inFeatures
        if let dIn {
            try Checks.same(dIn, x.shape, "\(weight.name) dIn")
            let (m, n, k, dt) = (Int64(rows), Int64(outFeatures), Int64(inFeatures), dtype)
            let bf16 = usesBF16(rows: rows)
            weight.withUnsafeBytes { w in
                if bf16 {
                    lk_qgemm_bf16_backward_input(dIn.pointer, k, dOut.pointer, n, w.baseAddress, m, n, k, dt, ctx.t32)
                } else {
                    lk_qgemm_backward_input(dIn.pointer, k, dOut.pointer, n, w.baseAddress, m, n, k, dt, ctx.t32)
                }
            }
        }
        guard let store, let loraA, let loraB else { return }
        let t = try Checks.cached(xaBuffer, weight.name)
        let xd = try droppedInput(x, key: dropoutKey, ctx)
        let r = loraA.shape[0]
        // dB += s · dOutᵀ (x_d Aᵀ);  d(x_d Aᵀ) = s · dOut B;  dA += d(x_d Aᵀ)ᵀ x_d;  dx_d = d(x_d Aᵀ) A.
        Gemm.run(store.grad(loraB).pointer, dOut.pointer, t.pointer, m: outFeatures, n: r, k: rows, transA: true,
                 alpha: scaling, beta: 1, threads: ctx.threads)
        let dt = try Workspace.ensure(&grads.dXA, [rows, r])
        Gemm.run(dt.pointer, dOut.pointer, store.value(loraB).pointer, m: rows, n: r, k: outFeatures,
                 alpha: scaling, threads: ctx.threads)
        Gemm.run(store.grad(loraA).pointer, dt.pointer, xd.pointer, m: r, n: inFeatures, k: rows, transA: true,
                 beta: 1, threads: ctx.threads)
        guard let dIn else { return }
        let dxd = try Workspace.ensure(&grads.dDropped, x.shape)
        Gemm.run(dxd.pointer, dt.pointer, store.value(loraA).pointer, m: rows, n: inFeatures, k: r,
                 threads: ctx.threads)
        if let key = dropoutKey {
            lk_dropout_backward(dIn.pointer, dxd.pointer, Int64(dxd.count), dropoutP, key, 0, ctx.t32)
        } else {
            lk_axpy(dIn.pointer, dxd.pointer, 1, Int64(dxd.count), ctx.t32)
        }
    }
}

import CLeaderKernels
import Dispatch

/// The student's weights packed for serving: eval-mode LEADER(S), the same function as `StudentModel.forward`
/// + sigmoid with dropout off, computed on ragged rows (no padding) by the serial kernels of `lk_infer.h`, with
/// everything that depends only on the weights done once here:
///
/// - **Per-code attention inputs.** A set encoder's first operation on a code is `LN1(E[code])` followed by
///   the q, k, v projections; it depends on the code alone, so `q|k|v` of every vocabulary entry (through its
///   own stream's encoder) is one table row, looked up instead of computed.
/// - **Pooling before the last projection.** The set/visit encoders end with `x1 + W2·gelu(W1·LN2(x1)) + b2`
///   followed by a mean over the set; the mean commutes with the linear `W2`, so the `F`-wide GELU outputs
///   are averaged first and `W2` runs once per set instead of once per code (empty sets still pool to 0).
/// - **Pre-packed weights** in the GEMM micro-kernel layout (`lk_linear_pack_isa`), or as bf16 AMX tiles
///   (`lk_bf16_pack`) with `precision: .bf16`.
///
/// The precision (fp32 by default) chooses the arithmetic of the linear layers after the code table: `.bf16`
/// rounds their inputs and weights to bfloat16 and sums in f32 (`lk_bf16_linear_forward`, AMX tiles where
/// available); the code table, attention, norms and activations stay fp32. Scores then differ from fp32 by
/// ~1e-3 (docs/student.md "Serving"). The linear layers are packed for each precision asked for, everything
/// else is shared between them; each forward pass picks one.
///
/// Built from a training model's current weights, or straight from a checkpoint's tensors
/// (`init(checkpoint:precisions:)` in Serving/ServingModel.swift: no training model on the way). The two rewrites
/// are exact in real arithmetic; in floats the scores agree with `StudentModel` to ~1e-6 (tested). An instance
/// is immutable and shared by threads; each thread scores through its own `StudentForwardPass` (buffers and the
/// forward computation, `StudentForwardPass.swift`), so single-patient calls allocate nothing once warm.
public final class PackedStudent: @unchecked Sendable {
    public let config: StudentConfig
    public let sizes: StudentVocabularySizes
    let c: Int, f: Int, heads: Int, hidden: Int, fields: Int
    let isa: Int32
    /// The precision of passes made without one (the first this was packed for).
    public let precision: StudentPrecision
    /// The precisions the linear layers are packed for.
    public let precisions: [StudentPrecision]
    let embedding: AlignedBuffer<Float>     // (unified, C)
    let codeQKV: AlignedBuffer<Float>       // (unified, 3C)
    let sets: [Block]                       // diagnosis, procedure, medication encoders
    let visit: Block
    let visitNorm1: (w: AlignedBuffer<Float>, b: AlignedBuffer<Float>)
    let visitQKV: PackedLinear
    let profileTable: AlignedBuffer<Float>  // (profile values, C), or the one padding vector
    let profileHead: PackedLinear?
    let fc1: PackedLinear, fc2: PackedLinear

    /// `x ← x + attn·Woᵀ + bo`, `LN2`, `W1`, GELU, (pool), `W2`.
    struct Block {
        let o: PackedLinear, fc1: PackedLinear, fc2: PackedLinear
        let norm2: (w: AlignedBuffer<Float>, b: AlignedBuffer<Float>)
    }

    /// A weight (N, K) packed for `isa` (fp32) and/or as bf16 tiles, plus its bias.
    struct PackedLinear {
        let n: Int, k: Int
        let packed: AlignedBuffer<Float>?
        let packedBF16: AlignedBuffer<UInt16>?
        let bias: AlignedBuffer<Float>?

        init(isa: Int32, precisions: [StudentPrecision], weight: Tensor, bias: Tensor?) throws(LeaderError) {
            guard weight.rank == 2 else { throw .internalError("packed student: weight \(weight.shape) is not 2-D") }
            n = weight.shape[0]
            k = weight.shape[1]
            if precisions.contains(.bf16) {
                let elems = try AlignedBuffer<UInt16>(count: Int(lk_bf16_packed_elems(Int64(n), Int64(k))))
                lk_bf16_pack(elems.base, weight.pointer, Int64(k), Int64(n), Int64(k))
                packedBF16 = elems
            } else {
                packedBF16 = nil
            }
            if precisions.contains(.fp32) {
                let floats = try AlignedBuffer<Float>(count: Int(lk_linear_packed_floats_isa(isa, Int64(n), Int64(k))))
                lk_linear_pack_isa(isa, floats.base, weight.pointer, Int64(n), Int64(k))
                packed = floats
            } else {
                packed = nil
            }
            if let bias {
                guard bias.count == n else { throw .internalError("packed student: bias \(bias.shape) for \(n) outputs") }
                self.bias = try copyOf(bias)
            } else {
                self.bias = nil
            }
        }

        /// y (m, n) (rows ldy apart) = x (m, k) Wᵀ + b, or y += … with `accumulate`; bf16 products when
        /// `bf16` (the weights were packed for the precision a pass uses, so the packing exists).
        func forward(_ isa: Int32, bf16: Bool, _ y: UnsafeMutablePointer<Float>, ldy: Int, _ x: UnsafePointer<Float>,
                     ldx: Int, rows m: Int, accumulate: Bool, scratch: UnsafeMutablePointer<Float>) {
            if bf16, let p = packedBF16 {
                lk_bf16_linear_forward(y, Int64(ldy), x, Int64(ldx), p.base, bias?.base, Int64(m), Int64(n), Int64(k),
                                       accumulate ? 1 : 0, 0, scratch)
            } else if let p = packed {
                lk_linear_packed_forward_isa(isa, y, Int64(ldy), x, Int64(ldx), p.base, bias?.base, Int64(m), Int64(n),
                                         Int64(k), accumulate ? 1 : 0, scratch)
            }
        }

        /// p (sets, n) (rows ldp apart) = the mean over each set's rows of GELU(x Wᵀ + b), the sets given by
        /// `sets + 1` offsets into x's rows (the first may be nonzero: x is its row); bf16 products when `bf16`.
        func geluMean(_ isa: Int32, bf16: Bool, _ p: UnsafeMutablePointer<Float>, ldp: Int, _ x: UnsafePointer<Float>,
                      ldx: Int, offsets: UnsafePointer<Int32>, sets: Int, scratch: UnsafeMutablePointer<Float>) {
            if bf16, let w = packedBF16 {
                lk_bf16_linear_gelu_mean(p, Int64(ldp), x, Int64(ldx), w.base, bias?.base, offsets, Int64(sets),
                                         Int64(n), Int64(k), scratch)
            } else if let w = packed {
                lk_linear_gelu_mean_packed_isa(isa, p, Int64(ldp), x, Int64(ldx), w.base, bias?.base, offsets, Int64(sets),
                                               Int64(n), Int64(k), scratch)
            }
        }

        /// Floats of the scratch `forward` needs for `k` inputs (either precision).
        static func scratchFloats(_ k: Int) -> Int {
            max(Int(lk_linear_scratch_floats(Int64(k))), (Int(lk_bf16_scratch_bytes(Int64(k))) + 3) / 4)
        }

        /// Floats of the scratch `geluMean` needs for this layer (either precision).
        var geluMeanScratchFloats: Int { max(Self.scratchFloats(k), Int(lk_linear_gelu_mean_scratch_floats(Int64(n), Int64(k)))) }
    }

    /// Snapshot of `model`'s current weights (later training steps do not change it), packed for `precision`.
    public convenience init(_ model: StudentModel, precision: StudentPrecision = .fp32) throws(LeaderError) {
        let store = model.store
        try self.init(config: model.config, sizes: model.sizes, precisions: [precision]) { name in
            store.parameter(named: name).map { store.value($0) }
        }
    }

    /// `weights(name)`: the tensor of a parameter (`StudentParameters` names), nil when absent.
    init(config cfg: StudentConfig, sizes: StudentVocabularySizes, precisions: [StudentPrecision],
         weights: (String) throws(LeaderError) -> Tensor?) throws(LeaderError) {
        guard let first = precisions.first else { throw .invalidArgument("packed student: no precision to pack for") }
        precision = first
        self.precisions = precisions
        config = cfg
        self.sizes = sizes
        c = cfg.hidden
        f = cfg.ffnHidden
        heads = cfg.heads
        hidden = cfg.headHidden
        let usesProfile = StudentParameters.usesProfile(cfg, sizes)
        fields = usesProfile ? sizes.profileCardinalities.count : 0
        let isa = lk_isa_active(), c = cfg.hidden
        self.isa = isa
        func value(_ name: String) throws(LeaderError) -> Tensor {
            guard let t = try weights(name) else { throw .internalError("packed student: no parameter \(name)") }
            return t
        }
        func optional(_ name: String) throws(LeaderError) -> Tensor? { try weights(name) }
        func linear(_ name: String) throws(LeaderError) -> PackedLinear {
            try PackedLinear(isa: isa, precisions: precisions, weight: value("\(name).weight"),
                             bias: optional("\(name).bias"))
        }
        func attentionQKV(_ name: String, precisions: [StudentPrecision]) throws(LeaderError) -> PackedLinear {
            let hasBias = try optional("\(name).attn.q.bias") != nil
            return try PackedLinear(isa: isa, precisions: precisions, weight: try Self.stackedQKV(value, name, c),
                                    bias: hasBias ? try Self.stackedQKV(value, name, c, bias: true) : nil)
        }
        func block(_ name: String) throws(LeaderError) -> Block {
            Block(o: try linear("\(name).attn.o"), fc1: try linear("\(name).ffn.fc1"), fc2: try linear("\(name).ffn.fc2"),
                  norm2: (try copyOf(value("\(name).norm2.weight")), try copyOf(value("\(name).norm2.bias"))))
        }
        let names = ["diagnosis_encoder", "procedure_encoder", "medication_encoder"]
        sets = try names.map { (n) throws(LeaderError) -> Block in try block(n) }
        visit = try block("visit_encoder")
        visitNorm1 = (try copyOf(value("visit_encoder.norm1.weight")), try copyOf(value("visit_encoder.norm1.bias")))
        visitQKV = try attentionQKV("visit_encoder", precisions: precisions)
        let emb = try copyOf(value("embedding.weight"))
        embedding = emb
        if usesProfile {
            profileTable = try copyOf(value("profile.embedding.weight"))
            profileHead = try linear("profile.head")
        } else {
            profileTable = try copyOf(value("profile.padding.weight"))
            profileHead = nil
        }
        fc1 = try linear("head.fc1")
        fc2 = try linear("head.fc2")

        // q|k|v of every code through its stream's encoder: LN1 then the three projections (in fp32 always).
        let u = sizes.unifiedCount
        let table = try AlignedBuffer<Float>(count: try Checked.product(u, 3 * c, "packed student code table"))
        let normed = try AlignedBuffer<Float>(count: try Checked.product(u, c, "packed student code table"))
        let stats = try AlignedBuffer<Float>(count: try Checked.product(u, 2, "packed student code table"))
        let ranges = [(sizes.diagnosisOffset, sizes.diagnoses), (sizes.procedureOffset, sizes.procedures),
                      (sizes.medicationOffset, sizes.medications)]
        let scratch = try AlignedBuffer<Float>(count: PackedLinear.scratchFloats(c))
        for (s, (start, count)) in ranges.enumerated() where count > 0 {
            let w = try value("\(names[s]).norm1.weight"), b = try value("\(names[s]).norm1.bias")
            lk_layernorm_forward(normed.base + start * c, stats.base, stats.base + count, emb.base + start * c,
                                 w.pointer, b.pointer, Int64(count), Int64(c), cfg.layerNormEps, 1)
            try attentionQKV(names[s], precisions: [.fp32]).forward(
                isa, bf16: false, table.base + start * 3 * c, ldy: 3 * c, normed.base + start * c, ldx: c, rows: count,
                accumulate: false, scratch: scratch.base)
        }
        codeQKV = table
    }

    /// The (3C, C) weight (or 3C bias) `[q; k; v]` of an attention module.
    private static func stackedQKV(_ value: (String) throws(LeaderError) -> Tensor, _ block: String, _ c: Int,
                                   bias: Bool = false) throws(LeaderError) -> Tensor {
        let part = bias ? "bias" : "weight"
        let per = bias ? c : c * c
        let out = try Tensor(zeros: bias ? [3 * c] : [3 * c, c])
        for (i, p) in ["q", "k", "v"].enumerated() {
            let t = try value("\(block).attn.\(p).\(part)")
            guard t.count == per else { throw .internalError("packed student: \(block).attn.\(p).\(part) is \(t.shape)") }
            Memory.copy(out.pointer + i * per, from: t.pointer, count: per)
        }
        return out
    }

    /// The buffers of one thread's forward passes, computing in `precision` (default: the first packed), which
    /// must be one these weights were packed for.
    public func makePass(precision: StudentPrecision? = nil) throws(LeaderError) -> StudentForwardPass {
        let p = precision ?? self.precision
        guard precisions.contains(p) else {
            throw .invalidArgument("packed student: weights not packed for \(p.rawValue)")
        }
        return StudentForwardPass(self, precision: p)
    }

    /// Sigmoid scores (examples.count × |Med|, row-major) using `threads` threads, each with a fresh pass
    /// (contiguous shares of the examples, `chunk` patients per kernel pass). Bitwise independent of `threads`
    /// and `chunk`. A server that scores often keeps its passes and calls `predict(_:passes:chunk:)`.
    public func predict(_ examples: [StudentExample], threads: Int = 1, chunk: Int = 32) throws(LeaderError) -> [Float] {
        let t = max(1, min(threads, examples.count))
        return try predict(examples, passes: (0..<t).map { (_) throws(LeaderError) in try makePass() }, chunk: chunk)
    }

    /// The same with caller-owned passes of these weights, one thread per pass.
    public func predict(_ examples: [StudentExample], passes: [StudentForwardPass], chunk: Int = 32) throws(LeaderError)
        -> [Float]
    {
        var scores = [Float](repeating: 0, count: try Checked.product(examples.count, sizes.medications, "student scores"))
        try scores.withUnsafeMutableBufferPointer { (out) throws(LeaderError) in
            guard let o = out.baseAddress else { return }
            try predict(examples[...], passes: passes, chunk: chunk, into: o)
        }
        return scores
    }

    /// The same into `out` (examples.count × |Med|, row-major, caller-owned).
    public func predict(_ examples: ArraySlice<StudentExample>, passes: [StudentForwardPass], chunk: Int = 32,
                        into out: UnsafeMutablePointer<Float>) throws(LeaderError) {
        let m = sizes.medications, n = examples.count, first = examples.startIndex
        guard n > 0 else { return }
        guard !passes.isEmpty, passes.allSatisfy({ $0.weights === self }) else {
            throw .invalidArgument("packed student: passes must come from this model's makePass()")
        }
        let t = min(passes.count, n), step = max(1, chunk)
        let share = (n + t - 1) / t
        var failures = [LeaderError?](repeating: nil, count: t)
        failures.withUnsafeMutableBufferPointer { errs in
            guard let eb = errs.baseAddress else { return }
            let base = SharedPointer(out), errors = SharedPointer(eb), pool = SharedPasses(passes)
            DispatchQueue.concurrentPerform(iterations: t) { w in
                let pass = pool.passes[w]
                var i = w * share
                let end = min(n, i + share)
                do throws(LeaderError) {
                    while i < end {
                        let j = min(end, i + step)
                        try pass.predict(examples[(first + i)..<(first + j)], into: base.pointer + i * m)
                        i = j
                    }
                } catch {
                    errors.pointer[w] = error   // each worker writes only its own slot
                }
            }
        }
        if let e = failures.compactMap({ $0 }).first { throw e }
    }
}


/// A pointer handed to worker threads that write disjoint parts of its memory.
private struct SharedPointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ p: UnsafeMutablePointer<T>) { pointer = p }
}

/// Passes handed to worker threads, worker w using only passes[w].
private struct SharedPasses: @unchecked Sendable {
    let passes: [StudentForwardPass]
    init(_ s: [StudentForwardPass]) { passes = s }
}

/// A copy of `t` in its own aligned buffer.
private func copyOf(_ t: Tensor) throws(LeaderError) -> AlignedBuffer<Float> {
    let b = try AlignedBuffer<Float>(count: t.count)
    Memory.copy(b.base, from: t.pointer, count: t.count)
    return b
}

import CLeaderKernels
import Dispatch

/// Eval-mode LEADER(S) for serving: the same function as `StudentModel.forward` + sigmoid with dropout off,
/// computed on ragged rows (no padding) by the serial kernels of `lk_infer.h`, with everything that depends
/// only on the weights done once here:
///
/// - **Per-code attention inputs.** A set encoder's first operation on a code is `LN1(E[code])` followed by
///   the q, k, v projections; it depends on the code alone, so `q|k|v` of every vocabulary entry (through its
///   own stream's encoder) is one table row, looked up instead of computed.
/// - **Pooling before the last projection.** The set/visit encoders end with `x1 + W2·gelu(W1·LN2(x1)) + b2`
///   followed by a mean over the set; the mean commutes with the linear `W2`, so the `F`-wide GELU outputs
///   are averaged first and `W2` runs once per set instead of once per code (empty sets still pool to 0).
/// - **Pre-packed weights** in the GEMM micro-kernel layout (`lk_linear_pack`), or as bf16 AMX tiles
///   (`lk_bf16_pack`) with `precision: .bf16`.
///
/// The precision (fp32 by default) chooses the arithmetic of the linear layers after the code table: `.bf16`
/// rounds their inputs and weights to bfloat16 and sums in f32 (`lk_bf16_linear_forward`, AMX tiles where
/// available); the code table, attention, norms and activations stay fp32. Scores then differ from fp32 by
/// ~1e-3 (docs/student.md "Serving"). An engine packs its linear layers for each precision it is built for
/// and shares everything else between them; each session picks one.
///
/// Built from a training model's current weights, or straight from a checkpoint's tensors (the serving model:
/// no training model on the way). The two rewrites are exact in real arithmetic; in floats the scores agree
/// with `StudentModel` to ~1e-6 (tested). An instance is immutable and shared by threads; each thread scores
/// through its own `StudentSession` (buffers), so single-patient calls allocate nothing once warm.
public final class StudentInference: @unchecked Sendable {
    public let config: StudentConfig
    public let sizes: StudentVocabularySizes
    let c: Int, f: Int, heads: Int, hidden: Int, fields: Int
    let isa: Int32
    /// The precision of sessions made without one (the first this engine was built for).
    public let precision: QuantPrecision
    /// The precisions this engine's linear layers are packed for.
    public let precisions: [QuantPrecision]
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

        init(isa: Int32, precisions: [QuantPrecision], weight: Tensor, bias: Tensor?) throws(LeaderError) {
            guard weight.rank == 2 else { throw .internalError("student inference: weight \(weight.shape) is not 2-D") }
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
                let floats = try AlignedBuffer<Float>(count: Int(lk_linear_packed_floats(isa, Int64(n), Int64(k))))
                lk_linear_pack(isa, floats.base, weight.pointer, Int64(n), Int64(k))
                packed = floats
            } else {
                packed = nil
            }
            if let bias {
                guard bias.count == n else { throw .internalError("student inference: bias \(bias.shape) for \(n) outputs") }
                self.bias = try copyOf(bias)
            } else {
                self.bias = nil
            }
        }

        /// y (m, n) (rows ldy apart) = x (m, k) Wᵀ + b, or y += … with `accumulate`; bf16 products when
        /// `bf16` (the engine was built for the precision a session uses, so the packing exists).
        func forward(_ isa: Int32, bf16: Bool, _ y: UnsafeMutablePointer<Float>, ldy: Int, _ x: UnsafePointer<Float>,
                     ldx: Int, rows m: Int, accumulate: Bool, scratch: UnsafeMutablePointer<Float>) {
            if bf16, let p = packedBF16 {
                lk_bf16_linear_forward(y, Int64(ldy), x, Int64(ldx), p.base, bias?.base, Int64(m), Int64(n), Int64(k),
                                       accumulate ? 1 : 0, 0, scratch)
            } else if let p = packed {
                lk_linear_packed_forward(isa, y, Int64(ldy), x, Int64(ldx), p.base, bias?.base, Int64(m), Int64(n),
                                         Int64(k), accumulate ? 1 : 0, scratch)
            }
        }

        /// bf16 weights only: p (sets, n) (rows ldp apart) = the mean over each set's rows of GELU(x Wᵀ + b),
        /// the sets given by `sets + 1` offsets into x's rows (the first may be nonzero: x is its row).
        func geluMean(_ p: UnsafeMutablePointer<Float>, ldp: Int, _ x: UnsafePointer<Float>, ldx: Int,
                      offsets: UnsafePointer<Int32>, sets: Int, scratch: UnsafeMutablePointer<Float>) throws(LeaderError) {
            guard let w = packedBF16 else { throw .internalError("student inference: fused GELU needs bf16 weights") }
            lk_bf16_linear_gelu_mean(p, Int64(ldp), x, Int64(ldx), w.base, bias?.base, offsets, Int64(sets), Int64(n),
                                     Int64(k), scratch)
        }

        /// Floats of the scratch `forward` needs for `k` inputs (either precision).
        static func scratchFloats(_ k: Int) -> Int {
            max(Int(lk_linear_scratch_floats(Int64(k))), (Int(lk_bf16_scratch_bytes(Int64(k))) + 3) / 4)
        }
    }

    /// Snapshot of `model`'s current weights (later training steps do not change it). `precision`: `.fp32`
    /// (default) or `.bf16`; the student has no int8 path.
    public convenience init(_ model: StudentModel, precision: QuantPrecision = .fp32) throws(LeaderError) {
        let store = model.store
        try self.init(config: model.config, sizes: model.sizes, precisions: [precision]) { name in
            store.parameter(named: name).map { store.value($0) }
        }
    }

    /// Straight from a checkpoint's tensors (validated against `StudentParameters` when it was read), packed
    /// for each of `precisions` (the first is the sessions' default).
    public convenience init(checkpoint: StudentCheckpoint, precisions: [QuantPrecision]) throws(LeaderError) {
        var index: [String: Int] = [:]
        for (i, t) in checkpoint.tensors.enumerated() { index[t.name] = i }
        try self.init(config: checkpoint.config, sizes: checkpoint.sizes, precisions: precisions) {
            (name) throws(LeaderError) -> Tensor? in
            guard let i = index[name] else { return nil }
            let t = checkpoint.tensors[i]
            return try Tensor(shape: t.shape, values: t.values)   // transient: packed below, then released
        }
    }

    /// `weights(name)`: the tensor of a parameter (`StudentParameters` names), nil when absent.
    init(config cfg: StudentConfig, sizes: StudentVocabularySizes, precisions: [QuantPrecision],
         weights: (String) throws(LeaderError) -> Tensor?) throws(LeaderError) {
        guard let first = precisions.first, !precisions.contains(.int8) else {
            throw .invalidArgument("student inference: precision must be fp32 or bf16 (int8 is a teacher option)")
        }
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
            guard let t = try weights(name) else { throw .internalError("student inference: no parameter \(name)") }
            return t
        }
        func optional(_ name: String) throws(LeaderError) -> Tensor? { try weights(name) }
        func linear(_ name: String) throws(LeaderError) -> PackedLinear {
            try PackedLinear(isa: isa, precisions: precisions, weight: value("\(name).weight"),
                             bias: optional("\(name).bias"))
        }
        func attentionQKV(_ name: String, precisions: [QuantPrecision]) throws(LeaderError) -> PackedLinear {
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
        let table = try AlignedBuffer<Float>(count: try Checked.product(u, 3 * c, "student inference code table"))
        let normed = try AlignedBuffer<Float>(count: try Checked.product(u, c, "student inference code table"))
        let stats = try AlignedBuffer<Float>(count: try Checked.product(u, 2, "student inference code table"))
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
            guard t.count == per else { throw .internalError("student inference: \(block).attn.\(p).\(part) is \(t.shape)") }
            Memory.copy(out.pointer + i * per, from: t.pointer, count: per)
        }
        return out
    }

    /// A serving state for one thread, computing in `precision` (default: the engine's first), which must be one
    /// the engine was built for.
    public func makeSession(precision: QuantPrecision? = nil) throws(LeaderError) -> StudentSession {
        let p = precision ?? self.precision
        guard precisions.contains(p) else {
            throw .invalidArgument("student inference: this engine is not packed for \(p.rawValue)")
        }
        return StudentSession(self, precision: p)
    }

    /// Sigmoid scores (examples.count × |Med|, row-major) using `threads` threads, each with a fresh session
    /// (contiguous shares of the examples, `chunk` patients per kernel pass). Bitwise independent of `threads`
    /// and `chunk`. A server that scores often keeps its sessions and calls `predict(_:sessions:chunk:)`.
    public func predict(_ examples: [StudentExample], threads: Int = 1, chunk: Int = 32) throws(LeaderError) -> [Float] {
        let t = max(1, min(threads, examples.count))
        return try predict(examples, sessions: (0..<t).map { (_) throws(LeaderError) in try makeSession() }, chunk: chunk)
    }

    /// The same with caller-owned sessions of this engine, one thread per session.
    public func predict(_ examples: [StudentExample], sessions: [StudentSession], chunk: Int = 32) throws(LeaderError)
        -> [Float]
    {
        var scores = [Float](repeating: 0, count: try Checked.product(examples.count, sizes.medications, "student scores"))
        try scores.withUnsafeMutableBufferPointer { (out) throws(LeaderError) in
            guard let o = out.baseAddress else { return }
            try predict(examples[...], sessions: sessions, chunk: chunk, into: o)
        }
        return scores
    }

    /// The same into `out` (examples.count × |Med|, row-major, caller-owned).
    public func predict(_ examples: ArraySlice<StudentExample>, sessions: [StudentSession], chunk: Int = 32,
                        into out: UnsafeMutablePointer<Float>) throws(LeaderError) {
        let m = sizes.medications, n = examples.count, first = examples.startIndex
        guard n > 0 else { return }
        guard !sessions.isEmpty, sessions.allSatisfy({ $0.engine === self }) else {
            throw .invalidArgument("student inference: sessions must come from this engine's makeSession()")
        }
        let t = min(sessions.count, n), step = max(1, chunk)
        let share = (n + t - 1) / t
        var failures = [LeaderError?](repeating: nil, count: t)
        failures.withUnsafeMutableBufferPointer { errs in
            guard let eb = errs.baseAddress else { return }
            let base = SharedPointer(out), errors = SharedPointer(eb), pool = SharedSessions(sessions)
            DispatchQueue.concurrentPerform(iterations: t) { w in
                let session = pool.sessions[w]
                var i = w * share
                let end = min(n, i + share)
                do throws(LeaderError) {
                    while i < end {
                        let j = min(end, i + step)
                        try session.predict(examples[(first + i)..<(first + j)], into: base.pointer + i * m)
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

/// Per-thread buffers of a `StudentInference`: grown to the largest batch seen and reused.
public final class StudentSession {
    public let engine: StudentInference
    public let precision: QuantPrecision
    private let bf16: Bool
    // code level
    private var ids: [Int32] = [], offsets: [Int32] = [0]
    private var streamTokens = [0, 0, 0, 0], streamSets = [0, 0, 0, 0]
    private var setRow: [Int32] = []            // per set of the patients, in (patient, visit) order per stream
    // visit level
    private var vids: [Int32] = [], voffsets: [Int32] = [0], profileIds: [Int32] = []
    private var buffers: [AlignedBuffer<Float>?] = Array(repeating: nil, count: Buf.allCases.count)

    private enum Buf: Int, CaseIterable { case x, att, h, g, ga, table, pooledG, v, vqkv, vatt, vh, vg, out3, vpooledG, r1, m, m2, logits, prof, stats, attScratch, linScratch }

    init(_ engine: StudentInference, precision: QuantPrecision) {
        self.engine = engine
        self.precision = precision
        bf16 = precision == .bf16
    }

    private func buffer(_ b: Buf, _ count: Int) throws(LeaderError) -> UnsafeMutablePointer<Float> {
        if let buf = buffers[b.rawValue], buf.count >= count { return buf.base }
        let grown = try AlignedBuffer<Float>(count: max(count, (buffers[b.rawValue]?.count ?? 0) * 3 / 2))
        buffers[b.rawValue] = grown
        return grown.base
    }

    /// Writes the sigmoid scores of `examples` (count × |Med|) to `out`. Same validation and truncation rules
    /// as `StudentBatch` (the first `maxCodesPerVisit` codes of a set; all visits of the example).
    public func predict(_ examples: ArraySlice<StudentExample>, into out: UnsafeMutablePointer<Float>) throws(LeaderError) {
        let e = engine, c = e.c, f = e.f, sizes = e.sizes
        let b = examples.count
        guard b > 0 else { return }
        let bf16 = self.bf16
        defer { if bf16 { lk_amx_release() } }   // the pass's bf16 products keep the tiles configured
        try collectCodes(examples)
        let nTok = ids.count, nSets = offsets.count - 1
        let tableRows = try Checked.sum(nSets, b + 1, "student inference table")
        let x = try buffer(.x, nTok * c), att = try buffer(.att, nTok * c)
        let h = try buffer(.h, nTok * c)
        let table = try buffer(.table, try Checked.product(tableRows, c, "student inference table"))
        let pooledG = try buffer(.pooledG, nSets * f)
        let lin = try buffer(.linScratch, StudentInference.PackedLinear.scratchFloats(max(f, 3 * c, e.fields * c, e.hidden)))

        // 1. set encoders on the codes (all three streams in one ragged batch); attention reads each code's
        //    q|k|v row from the table in place
        try ids.withUnsafeBufferPointer { p throws(LeaderError) in
            guard let ip = p.baseAddress else { return }
            lk_embedding_forward(x, e.embedding.base, ip, Int64(nTok), Int64(c), 1)
            try attention(att, e.codeQKV.base, rows: ip, offsets)
        }
        for s in 0..<3 {
            let t0 = streamTokens[s], tn = streamTokens[s + 1] - t0
            guard tn > 0 else { continue }
            e.sets[s].o.forward(e.isa, bf16: bf16, x + t0 * c, ldy: c, att + t0 * c, ldx: c, rows: tn, accumulate: true, scratch: lin)
        }
        offsets.withUnsafeBufferPointer { o in
            guard let op = o.baseAddress else { return }
            lk_segment_mean_forward(table, x, op, Int64(nSets), Int64(c))
        }
        if bf16 {   // W1, GELU and the pooling in one pass per stream (lk_bf16_linear_gelu_mean)
            try offsets.withUnsafeBufferPointer { o throws(LeaderError) in
                guard let op = o.baseAddress else { return }
                for s in 0..<3 {
                    let t0 = streamTokens[s], tn = streamTokens[s + 1] - t0
                    let s0 = streamSets[s], sn = streamSets[s + 1] - s0
                    guard tn > 0 else { continue }
                    let blk = e.sets[s]
                    try layerNorm(h + t0 * c, x + t0 * c, blk.norm2, rows: tn)
                    try blk.fc1.geluMean(pooledG + s0 * f, ldp: f, h + t0 * c, ldx: c, offsets: op + s0, sets: sn,
                                         scratch: lin)
                }
            }
        } else {
            let g = try buffer(.g, nTok * f), ga = try buffer(.ga, nTok * f)
            for s in 0..<3 {
                let t0 = streamTokens[s], tn = streamTokens[s + 1] - t0
                guard tn > 0 else { continue }
                let blk = e.sets[s]
                try layerNorm(h + t0 * c, x + t0 * c, blk.norm2, rows: tn)
                blk.fc1.forward(e.isa, bf16: bf16, g + t0 * f, ldy: f, h + t0 * c, ldx: c, rows: tn, accumulate: false, scratch: lin)
            }
            lk_activation_forward(ga, g, Int64(nTok * f), ActivationKind.geluTanh.rawValue, 1)
            offsets.withUnsafeBufferPointer { o in
                guard let op = o.baseAddress else { return }
                lk_segment_mean_forward(pooledG, ga, op, Int64(nSets), Int64(f))
            }
        }
        for s in 0..<3 {
            let s0 = streamSets[s], sn = streamSets[s + 1] - s0
            guard sn > 0 else { continue }
            e.sets[s].fc2.forward(e.isa, bf16: bf16, table + s0 * c, ldy: c, pooledG + s0 * f, ldx: f, rows: sn, accumulate: true,
                                  scratch: lin)
        }

        // 2. prompts (rows nSets..<nSets+b) and the zero row (nSets+b) of the set-vector table
        try collectVisits(examples, nSets: nSets)
        let promptRow = table + nSets * c
        if let head = e.profileHead {
            let prof = try buffer(.prof, b * e.fields * c)
            guard profileIds.count == b * e.fields else { throw .internalError("student inference: profile ids") }
            profileIds.withUnsafeBufferPointer { p in
                guard let pp = p.baseAddress else { return }
                lk_embedding_forward(prof, e.profileTable.base, pp, Int64(b * e.fields), Int64(c), 1)
            }
            head.forward(e.isa, bf16: bf16, promptRow, ldy: c, prof, ldx: e.fields * c, rows: b, accumulate: false, scratch: lin)
        } else {
            for i in 0..<b { Memory.copy(promptRow + i * c, from: e.profileTable.base, count: c) }
        }
        Memory.zero(table + (nSets + b) * c, count: c)

        // 3. the shared visit encoder over 3b sequences ordered (patient, stream): its pooled output is (b, 3C)
        let nV = vids.count, seqs = 3 * b
        let v = try buffer(.v, nV * c), vqkv = try buffer(.vqkv, nV * 3 * c), vatt = try buffer(.vatt, nV * c)
        let vh = try buffer(.vh, nV * c)
        let out3 = try buffer(.out3, seqs * c), vpooledG = try buffer(.vpooledG, seqs * f)
        vids.withUnsafeBufferPointer { p in
            guard let vp = p.baseAddress else { return }
            lk_embedding_forward(v, table, vp, Int64(nV), Int64(c), 1)
        }
        try layerNorm(vh, v, e.visitNorm1, rows: nV)
        e.visitQKV.forward(e.isa, bf16: bf16, vqkv, ldy: 3 * c, vh, ldx: c, rows: nV, accumulate: false, scratch: lin)
        try attention(vatt, vqkv, rows: nil, voffsets)
        e.visit.o.forward(e.isa, bf16: bf16, v, ldy: c, vatt, ldx: c, rows: nV, accumulate: true, scratch: lin)
        try layerNorm(vh, v, e.visit.norm2, rows: nV)
        if bf16 {
            try voffsets.withUnsafeBufferPointer { o throws(LeaderError) in
                guard let op = o.baseAddress else { return }
                try e.visit.fc1.geluMean(vpooledG, ldp: f, vh, ldx: c, offsets: op, sets: seqs, scratch: lin)
                lk_segment_mean_forward(out3, v, op, Int64(seqs), Int64(c))
            }
        } else {
            let vg = try buffer(.vg, nV * f), vga = try buffer(.ga, nV * f)   // the code-level GELU output is done
            e.visit.fc1.forward(e.isa, bf16: bf16, vg, ldy: f, vh, ldx: c, rows: nV, accumulate: false, scratch: lin)
            lk_activation_forward(vga, vg, Int64(nV * f), ActivationKind.geluTanh.rawValue, 1)
            voffsets.withUnsafeBufferPointer { o in
                guard let op = o.baseAddress else { return }
                lk_segment_mean_forward(out3, v, op, Int64(seqs), Int64(c))
                lk_segment_mean_forward(vpooledG, vga, op, Int64(seqs), Int64(f))
            }
        }
        e.visit.fc2.forward(e.isa, bf16: bf16, out3, ldy: c, vpooledG, ldx: f, rows: seqs, accumulate: true, scratch: lin)

        // 4. head: ReLU → fc1 → ReLU → fc2 → sigmoid, straight into `out`
        let r1 = try buffer(.r1, b * 3 * c), mid = try buffer(.m, b * e.hidden), mid2 = try buffer(.m2, b * e.hidden)
        let logits = try buffer(.logits, b * sizes.medications)
        lk_activation_forward(r1, out3, Int64(b * 3 * c), ActivationKind.relu.rawValue, 1)
        e.fc1.forward(e.isa, bf16: bf16, mid, ldy: e.hidden, r1, ldx: 3 * c, rows: b, accumulate: false, scratch: lin)
        lk_activation_forward(mid2, mid, Int64(b * e.hidden), ActivationKind.relu.rawValue, 1)
        e.fc2.forward(e.isa, bf16: bf16, logits, ldy: sizes.medications, mid2, ldx: e.hidden, rows: b, accumulate: false, scratch: lin)
        lk_activation_forward(out, logits, Int64(b * sizes.medications), ActivationKind.sigmoid.rawValue, 1)
    }

    /// LayerNorm of `rows` rows of width C (one thread: the kernel enters no OpenMP region).
    private func layerNorm(_ out: UnsafeMutablePointer<Float>, _ x: UnsafeMutablePointer<Float>,
                           _ p: (w: AlignedBuffer<Float>, b: AlignedBuffer<Float>), rows: Int) throws(LeaderError) {
        let stats = try buffer(.stats, 2 * rows)
        lk_layernorm_forward(out, stats, stats + rows, x, p.w.base, p.b.base, Int64(rows), Int64(engine.c),
                             engine.config.layerNormEps, 1)
    }

    /// Set attention over the ragged sets `offs`; token t's q|k|v is row t of `qkv`, or row rows[t].
    private func attention(_ out: UnsafeMutablePointer<Float>, _ qkv: UnsafePointer<Float>,
                           rows: UnsafePointer<Int32>?, _ offs: [Int32]) throws(LeaderError)
    {
        let e = engine, c = e.c, d = c / e.heads
        var longest = 0
        for i in 0..<(offs.count - 1) { longest = max(longest, Int(offs[i + 1] - offs[i])) }
        let scratch = try buffer(.attScratch, Int(lk_set_attention_scratch_floats(Int64(longest), Int64(d))))
        offs.withUnsafeBufferPointer { o in
            guard let op = o.baseAddress else { return }
            lk_set_attention_forward(out, Int64(c), qkv, Int64(3 * c), rows, op, Int64(offs.count - 1), Int64(e.heads),
                                     Int64(d), 1 / Float(d).squareRoot(), scratch)
        }
    }

    /// Unified code ids of every non-empty set, stream by stream (diagnoses, procedures, medications), each in
    /// (patient, visit) order; `setRow` maps every set (empty ones too) to its table row or to the zero row.
    private func collectCodes(_ examples: ArraySlice<StudentExample>) throws(LeaderError) {
        let sizes = engine.sizes, cap = engine.config.maxCodesPerVisit, fields = engine.sizes.profileCardinalities.count
        ids.removeAll(keepingCapacity: true)
        offsets.removeAll(keepingCapacity: true)
        offsets.append(0)
        setRow.removeAll(keepingCapacity: true)
        for ex in examples { try ex.validateShape(profileFields: fields) }
        for s in 0..<3 {   // a switch, not key paths or a per-call array: this runs once per prediction
            let (offset, vocab, what) = s == 0 ? (sizes.diagnosisOffset, sizes.diagnoses, "diagnosis")
                : s == 1 ? (sizes.procedureOffset, sizes.procedures, "procedure")
                : (sizes.medicationOffset, sizes.medications, "medication")
            streamTokens[s] = ids.count
            streamSets[s] = offsets.count - 1
            for ex in examples {
                for set in s == 0 ? ex.diagnoses : s == 1 ? ex.procedures : ex.medications {
                    let k = min(set.count, cap)
                    guard k > 0 else { setRow.append(-1); continue }
                    for j in 0..<k {
                        let code = set[j]
                        guard code >= 0, Int(code) < vocab else {
                            throw .invalidArgument("student batch: \(what) id \(code) outside vocabulary of \(vocab)")
                        }
                        ids.append(Int32(offset + Int(code)))
                    }
                    guard ids.count < Int(Int32.max) else { throw .overflow("student inference: too many codes") }
                    setRow.append(Int32(offsets.count - 1))
                    offsets.append(Int32(ids.count))
                }
            }
        }
        streamTokens[3] = ids.count
        streamSets[3] = offsets.count - 1
    }

    /// Rows of the set-vector table for the 3b visit sequences, ordered (patient, stream), and the profile ids.
    private func collectVisits(_ examples: ArraySlice<StudentExample>, nSets: Int) throws(LeaderError) {
        let b = examples.count, zero = Int32(nSets + b)
        let cards = engine.sizes.profileCardinalities, usesProfile = engine.profileHead != nil
        vids.removeAll(keepingCapacity: true)
        voffsets.removeAll(keepingCapacity: true)
        voffsets.append(0)
        profileIds.removeAll(keepingCapacity: true)
        func row(_ r: Int32) -> Int32 { r < 0 ? zero : r }
        // setRow holds the diagnosis sets of all patients, then the procedure sets, then the medication sets.
        var dIndex = 0, pIndex = examples.reduce(0) { $0 + $1.visitCount }, mIndex = 2 * pIndex
        for (i, ex) in examples.enumerated() {
            let v = ex.visitCount
            for j in 0..<v { vids.append(row(setRow[dIndex + j])) }
            voffsets.append(Int32(vids.count))
            for j in 0..<v { vids.append(row(setRow[pIndex + j])) }
            voffsets.append(Int32(vids.count))
            vids.append(Int32(nSets + i))
            for j in 0..<(v - 1) { vids.append(row(setRow[mIndex + j])) }
            voffsets.append(Int32(vids.count))
            dIndex += v
            pIndex += v
            mIndex += v - 1
            var base = 0
            for (fi, card) in cards.enumerated() {
                let label = ex.profile[fi]
                guard label >= 0, Int(label) < card else {
                    throw .invalidArgument("student batch: profile field \(fi) label \(label) outside its \(card) values")
                }
                if usesProfile { profileIds.append(Int32(base + Int(label))) }
                base += card
            }
        }
    }
}

/// A pointer handed to worker threads that write disjoint parts of its memory.
private struct SharedPointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ p: UnsafeMutablePointer<T>) { pointer = p }
}

/// Sessions handed to worker threads, worker w using only sessions[w].
private struct SharedSessions: @unchecked Sendable {
    let sessions: [StudentSession]
    init(_ s: [StudentSession]) { sessions = s }
}

/// A copy of `t` in its own aligned buffer.
private func copyOf(_ t: Tensor) throws(LeaderError) -> AlignedBuffer<Float> {
    let b = try AlignedBuffer<Float>(count: t.count)
    Memory.copy(b.base, from: t.pointer, count: t.count)
    return b
}

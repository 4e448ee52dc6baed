import CLeaderKernels

/// One thread's forward pass through a `PackedStudent`: the ragged code and visit batches, the buffers (grown to
/// the largest batch seen and reused) and the computation of the scores.
public final class StudentForwardPass {
    public let weights: PackedStudent
    public let precision: StudentPrecision
    private let bf16: Bool
    // code level
    private var ids: [Int32] = [], offsets: [Int32] = [0]
    private var streamTokens = [0, 0, 0, 0], streamSets = [0, 0, 0, 0]
    private var setRow: [Int32] = []            // per set of the patients, in (patient, visit) order per stream
    // visit level
    private var vids: [Int32] = [], voffsets: [Int32] = [0], profileIds: [Int32] = []
    private var buffers: [AlignedBuffer<Float>?] = Array(repeating: nil, count: Buf.allCases.count)

    /// Seconds spent in each `Stage` by the `predict` calls since it was set, while non-nil (a profile for
    /// benchmarks; nil, the default, costs one test per stage).
    public var stageSeconds: [Double]?
    private var stageStart: ContinuousClock.Instant?

    /// The steps of `predict`, in order.
    public enum Stage: Int, CaseIterable, Sendable {
        case codes, codeAttention, codeOutput, codeFeedForward, codePooledOutput, visits, visitAttention,
             visitFeedForward, head

        public var name: String {
            switch self {
            case .codes: "check and gather the codes"
            case .codeAttention: "code embeddings and set attention"
            case .codeOutput: "set attention output projection"
            case .codeFeedForward: "code LayerNorm, W1, GELU, set means"
            case .codePooledOutput: "W2 on the set means"
            case .visits: "prompts and visit rows"
            case .visitAttention: "visit LayerNorm, QKV, attention, projection"
            case .visitFeedForward: "visit LayerNorm, W1, GELU, W2, means"
            case .head: "output MLP and sigmoid"
            }
        }
    }

    /// Closes the stage that ran since the previous mark (the first mark of a call only starts the clock).
    @inline(__always) private func mark(_ finished: Stage?) {
        guard stageSeconds != nil else { return }
        let now = ContinuousClock.now
        if let finished, let start = stageStart {
            let d = (now - start).components
            stageSeconds?[finished.rawValue] += Double(d.seconds) + Double(d.attoseconds) * 1e-18
        }
        stageStart = now
    }

    private enum Buf: Int, CaseIterable { case x, att, h, table, pooledG, v, vqkv, vatt, vh, out3, vpooledG, r1, m, m2, logits, prof, stats, attScratch, linScratch }

    init(_ weights: PackedStudent, precision: StudentPrecision) {
        self.weights = weights
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
        let e = weights, c = e.c, f = e.f, sizes = e.sizes
        let b = examples.count
        guard b > 0 else { return }
        let bf16 = self.bf16
        defer { if bf16 { lk_amx_release() } }   // the pass's bf16 products keep the tiles configured
        mark(nil)
        try collectCodes(examples)
        let nTok = ids.count, nSets = offsets.count - 1
        let tableRows = try Checked.sum(nSets, b + 1, "packed student table")
        let x = try buffer(.x, nTok * c), att = try buffer(.att, nTok * c)
        let h = try buffer(.h, nTok * c)
        let table = try buffer(.table, try Checked.product(tableRows, c, "packed student table"))
        let pooledG = try buffer(.pooledG, nSets * f)
        // every W1 (the three set encoders' and the visit encoder's) is (F, C): one fused-pass size serves all
        let lin = try buffer(.linScratch, max(PackedStudent.PackedLinear.scratchFloats(max(f, 3 * c, e.fields * c, e.hidden)),
                                              e.visit.fc1.geluMeanScratchFloats))

        mark(.codes)

        // 1. set encoders on the codes (all three streams in one ragged batch); attention reads each code's
        //    q|k|v row from the table in place
        try ids.withUnsafeBufferPointer { p throws(LeaderError) in
            guard let ip = p.baseAddress else { return }
            lk_embedding_forward(x, e.embedding.base, ip, Int64(nTok), Int64(c), 1)
            try attention(att, e.codeQKV.base, rows: ip, offsets)
        }
        mark(.codeAttention)
        for s in 0..<3 {
            let t0 = streamTokens[s], tn = streamTokens[s + 1] - t0
            guard tn > 0 else { continue }
            e.sets[s].o.forward(e.isa, bf16: bf16, x + t0 * c, ldy: c, att + t0 * c, ldx: c, rows: tn, accumulate: true, scratch: lin)
        }
        offsets.withUnsafeBufferPointer { o in
            guard let op = o.baseAddress else { return }
            lk_segment_mean_forward(table, x, op, Int64(nSets), Int64(c))
        }
        mark(.codeOutput)
        // W1, GELU and the pooling in one pass per stream: the (tokens, F) activations are never stored
        try offsets.withUnsafeBufferPointer { o throws(LeaderError) in
            guard let op = o.baseAddress else { return }
            for s in 0..<3 {
                let t0 = streamTokens[s], tn = streamTokens[s + 1] - t0
                let s0 = streamSets[s], sn = streamSets[s + 1] - s0
                guard tn > 0 else { continue }
                let blk = e.sets[s]
                try layerNorm(h + t0 * c, x + t0 * c, blk.norm2, rows: tn)
                blk.fc1.geluMean(e.isa, bf16: bf16, pooledG + s0 * f, ldp: f, h + t0 * c, ldx: c, offsets: op + s0,
                                 sets: sn, scratch: lin)
            }
        }
        mark(.codeFeedForward)
        for s in 0..<3 {
            let s0 = streamSets[s], sn = streamSets[s + 1] - s0
            guard sn > 0 else { continue }
            e.sets[s].fc2.forward(e.isa, bf16: bf16, table + s0 * c, ldy: c, pooledG + s0 * f, ldx: f, rows: sn, accumulate: true,
                                  scratch: lin)
        }
        mark(.codePooledOutput)

        // 2. prompts (rows nSets..<nSets+b) and the zero row (nSets+b) of the set-vector table
        try collectVisits(examples, nSets: nSets)
        let promptRow = table + nSets * c
        if let head = e.profileHead {
            let prof = try buffer(.prof, b * e.fields * c)
            guard profileIds.count == b * e.fields else { throw .internalError("packed student: profile ids") }
            profileIds.withUnsafeBufferPointer { p in
                guard let pp = p.baseAddress else { return }
                lk_embedding_forward(prof, e.profileTable.base, pp, Int64(b * e.fields), Int64(c), 1)
            }
            head.forward(e.isa, bf16: bf16, promptRow, ldy: c, prof, ldx: e.fields * c, rows: b, accumulate: false, scratch: lin)
        } else {
            for i in 0..<b { Memory.copy(promptRow + i * c, from: e.profileTable.base, count: c) }
        }
        Memory.zero(table + (nSets + b) * c, count: c)
        mark(.visits)

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
        mark(.visitAttention)
        try layerNorm(vh, v, e.visit.norm2, rows: nV)
        voffsets.withUnsafeBufferPointer { o in
            guard let op = o.baseAddress else { return }
            e.visit.fc1.geluMean(e.isa, bf16: bf16, vpooledG, ldp: f, vh, ldx: c, offsets: op, sets: seqs, scratch: lin)
            lk_segment_mean_forward(out3, v, op, Int64(seqs), Int64(c))
        }
        e.visit.fc2.forward(e.isa, bf16: bf16, out3, ldy: c, vpooledG, ldx: f, rows: seqs, accumulate: true, scratch: lin)
        mark(.visitFeedForward)

        // 4. head: ReLU → fc1 → ReLU → fc2 → sigmoid, straight into `out`
        let r1 = try buffer(.r1, b * 3 * c), mid = try buffer(.m, b * e.hidden), mid2 = try buffer(.m2, b * e.hidden)
        let logits = try buffer(.logits, b * sizes.medications)
        lk_activation_forward(r1, out3, Int64(b * 3 * c), ActivationKind.relu.rawValue, 1)
        e.fc1.forward(e.isa, bf16: bf16, mid, ldy: e.hidden, r1, ldx: 3 * c, rows: b, accumulate: false, scratch: lin)
        lk_activation_forward(mid2, mid, Int64(b * e.hidden), ActivationKind.relu.rawValue, 1)
        e.fc2.forward(e.isa, bf16: bf16, logits, ldy: sizes.medications, mid2, ldx: e.hidden, rows: b, accumulate: false, scratch: lin)
        lk_activation_forward(out, logits, Int64(b * sizes.medications), ActivationKind.sigmoid.rawValue, 1)
        mark(.head)
    }

    /// LayerNorm of `rows` rows of width C (one thread: the kernel enters no OpenMP region).
    private func layerNorm(_ out: UnsafeMutablePointer<Float>, _ x: UnsafeMutablePointer<Float>,
                           _ p: (w: AlignedBuffer<Float>, b: AlignedBuffer<Float>), rows: Int) throws(LeaderError) {
        let stats = try buffer(.stats, 2 * rows)
        lk_layernorm_forward(out, stats, stats + rows, x, p.w.base, p.b.base, Int64(rows), Int64(weights.c),
                             weights.config.layerNormEps, 1)
    }

    /// Set attention over the ragged sets `offs`; token t's q|k|v is row t of `qkv`, or row rows[t].
    private func attention(_ out: UnsafeMutablePointer<Float>, _ qkv: UnsafePointer<Float>,
                           rows: UnsafePointer<Int32>?, _ offs: [Int32]) throws(LeaderError)
    {
        let e = weights, c = e.c, d = c / e.heads
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
        let sizes = weights.sizes, cap = weights.config.maxCodesPerVisit, fields = weights.sizes.profileCardinalities.count
        ids.removeAll(keepingCapacity: true)
        offsets.removeAll(keepingCapacity: true)
        offsets.append(0)
        setRow.removeAll(keepingCapacity: true)
        for ex in examples { try ex.validateShape(profileFields: fields) }
        for s in 0..<3 {   // a switch, not key paths or a per-call array: this runs once per prediction
            let range = sizes.range(of: s == 0 ? .diagnosis : s == 1 ? .procedure : .medication)
            streamTokens[s] = ids.count
            streamSets[s] = offsets.count - 1
            for ex in examples {
                for set in s == 0 ? ex.diagnoses : s == 1 ? ex.procedures : ex.medications {
                    let k = min(set.count, cap)
                    guard k > 0 else { setRow.append(-1); continue }
                    for j in 0..<k { ids.append(try sizes.unifiedRow(set[j], range)) }
                    guard ids.count < Int(Int32.max) else { throw .overflow("packed student: too many codes") }
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
        let cards = weights.sizes.profileCardinalities, usesProfile = weights.profileHead != nil
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
                let row = try weights.sizes.profileRow(field: fi, label: ex.profile[fi], base: base)
                if usesProfile { profileIds.append(row) }
                base += card
            }
        }
    }
}

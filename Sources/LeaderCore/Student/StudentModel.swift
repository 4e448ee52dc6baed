import CLeaderKernels

/// The terms of one training loss evaluation (batch means).
public struct StudentLoss: Equatable, Sendable {
    public var total: Float
    public var bce: Float
    /// The unweighted distillation term (`config.distillTarget`): MSE(projector(h128), teacher row), or for
    /// `soft` BCE(logits/T, σ(teacher logits/T)); 0 without teacher features.
    public var distill: Float
    /// InfoNCE(X,Y) + InfoNCE(Y,X); 0 when β = 0.
    public var align: Float
    /// The DDI penalty: batch mean of Σ over interacting pairs of p_i·p_j; 0 when γ = 0.
    public var ddi: Float = 0
}

/// LEADER(S), the student (leader-method.md §4, with the official bugs fixed — docs/student.md):
///
/// 1. one shared embedding table over `[PAD, CLS, MASK] + meds + diagnoses + procedures`;
/// 2. per-visit set encoders (one pre-LN `TransformerBlock` each for diagnoses, procedures, medications) with a
///    masked mean-pool over the codes of each set;
/// 3. the profile prompt (one embedding per profile field, concatenated, `Linear(F·C → C)`) placed before
///    the history medication sets, so the medication stream is `[prompt, meds(v0), …, meds(v_{T-2})]`;
/// 4. ONE shared visit encoder over the three visit sequences, masked mean over valid visits;
/// 5. `concat(3C) → ReLU → Linear(3C → H) → ReLU → Linear(H → |Med|)`.
///
/// Training adds BCE, optionally α·MSE(projector(h_H), teacher hidden or logits) (h_H = the pre-activation
/// hidden layer) or α·T²·BCE(logits/T, σ(teacher logits/T)) (`distillTarget` soft), and β·[InfoNCE(X,Y)+InfoNCE(Y,X)] with X = x_projector(encoded target medication set) and
/// Y = y_projector(prompt), cosine similarities over temperature τ.
///
/// Parameter names: `embedding.weight`, `{diagnosis,procedure,medication,visit}_encoder.*`,
/// `profile.embedding.weight`, `profile.head.*` (or `profile.padding.weight`), `head.fc1.*`, `head.fc2.*`,
/// `distill.projector.*` (teacherDim > 0), `align.{x,y}_projector.*` (β > 0).
public final class StudentModel {
    public let config: StudentConfig
    public let sizes: StudentVocabularySizes
    public let store: ParameterStore
    public let usesProfile: Bool
    public var aligns: Bool { xProjector != nil }
    /// Whether `loss` takes teacher rows: a projector (hidden, logits) or soft labels.
    public var distills: Bool { distillation.takesTeacher }

    let embedding: Embedding
    /// Per stream (diagnosis, procedure, medication), one instance per length bucket; instances after the
    /// first share its parameters.
    var setEmbeddings: [[Embedding]]
    var setEncoders: [[TransformerBlock]]
    var setPools: [[MaskedMeanPool]]
    let visitEncoder: TransformerBlock
    let visitPool = MaskedMeanPool()
    let profileEmbedding: Embedding?
    let profileHead: Linear?
    let padding: Embedding?
    let concat = Concat()
    let relu1 = Activation(.relu), relu2 = Activation(.relu)
    let fc1: Linear, fc2: Linear
    let distillation: DistillationTerm
    let xProjector: Linear?, yProjector: Linear?
    let xNorm: L2Normalize, yNorm: L2Normalize
    let nceXY: InfoNCELoss, nceYX: InfoNCELoss
    let bce = BCEWithLogitsLoss()

    // per-step state
    private var batch: StudentBatch?
    private var setInputs: [[Tensor?]] = [[], [], []]
    private var table: Tensor?, visitIn: Tensor?, prompt: Tensor?, mediator: Tensor?, logits: Tensor?
    private var lossState: (align: Bool, ddi: Bool)?
    private var ddiProbs: Tensor?
    private var ddiGraph: (offsets: [Int32], ids: [Int32]) = ([], [])
    /// For the DDI penalty (`config.ddiWeight` > 0): per medication id, the ids it interacts with
    /// (`DDIPairs.neighbours`). Without it the penalty is off.
    public var ddiNeighbours: [[Int32]]? {
        didSet {
            var offsets: [Int32] = [0], ids: [Int32] = []
            for n in ddiNeighbours ?? [] { ids += n; offsets.append(Int32(clamping: ids.count)) }
            ddiGraph = (offsets, ids)
        }
    }
    private var paddingIds: IndexTensor?
    // gradients
    private var dTable: Tensor?, dVisitIn: Tensor?, dVisitOut: Tensor?, dPooled3: Tensor?, dH: Tensor?
    private var dR1: Tensor?, dM: Tensor?, dR2: Tensor?, dLogits: Tensor?, dPe: Tensor?
    private var dXa: Tensor?, dYa: Tensor?, dXn: Tensor?, dYn: Tensor?
    private var dSets: Tensor?

    /// Builds and initialises the model (PyTorch-default initialisers keyed by `config.seed`).
    public init(config: StudentConfig, sizes: StudentVocabularySizes, threads: Int = 1) throws(LeaderError) {
        try config.validate()
        try sizes.validate()
        self.config = config
        self.sizes = sizes
        let c = config.hidden
        store = try ParameterStore(seed: config.seed, threads: threads)
        embedding = try Embedding(store, "embedding", vocab: sizes.unifiedCount, dim: c)
        setEmbeddings = [[embedding], [Embedding(sharingParametersOf: embedding)], [Embedding(sharingParametersOf: embedding)]]
        let block = TransformerBlockConfig(
            attention: AttentionConfig(channels: c, heads: config.heads, probDropout: config.attentionDropout),
            hidden: config.ffnHidden, norm: .layerNorm, normEps: config.layerNormEps,
            feedForward: .mlp(.geluTanh), dropout: config.hiddenDropout, finalDropout: true)
        setEncoders = [[try TransformerBlock(store, "diagnosis_encoder", block)],
                       [try TransformerBlock(store, "procedure_encoder", block)],
                       [try TransformerBlock(store, "medication_encoder", block)]]
        setPools = [[MaskedMeanPool()], [MaskedMeanPool()], [MaskedMeanPool()]]
        visitEncoder = try TransformerBlock(store, "visit_encoder", block)
        let fields = sizes.profileCardinalities.count
        usesProfile = StudentParameters.usesProfile(config, sizes)
        if usesProfile {
            profileEmbedding = try Embedding(store, "profile.embedding", vocab: sizes.profileValueCount, dim: c)
            profileHead = try Linear(store, "profile.head", inFeatures: try Checked.product(fields, c, "profile width"),
                                     outFeatures: c)
            padding = nil
        } else {
            profileEmbedding = nil
            profileHead = nil
            padding = try Embedding(store, "profile.padding", vocab: 1, dim: c)
        }
        fc1 = try Linear(store, "head.fc1", inFeatures: 3 * c, outFeatures: config.headHidden)
        fc2 = try Linear(store, "head.fc2", inFeatures: config.headHidden, outFeatures: sizes.medications)
        distillation = try DistillationTerm(store, target: config.distillTarget, alpha: config.alpha,
                                            temperature: config.distillTemperature, teacherDim: config.teacherDim,
                                            headHidden: config.headHidden)
        if config.beta > 0 {
            xProjector = try Linear(store, "align.x_projector", inFeatures: c, outFeatures: c)
            yProjector = try Linear(store, "align.y_projector", inFeatures: c, outFeatures: c)
        } else {
            xProjector = nil
            yProjector = nil
        }
        xNorm = try L2Normalize()
        yNorm = try L2Normalize()
        nceXY = try InfoNCELoss(temperature: config.temperature)
        nceYX = try InfoNCELoss(temperature: config.temperature)
    }

    /// The number of scalars the model will register (without alignment padding), computed with checked
    /// arithmetic before anything is allocated (`StudentParameters`).
    public static func parameterCount(config c: StudentConfig, sizes: StudentVocabularySizes) throws(LeaderError) -> Int {
        try StudentParameters.count(config: c, sizes: sizes)
    }

    /// Packs examples for this model (targets appended to the medication sets when `forTraining` and β > 0).
    public func pack(_ examples: [StudentExample], forTraining: Bool, maxBuckets: Int = 3) throws(LeaderError)
        -> StudentBatch
    {
        try StudentBatch(examples, sizes: sizes, maxCodesPerVisit: config.maxCodesPerVisit,
                         withTargets: forTraining && aligns, maxBuckets: maxBuckets)
    }

    /// Logits (B, |Med|), valid until the next forward. Dropout follows `ctx.training`. (Serving and evaluation
    /// use `PackedStudent`, the same function in eval mode without the training caches.)
    public func forward(_ b: StudentBatch, _ ctx: Context) throws(LeaderError) -> Tensor {
        let c = config.hidden
        let streams = [b.diagnoses, b.procedures, b.medications]
        let rows = b.tableRows
        let tab = try Workspace.ensure(&table, [rows, c])
        var row = 0
        for s in 0..<3 {
            try ensureBuckets(s, streams[s].buckets.count)
            for (k, sets) in streams[s].buckets.enumerated() {
                setInputs[s][k] = nil
                guard sets.count > 0 else { continue }
                let x = try setEmbeddings[s][k].forward(sets.ids, ctx)
                setInputs[s][k] = x
                let enc = try setEncoders[s][k].forward(x, lengths: sets.lengths, ctx)
                let pooled = try setPools[s][k].forward(enc, lengths: sets.lengths, ctx)
                Memory.copy(tab.pointer + row * c, from: pooled.pointer, count: pooled.count)
                row += sets.count
            }
        }
        let pr: Tensor
        if let profileEmbedding, let profileHead {
            let pe = try profileEmbedding.forward(b.profileIds, ctx)
            pr = try profileHead.forward(try pe.reshaped([b.batch, pe.count / b.batch]), ctx)
        } else if let padding {
            let ids = try Workspace.ensure(&paddingIds, [b.batch])
            pr = try padding.forward(ids, ctx)
        } else {
            throw .internalError("student: no prompt module")
        }
        prompt = pr
        Memory.copy(tab.pointer + row * c, from: pr.pointer, count: pr.count)

        let t = b.maxVisits
        let vin = try Workspace.ensure(&visitIn, [3 * b.batch, t, c])
        lk_embedding_forward(vin.pointer, tab.pointer, b.visitIds.pointer, Int64(b.visitIds.count), Int64(c), ctx.t32)
        let venc = try visitEncoder.forward(vin, lengths: b.visitLengths, ctx)
        let pooled3 = try visitPool.forward(venc, lengths: b.visitLengths, ctx)
        let parts = try (0..<3).map { (s) throws(LeaderError) -> Tensor in
            try Tensor(viewing: pooled3.storage, offset: pooled3.offset + s * b.batch * c, shape: [b.batch, c])
        }
        let h = try concat.forward(parts, ctx)
        let m = try fc1.forward(try relu1.forward(h, ctx), ctx)
        mediator = m
        let out = try fc2.forward(try relu2.forward(m, ctx), ctx)
        logits = out
        batch = b
        lossState = nil
        return out
    }

    /// Forward + loss. `teacher` (B, teacherDim) adds the distillation term (needs teacherDim > 0); the
    /// alignment term is added when β > 0 and the batch carries targets.
    public func loss(_ b: StudentBatch, teacher: Tensor? = nil, _ ctx: Context) throws(LeaderError) -> StudentLoss {
        let out = try forward(b, ctx)
        var result = StudentLoss(total: 0, bce: 0, distill: 0, align: 0)
        result.bce = try bce.forward(out, targets: b.labels, ctx)
        var align = false
        let (distillValue, distillWeight) = try distillation.forward(logits: out, hidden: mediator, teacher: teacher, ctx)
        result.distill = distillValue
        if let xProjector, let yProjector, b.hasTargets {
            let c = config.hidden
            let tab = try Checks.cached(table, "student")
            let targetRow = b.diagnoses.count + b.procedures.count + b.historyMedicationSets
            let xIn = try Tensor(viewing: tab.storage, offset: tab.offset + targetRow * c, shape: [b.batch, c])
            let yIn = try Checks.cached(prompt, "student")
            let xn = try xNorm.forward(try xProjector.forward(xIn, ctx), ctx)
            let yn = try yNorm.forward(try yProjector.forward(yIn, ctx), ctx)
            result.align = try nceXY.forward(xn, yn, ctx) + nceYX.forward(yn, xn, ctx)
            align = true
        }
        var ddi = false
        if config.ddiWeight > 0, let adj = ddiNeighbours {
            result.ddi = try ddiPenalty(out, adj, ctx)
            ddi = true
        }
        result.total = result.bce + distillWeight * result.distill + config.beta * result.align
            + config.ddiWeight * result.ddi
        lossState = (align, ddi)
        return result
    }

    /// The SafeDrug-style penalty of logits (B,|Med|): batch mean of Σ over interacting pairs of p_i·p_j.
    private func ddiPenalty(_ out: Tensor, _ adj: [[Int32]], _ ctx: Context) throws(LeaderError) -> Float {
        let m = sizes.medications
        guard adj.count == m, adj.allSatisfy({ $0.allSatisfy { $0 >= 0 && Int($0) < m } }) else {
            throw .invalidArgument("student: DDI neighbours for \(adj.count) medications, the model has \(m)")
        }
        let p = try Workspace.ensure(&ddiProbs, out.shape)
        var loss: Float = 0
        ddiGraph.offsets.withUnsafeBufferPointer { off in
            ddiGraph.ids.withUnsafeBufferPointer { ids in
                lk_ddi_penalty_forward(&loss, p.pointer, out.pointer, off.baseAddress, ids.baseAddress,
                                       Int64(out.shape[0]), Int64(m), ctx.t32)
            }
        }
        return loss
    }

    /// Accumulates the gradient of the last `loss` into `store.grads` (zero them first).
    public func backward(_ ctx: Context) throws(LeaderError) {
        let b = try Checks.cached(batch, "student")
        let state = try Checks.cached(lossState, "student")
        let c = config.hidden
        let out = try Checks.cached(logits, "student")
        let dl = try Workspace.zeroed(&dLogits, out.shape)
        try bce.backward(1, into: dl, ctx)
        if state.ddi {
            let p = try Checks.cached(ddiProbs, "student")
            ddiGraph.offsets.withUnsafeBufferPointer { off in
                ddiGraph.ids.withUnsafeBufferPointer { ids in
                    lk_ddi_penalty_backward(dl.pointer, config.ddiWeight, p.pointer, off.baseAddress, ids.baseAddress,
                                            Int64(b.batch), Int64(sizes.medications), ctx.t32)
                }
            }
        }
        try distillation.backward(intoLogits: dl, ctx)
        let dr2 = try Workspace.zeroed(&dR2, [b.batch, config.headHidden])
        try fc2.backward(dl, into: dr2, ctx)
        let dm = try Workspace.zeroed(&dM, [b.batch, config.headHidden])
        try relu2.backward(dr2, into: dm, ctx)
        try distillation.backward(intoHidden: dm, ctx)
        let dr1 = try Workspace.zeroed(&dR1, [b.batch, 3 * c])
        try fc1.backward(dm, into: dr1, ctx)
        let dh = try Workspace.zeroed(&dH, [b.batch, 3 * c])
        try relu1.backward(dr1, into: dh, ctx)
        let dp3 = try Workspace.zeroed(&dPooled3, [3 * b.batch, c])
        let dParts = try (0..<3).map { (s) throws(LeaderError) -> Tensor? in
            try Tensor(viewing: dp3.storage, offset: dp3.offset + s * b.batch * c, shape: [b.batch, c])
        }
        try concat.backward(dh, into: dParts, ctx)
        let t = b.maxVisits
        let dvo = try Workspace.zeroed(&dVisitOut, [3 * b.batch, t, c])
        try visitPool.backward(dp3, into: dvo, ctx)
        let dvi = try Workspace.zeroed(&dVisitIn, [3 * b.batch, t, c])
        try visitEncoder.backward(dvo, into: dvi, ctx)
        let dtab = try Workspace.zeroed(&dTable, [b.tableRows, c])
        lk_embedding_backward(dtab.pointer, dvi.pointer, b.visitIds.pointer, Int64(b.visitIds.count), Int64(c), ctx.t32)

        let promptRow = b.tableRows - b.batch
        let dPrompt = try Tensor(viewing: dtab.storage, offset: dtab.offset + promptRow * c, shape: [b.batch, c])
        if state.align, let xProjector, let yProjector {
            let dxn = try Workspace.zeroed(&dXn, [b.batch, c]), dyn = try Workspace.zeroed(&dYn, [b.batch, c])
            try nceXY.backward(config.beta, intoA: dxn, intoB: dyn, ctx)
            try nceYX.backward(config.beta, intoA: dyn, intoB: dxn, ctx)
            let dxa = try Workspace.zeroed(&dXa, [b.batch, c]), dya = try Workspace.zeroed(&dYa, [b.batch, c])
            try xNorm.backward(dxn, into: dxa, ctx)
            try yNorm.backward(dyn, into: dya, ctx)
            let targetRow = b.diagnoses.count + b.procedures.count + b.historyMedicationSets
            let dX = try Tensor(viewing: dtab.storage, offset: dtab.offset + targetRow * c, shape: [b.batch, c])
            try xProjector.backward(dxa, into: dX, ctx)
            try yProjector.backward(dya, into: dPrompt, ctx)
        }
        if let profileEmbedding, let profileHead {
            let fields = sizes.profileCardinalities.count
            let dpe = try Workspace.zeroed(&dPe, [b.batch, fields * c])
            try profileHead.backward(dPrompt, into: dpe, ctx)
            try profileEmbedding.backward(try dpe.reshaped([b.batch, fields, c]), ctx)
        } else if let padding {
            try padding.backward(dPrompt, ctx)
        }
        let streams = [b.diagnoses, b.procedures, b.medications]
        var row = 0
        for s in 0..<3 {
            for (k, sets) in streams[s].buckets.enumerated() {
                guard sets.count > 0, k < setInputs[s].count, let x = setInputs[s][k] else { continue }
                let dPooled = try Tensor(viewing: dtab.storage, offset: dtab.offset + row * c, shape: [sets.count, c])
                row += sets.count
                let dEnc = try Workspace.zeroed(&dSets, x.shape)
                try setPools[s][k].backward(dPooled, into: dEnc, ctx)
                // dEnc is the block's dOut; the block accumulates dx into a fresh buffer (x's gradient).
                let dx = try Workspace.zeroed(&dXs, x.shape)
                try setEncoders[s][k].backward(dEnc, into: dx, ctx)
                try setEmbeddings[s][k].backward(dx, ctx)
            }
        }
    }
    private var dXs: Tensor?

    /// Module instances for `count` buckets of stream `s` (extra ones share the first one's parameters).
    private func ensureBuckets(_ s: Int, _ count: Int) throws(LeaderError) {
        while setEncoders[s].count < count {
            setEmbeddings[s].append(Embedding(sharingParametersOf: embedding))
            setEncoders[s].append(try TransformerBlock(sharingParametersOf: setEncoders[s][0]))
            setPools[s].append(MaskedMeanPool())
        }
        while setInputs[s].count < count { setInputs[s].append(nil) }
    }
}

import FoundationEssentials

/// Every setting of the LEADER(S) student: sizes, dropout, distillation weights, optimisation and model
/// selection. Stored as JSON in checkpoints; decoding REJECTS unknown keys (a typo must not silently fall back
/// to a default). Missing keys take the defaults below, which are the reference values (leader-method.md §4, §5).
public struct StudentConfig: Codable, Equatable, Sendable {
    /// Width of every embedding and transformer block (reference 64).
    public var hidden = 64
    /// Attention heads (reference 4; must divide `hidden`).
    public var heads = 4
    /// Feed-forward width inside each block (reference 300).
    public var ffnHidden = 300
    /// Hidden layer of the output MLP (reference 128).
    public var headHidden = 128
    /// Dropout on residual branches, inside the FFN and on block outputs (reference 0.4).
    public var hiddenDropout: Float = 0.4
    /// Dropout on attention probabilities (reference 0.1).
    public var attentionDropout: Float = 0.1
    /// LayerNorm epsilon inside the square root (reference 1e-12).
    public var layerNormEps: Float = 1e-12
    /// Visits per sample including the current one; the MOST RECENT are kept (reference 10).
    public var maxVisits = 10
    /// Codes per visit and type; longer sets keep their first `maxCodesPerVisit` codes (reference pads to 100).
    public var maxCodesPerVisit = 100
    /// Profile prompt (true) or one learned padding vector (the reference's `--profile` off).
    public var profilePrompt = true
    /// α: weight of the distillation term (`distillTarget`) when teacher features are given.
    public var alpha: Float = 0.4
    /// β: weight of the symmetric InfoNCE between the profile prompt and the encoded target medication set.
    public var beta: Float = 0.005
    /// InfoNCE temperature over cosine similarities (reference τ = 1).
    public var temperature: Float = 1
    /// Teacher hidden size (4096 for LLaMA-7B); 0 = no distillation projector. `leader student train
    /// --teacher-features` sets it from the file.
    public var teacherDim = 0
    /// Which tensor of a teacher-features file is distilled: `hidden` (the final-norm hidden state, the
    /// paper's choice) or `logits` (the teacher's medication-head logits; teacherDim = |Med|).
    public var distillTarget: StudentDistillTarget = .hidden
    /// T of `soft` distillation: the term is α·T²·BCE(student logit/T, σ(teacher logit/T)) (T² keeps the
    /// gradient's size independent of T, Hinton et al. 2015).
    public var distillTemperature: Float = 1
    /// γ of the SafeDrug-style DDI penalty: γ · mean over the batch of Σ over interacting pairs (i, j) of
    /// p_i · p_j (p = sigmoid scores); 0 = off. Needs DDI pairs at training time (`StudentJob.ddi`).
    public var ddiWeight: Float = 0
    /// Training batch size (reference MIMIC-III 4, MIMIC-IV 16).
    public var batchSize = 16
    /// Patients per inference pass when scoring (evaluation, validation); results do not depend on it. 32 keeps
    /// a pass's activations in cache (measured best with the serving engine; the reference used 100).
    public var evalBatchSize = 32
    /// Adam learning rate (reference 5e-4, constant).
    public var learningRate: Float = 5e-4
    /// Adam weight decay (reference 0).
    public var weightDecay: Float = 0
    /// Maximum epochs (reference 100).
    public var epochs = 100
    /// Early-stopping patience in epochs without a better validation PRAUC (reference 10).
    public var patience = 10
    /// Seed of initialisation, shuffling and dropout (reference 42).
    public var seed: UInt64 = 42
    /// Prediction threshold on sigmoid scores (reference 0.3).
    public var threshold: Float = 0.3

    public init() {}

    static let keys: [String] = [
        "hidden", "heads", "ffnHidden", "headHidden", "hiddenDropout", "attentionDropout", "layerNormEps",
        "maxVisits", "maxCodesPerVisit", "profilePrompt", "alpha", "beta", "temperature", "teacherDim",
        "distillTarget", "distillTemperature", "ddiWeight", "batchSize", "evalBatchSize", "learningRate", "weightDecay", "epochs", "patience", "seed",
        "threshold",
    ]

    public init(from decoder: any Decoder) throws {
        let c = try StrictKeys.container(decoder, Self.keys, "student config")
        func get<T: Decodable>(_ name: String, _ def: T) throws -> T {
            try c.decodeIfPresent(T.self, forKey: StrictKey(name)) ?? def
        }
        let d = (decoder.userInfo[Self.baseKey] as? StudentConfig) ?? StudentConfig()
        hidden = try get("hidden", d.hidden)
        heads = try get("heads", d.heads)
        ffnHidden = try get("ffnHidden", d.ffnHidden)
        headHidden = try get("headHidden", d.headHidden)
        hiddenDropout = try get("hiddenDropout", d.hiddenDropout)
        attentionDropout = try get("attentionDropout", d.attentionDropout)
        layerNormEps = try get("layerNormEps", d.layerNormEps)
        maxVisits = try get("maxVisits", d.maxVisits)
        maxCodesPerVisit = try get("maxCodesPerVisit", d.maxCodesPerVisit)
        profilePrompt = try get("profilePrompt", d.profilePrompt)
        alpha = try get("alpha", d.alpha)
        beta = try get("beta", d.beta)
        temperature = try get("temperature", d.temperature)
        teacherDim = try get("teacherDim", d.teacherDim)
        distillTarget = try get("distillTarget", d.distillTarget)
        distillTemperature = try get("distillTemperature", d.distillTemperature)
        ddiWeight = try get("ddiWeight", d.ddiWeight)
        batchSize = try get("batchSize", d.batchSize)
        evalBatchSize = try get("evalBatchSize", d.evalBatchSize)
        learningRate = try get("learningRate", d.learningRate)
        weightDecay = try get("weightDecay", d.weightDecay)
        epochs = try get("epochs", d.epochs)
        patience = try get("patience", d.patience)
        seed = try get("seed", d.seed)
        threshold = try get("threshold", d.threshold)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: StrictKey.self)
        func put<T: Encodable>(_ name: String, _ v: T) throws { try c.encode(v, forKey: StrictKey(name)) }
        try put("hidden", hidden); try put("heads", heads); try put("ffnHidden", ffnHidden)
        try put("headHidden", headHidden); try put("hiddenDropout", hiddenDropout)
        try put("attentionDropout", attentionDropout); try put("layerNormEps", layerNormEps)
        try put("maxVisits", maxVisits); try put("maxCodesPerVisit", maxCodesPerVisit)
        try put("profilePrompt", profilePrompt); try put("alpha", alpha); try put("beta", beta)
        try put("temperature", temperature); try put("teacherDim", teacherDim)
        try put("distillTarget", distillTarget); try put("distillTemperature", distillTemperature)
        try put("ddiWeight", ddiWeight)
        try put("batchSize", batchSize)
        try put("evalBatchSize", evalBatchSize); try put("learningRate", learningRate)
        try put("weightDecay", weightDecay); try put("epochs", epochs); try put("patience", patience)
        try put("seed", seed); try put("threshold", threshold)
    }

    /// The defaults absent keys take when a decoder's `userInfo` holds a config under this key (a pipeline's own
    /// student defaults); else `StudentConfig()`.
    static let baseKey: CodingUserInfoKey = {
        guard let k = CodingUserInfoKey(rawValue: "leader.studentConfig.base") else { preconditionFailure("key") }
        return k
    }()

    /// Parses JSON text (strict: unknown keys and wrong types are `.invalidArgument`), then validates.
    public static func decode(json: String) throws(LeaderError) -> StudentConfig {
        let c = try StrictJSON.decode(StudentConfig.self, json, "student config")
        try c.validate()
        return c
    }

    /// Canonical JSON (sorted keys), what checkpoints store.
    public func json() throws(LeaderError) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        do { return String(decoding: try e.encode(self), as: UTF8.self) } catch {
            throw .internalError("student config: cannot encode (\(error))")
        }
    }

    /// Range checks of every field; `.invalidArgument` naming the field and value.
    public func validate() throws(LeaderError) {
        func need(_ ok: Bool, _ field: String, _ value: Any, _ rule: String) throws(LeaderError) {
            guard ok else { throw .invalidArgument("student config: \(field) = \(value) (\(rule))") }
        }
        try need((1...4096).contains(hidden), "hidden", hidden, "1...4096")
        try need((1...hidden).contains(heads) && hidden % heads == 0, "heads", heads, "must divide hidden")
        try need((1...65536).contains(ffnHidden), "ffnHidden", ffnHidden, "1...65536")
        try need((1...65536).contains(headHidden), "headHidden", headHidden, "1...65536")
        try need(hiddenDropout >= 0 && hiddenDropout < 1, "hiddenDropout", hiddenDropout, "[0,1)")
        try need(attentionDropout >= 0 && attentionDropout < 1, "attentionDropout", attentionDropout, "[0,1)")
        try need(layerNormEps > 0 && layerNormEps.isFinite, "layerNormEps", layerNormEps, "> 0")
        try need((1...1000).contains(maxVisits), "maxVisits", maxVisits, "1...1000")
        try need((1...100_000).contains(maxCodesPerVisit), "maxCodesPerVisit", maxCodesPerVisit, "1...100000")
        try need(alpha >= 0 && alpha.isFinite, "alpha", alpha, ">= 0")
        try need(beta >= 0 && beta.isFinite, "beta", beta, ">= 0")
        try need(temperature > 0 && temperature.isFinite, "temperature", temperature, "> 0")
        try need((0...65536).contains(teacherDim), "teacherDim", teacherDim, "0...65536")
        try need(distillTarget.usesProjector || teacherDim == 0, "teacherDim", teacherDim,
                 "0 with distillTarget soft: it has no projector")
        try need(ddiWeight >= 0 && ddiWeight.isFinite, "ddiWeight", ddiWeight, ">= 0")
        try need(distillTemperature > 0 && distillTemperature.isFinite && distillTemperature <= 100,
                 "distillTemperature", distillTemperature, "(0,100]")
        try need((1...1_000_000).contains(batchSize), "batchSize", batchSize, "1...1000000")
        try need((1...1_000_000).contains(evalBatchSize), "evalBatchSize", evalBatchSize, "1...1000000")
        try need(learningRate >= 0 && learningRate.isFinite, "learningRate", learningRate, ">= 0")
        try need(weightDecay >= 0 && weightDecay.isFinite, "weightDecay", weightDecay, ">= 0")
        try need((0...100_000).contains(epochs), "epochs", epochs, "0...100000")
        try need((1...100_000).contains(patience), "patience", patience, "1...100000")
        try need(threshold >= 0 && threshold <= 1, "threshold", threshold, "[0,1]")
    }
}

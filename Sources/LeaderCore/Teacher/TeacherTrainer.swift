import CLeaderKernels

/// Fine-tuning settings (LEADER §3.2 defaults: AdamW lr 2e-4, weight decay 0, linear decay to 0 without
/// warm-up, clipping 1.0; LoRA r 8, α 32, dropout 0.1).
public struct TeacherTrainConfig: Codable, Equatable, Sendable {
    public var epochs: Int = 1
    /// Stop after this many optimiser steps (nil: all epochs).
    public var maxSteps: Int?
    public var batchSize: Int = 8
    public var gradAccumulation: Int = 1
    public var learningRate: Float = 2e-4
    public var weightDecay: Float = 0
    public var clipNorm: Float = 1
    public var maxTokens: Int = 256
    public var seed: UInt64 = 1
    public var lora = LoRAConfig()
    /// With `lora.topLayers`, run the frozen lower layers once per example and keep their output (as F16).
    public var cachePrefix = true
    /// Activation recomputation of the adapted layers (the decoder must be built with the same setting).
    public var recompute = RecomputeMode.auto

    public init() {}

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case epochs, maxSteps = "max_steps", batchSize = "batch_size", gradAccumulation = "grad_accumulation"
        case learningRate = "learning_rate", weightDecay = "weight_decay", clipNorm = "clip_norm"
        case maxTokens = "max_tokens", seed, lora, cachePrefix = "cache_prefix", recompute
    }

    /// Strict JSON (the checkpoint's `train_config`): unknown keys are an error naming the key; missing keys
    /// take the defaults above (so checkpoints written before a key existed still load).
    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self, "teacher train config")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = (decoder.userInfo[Self.baseKey] as? TeacherTrainConfig) ?? TeacherTrainConfig()
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? d.epochs
        maxSteps = try c.decodeIfPresent(Int.self, forKey: .maxSteps)
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
        gradAccumulation = try c.decodeIfPresent(Int.self, forKey: .gradAccumulation) ?? d.gradAccumulation
        learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate) ?? d.learningRate
        weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay) ?? d.weightDecay
        clipNorm = try c.decodeIfPresent(Float.self, forKey: .clipNorm) ?? d.clipNorm
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens) ?? d.maxTokens
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        lora = try c.decodeIfPresent(LoRAConfig.self, forKey: .lora) ?? d.lora
        cachePrefix = try c.decodeIfPresent(Bool.self, forKey: .cachePrefix) ?? d.cachePrefix
        recompute = try c.decodeIfPresent(RecomputeMode.self, forKey: .recompute) ?? d.recompute
    }

    /// The defaults absent keys take when a decoder's `userInfo` holds a config under this key (a pipeline's
    /// teacher recipe); else `TeacherTrainConfig()`.
    static let baseKey: CodingUserInfoKey = {
        guard let k = CodingUserInfoKey(rawValue: "leader.teacherTrainConfig.base") else { preconditionFailure("key") }
        return k
    }()

    /// Parses JSON text (strict; unknown keys and wrong types are `.invalidArgument`), then validates.
    public static func decode(json: String) throws(LeaderError) -> TeacherTrainConfig {
        let c = try StrictJSON.decode(TeacherTrainConfig.self, json, "teacher train config")
        try c.validate()
        return c
    }

    public func validate() throws(LeaderError) {
        guard epochs >= 1, batchSize >= 1, gradAccumulation >= 1 else {
            throw .invalidArgument("epochs, batch size and gradient accumulation must be >= 1")
        }
        if let s = maxSteps, s < 1 { throw .invalidArgument("max steps must be >= 1, got \(s)") }
        guard learningRate.isFinite, learningRate > 0, clipNorm > 0, weightDecay >= 0 else {
            throw .invalidArgument("learning rate and clip norm must be > 0, weight decay >= 0")
        }
        guard maxTokens >= 2 else { throw .invalidArgument("max tokens must be >= 2") }
    }
}

/// Progress of one optimiser step.
public struct TeacherProgress: Sendable {
    public var step: Int, totalSteps: Int, epoch: Int
    public var loss: Float, learningRate: Float, gradNorm: Float
    /// Real (unpadded) tokens per second of the training passes so far (prefix caching excluded).
    public var tokensPerSecond: Double
    public var seconds: Double
}

/// Trains a `TeacherModel` on examples: AdamW over the adapters + head, linear decay, global-norm clipping,
/// gradient accumulation (each micro-batch's loss is scaled by 1/accumulation). Batches are drawn from a
/// seeded shuffle, sorted by length inside windows of 16 batches to limit padding.
public final class TeacherTrainer {
    public let model: TeacherModel
    public let config: TeacherTrainConfig
    let ctx: Context
    private var prefix: [[UInt16]] = []   // per example (T_i, C) F16, when caching
    public private(set) var prefixSeconds: Double = 0

    public init(model: TeacherModel, config: TeacherTrainConfig, threads: Int) throws(LeaderError) {
        try config.validate()
        guard model.decoder.recompute == config.recompute else {
            throw .invalidArgument("teacher training: recompute is '\(config.recompute.rawValue)' but the decoder was "
                + "built with '\(model.decoder.recompute.rawValue)' (pass the same setting to LlamaDecoder)")
        }
        self.model = model
        self.config = config
        ctx = try Context(threads: threads, training: true, seed: config.seed)
    }

    /// Optimiser steps for `n` examples.
    public func totalSteps(examples n: Int) -> Int {
        let perEpoch = max(1, (n + config.batchSize * config.gradAccumulation - 1) / (config.batchSize * config.gradAccumulation))
        let all = perEpoch * config.epochs
        return min(all, config.maxSteps ?? all)
    }

    /// Batches of example indices for one epoch.
    func epochBatches(_ examples: [TeacherExample], epoch: Int) -> [[Int]] {
        var rng = SplitMix64(seed: SplitMix64.derive(config.seed, UInt64(epoch) &+ 0x5EED))
        var order = Array(examples.indices)
        order.shuffle(using: &rng)
        let window = config.batchSize * 16
        var batches: [[Int]] = []
        for w in stride(from: 0, to: order.count, by: window) {
            let part = order[w..<min(order.count, w + window)].sorted { examples[$0].tokens.count < examples[$1].tokens.count }
            for b in stride(from: 0, to: part.count, by: config.batchSize) {
                batches.append(Array(part[(part.startIndex + b)..<min(part.endIndex, part.startIndex + b + config.batchSize)]))
            }
        }
        batches.shuffle(using: &rng)
        return batches
    }

    /// Runs the frozen lower layers once per example (in batches of similar length) and keeps their output
    /// as F16 rows (T_i, C) per example (`lk_convert_f32_to_f16`: round to nearest even).
    func cachePrefixes(_ examples: [TeacherExample], clock: () -> Double,
                       progress: ((_ done: Int, _ total: Int) -> Bool)? = nil) throws(LeaderError) {
        let dec = model.decoder
        guard config.cachePrefix, dec.firstAdaptedLayer > 0 else { return }
        let start = clock()
        let c = dec.config.dModel
        let evalCtx = try Context(threads: ctx.threads)
        prefix = [[UInt16]](repeating: [], count: examples.count)
        let order = examples.indices.sorted { examples[$0].tokens.count < examples[$1].tokens.count }
        var done = 0
        // Longest batch first: the decoder's buffers get their final size once instead of growing batch by batch.
        for s in stride(from: 0, to: order.count, by: config.batchSize).reversed() {
            let idx = Array(order[s..<min(order.count, s + config.batchSize)])
            let b = try TeacherBatch(sequences: idx.map { examples[$0].tokens })
            let h = try dec.frozenPrefix(b.ids, lengths: b.lengths, evalCtx)
            let t = b.ids.shape[1]
            for (r, i) in idx.enumerated() {
                let n = try Checked.product(examples[i].tokens.count, c, "prefix cache")
                var half = [UInt16](repeating: 0, count: n)
                half.withUnsafeMutableBufferPointer { p in
                    lk_convert_f32_to_f16(p.baseAddress, h.pointer + r * t * c, Int64(n), ctx.t32)
                }
                prefix[i] = half
            }
            done += idx.count
            if let progress, !progress(done, examples.count) {
                throw .cancelled("teacher training cancelled while caching the frozen layers")
            }
        }
        prefixSeconds = clock() - start
    }

    /// The cached lower-layer output of a batch (B,T,C), zero in padded rows.
    func lowerOutput(_ idx: [Int], _ batch: TeacherBatch, into slot: inout Tensor?) throws(LeaderError) -> Tensor? {
        guard !prefix.isEmpty else { return nil }
        let (b, t, c) = (batch.ids.shape[0], batch.ids.shape[1], model.decoder.config.dModel)
        let x = try Workspace.zeroed(&slot, [b, t, c])
        for (r, i) in idx.enumerated() {
            let rows = prefix[i].count / c
            prefix[i].withUnsafeBufferPointer { p in
                lk_convert_f16_to_f32(x.pointer + r * t * c, p.baseAddress, Int64(rows * c), ctx.t32)
            }
        }
        return x
    }

    /// Pooled hidden states and logits (eval mode) of the examples `train` ran on, in the same order, reusing
    /// their cached lower-layer outputs: only the adapted layers run.
    public func predictTrained(_ examples: [TeacherExample], batchSize: Int,
                               each: ([Int], Tensor, Tensor) throws(LeaderError) -> Void) throws(LeaderError) {
        guard prefix.isEmpty || prefix.count == examples.count else {
            throw .invalidArgument("teacher: \(examples.count) examples, but \(prefix.count) were trained on")
        }
        var slot: Tensor? = nil
        try model.predict(examples, batchSize: batchSize, threads: ctx.threads,
                          lowerOutput: { (idx, batch) throws(LeaderError) in try self.lowerOutput(idx, batch, into: &slot) },
                          each: each)
    }

    /// Trains on `examples`; `progress` is called after every optimiser step (return false to stop).
    /// `clock` gives seconds (the caller's clock; the library has no Foundation).
    @discardableResult
    /// `prefixProgress` is called after each batch of the frozen-layer cache (examples done, all).
    public func train(_ examples: [TeacherExample], clock: () -> Double,
                      prefixProgress: ((_ done: Int, _ total: Int) -> Bool)? = nil,
                      progress: (TeacherProgress) -> Bool) throws(LeaderError) -> TeacherProgress {
        guard !examples.isEmpty else { throw .invalidArgument("teacher training: no training examples") }
        let meds = model.medications
        for e in examples where e.medications.contains(where: { $0 < 0 || $0 >= meds }) {
            throw .invalidArgument("teacher training: example \(e.id) has a medication outside 0..<\(meds)")
        }
        try cachePrefixes(examples, clock: clock, progress: prefixProgress)
        let store = model.decoder.adapters
        let adam = try Adam(store, .init(learningRate: config.learningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8,
                                         weightDecay: config.weightDecay, decoupled: true))
        let total = totalSteps(examples: examples.count)
        let schedule = try LinearSchedule(baseLearningRate: config.learningRate, totalSteps: total)
        var last = TeacherProgress(step: 0, totalSteps: total, epoch: 0, loss: .nan, learningRate: config.learningRate,
                                   gradNorm: 0, tokensPerSecond: 0, seconds: 0)
        var tokens = 0
        var trainSeconds = 0.0
        var lower: Tensor? = nil
        let scale = 1 / Float(config.gradAccumulation)
        outer: for epoch in 0..<config.epochs {
            let batches = epochBatches(examples, epoch: epoch)
            var i = 0
            while i < batches.count {
                if adam.step >= total { break outer }
                let t0 = clock()
                store.zeroGrad()
                var lossSum: Float = 0
                var micro = 0
                while micro < config.gradAccumulation, i < batches.count {
                    let idx = batches[i]
                    let batch = try TeacherBatch(sequences: idx.map { examples[$0].tokens },
                                                 targets: idx.map { examples[$0].medications }, medications: meds)
                    let lo = try lowerOutput(idx, batch, into: &lower)
                    _ = try model.forward(batch, lowerOutput: lo, ctx)
                    guard let targets = batch.targets else { throw .internalError("teacher batch without targets") }
                    lossSum += try model.loss(targets, ctx)
                    try model.backward(scale, ctx)
                    tokens += batch.tokenCount
                    micro += 1
                    i += 1
                }
                let (clip, norm) = try GradientClipping.scale(store, maxNorm: config.clipNorm, ctx)
                let lr = schedule.learningRate(atStep: adam.step)
                try adam.update(learningRate: lr, gradScale: clip, ctx)
                trainSeconds += clock() - t0
                last = TeacherProgress(step: adam.step, totalSteps: total, epoch: epoch, loss: lossSum / Float(micro),
                                       learningRate: lr, gradNorm: norm,
                                       tokensPerSecond: trainSeconds > 0 ? Double(tokens) / trainSeconds : 0,
                                       seconds: trainSeconds)
                if !progress(last) { throw .cancelled("teacher training cancelled at step \(adam.step)") }
            }
        }
        return last
    }
}

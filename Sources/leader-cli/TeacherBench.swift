import ArgumentParser
import Foundation
import LeaderCore

struct TeacherBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the teacher on random token ids: frozen forward (tokens/s) or LoRA training steps "
            + "(forward + backward + AdamW; tokens/s); prints JSON with the peak RSS.")

    @Option(help: "Base model: a GGUF file or a Hugging Face folder (default: the SmolLM2 teacher, looked for in $LEADER_MODEL, ./models, the project's models/, ~/.cache/leader/models).")
    var model: String?
    @Option(help: "forward, train or decode (greedy generation of --new-tokens after a --tokens prompt, batch 1).")
    var mode = "forward"
    @Option(help: "Frozen quantised products: fp32, int8 or bf16.") var precision = "fp32"
    @Option(help: "Generated tokens (decode mode).") var newTokens = 64
    @Option(help: "Batch size.") var batch = 8
    @Option(help: "Tokens per sequence.") var tokens = 128
    @Option(help: "Timed repetitions (after one warm-up).") var repeats = 2
    @Option(help: "LoRA on the top N layers only (train mode).") var topLayers: Int?
    @Option(help: "Medications (head size, train mode).") var medications = 150
    @Option(help: "Threads (0 = all cores).") var threads = 0
    @Option(help: "Activation recomputation of the adapted layers (train mode): on, off or auto.") var recompute = "auto"

    func validate() throws {
        try requireAtLeast([("--repeats", repeats, 1), ("--batch", batch, 1), ("--tokens", tokens, 1),
                            ("--new-tokens", newTokens, 1), ("--medications", medications, 1), ("--threads", threads, 0)])
    }

    func run() throws {
        let file = try TeacherSetup.loadModel(model)
        var g = SplitMix64(seed: 42)
        let seqs = (0..<batch).map { _ in (0..<tokens).map { _ in Int32(g.next() % UInt64(file.config.vocabSize)) } }
        let targets = (0..<batch).map { _ in (0..<medications).filter { _ in g.next() % 10 == 0 } }
        let b = try TeacherBatch(sequences: seqs, targets: targets, medications: medications)
        var times: [Double] = []
        let prec = try cliPrecision(precision)
        var counted = batch * tokens
        var recomputing: Bool? = nil
        switch mode {
        case "forward":
            let dec = try LlamaDecoder(file, threads: threads)
            dec.precision = prec
            let ctx = try Context(threads: threads)
            for r in 0...repeats {
                let t = ContinuousClock.now
                _ = try dec.forward(b.ids, lengths: b.lengths, ctx)
                if r > 0 { times.append(seconds(since: t)) }
            }
        case "train":
            let lora = LoRAConfig(topLayers: topLayers)
            let dec = try LlamaDecoder(file, lora: lora, recompute: try RecomputeMode(parsing: recompute), threads: threads)
            dec.precision = prec
            recomputing = dec.recomputing
            let model = try TeacherModel(decoder: dec, medications: medications)
            let adam = try Adam(dec.adapters, .adamW(learningRate: 2e-4, weightDecay: 0))
            let ctx = try Context(threads: threads, training: true, seed: 1)
            guard let tg = b.targets else { throw LeaderError.internalError("no targets") }
            for r in 0...repeats {
                let t = ContinuousClock.now
                dec.adapters.zeroGrad()
                _ = try model.forward(b, ctx)
                _ = try model.loss(tg, ctx)
                try model.backward(1, ctx)
                let (s, _) = try GradientClipping.scale(dec.adapters, maxNorm: 1, ctx)
                try adam.update(gradScale: s, ctx)
                if r > 0 { times.append(seconds(since: t)) }
            }
        case "decode":
            // Tokens/s of the one-token steps: (time of prompt + n steps) - (time of the prompt alone).
            let dec = try LlamaDecoder(file, threads: threads)
            dec.precision = prec
            let ctx = try Context(threads: threads)
            let prompt = Array(seqs[0].prefix(max(1, tokens)))
            counted = newTokens
            for r in 0...repeats {
                let t0 = ContinuousClock.now
                _ = try dec.generate(prompt, maxNewTokens: 1, ctx)
                let prefill = seconds(since: t0)
                let t1 = ContinuousClock.now
                _ = try dec.generate(prompt, maxNewTokens: newTokens + 1, ctx)
                if r > 0 { times.append(max(seconds(since: t1) - prefill, 1e-9)) }
            }
        default: throw ValidationError("--mode must be forward, train or decode")
        }
        let best = times.min() ?? .nan
        struct Out: Encodable {
            var mode: String, precision: String, int8Path: String, bf16Path: String, batch: Int, tokens: Int, topLayers: Int?, threads: Int
            var recompute: Bool?
            var seconds: [Double], tokensPerSecond: Double, peakRSSBytes: Int?
        }
        try printJSON(Out(mode: mode, precision: prec.rawValue, int8Path: QuantPrecision.int8Path,
                          bf16Path: QuantPrecision.bf16Path, batch: batch,
                          tokens: tokens, topLayers: topLayers, threads: threads, recompute: recomputing, seconds: times,
                          tokensPerSecond: Double(counted) / best, peakRSSBytes: peakRSS()))
    }
}

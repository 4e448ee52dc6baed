import ArgumentParser
import Foundation
import LeaderCore

struct TeacherBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the teacher on random token ids: frozen forward (tokens/s) or LoRA training steps "
            + "(forward + backward + AdamW; tokens/s); prints JSON with the peak RSS.")

    @Option(help: "Base model: a GGUF file or a Hugging Face folder.")
    var model = "models/SmolLM2-135M-Instruct.Q4_1.gguf"
    @Option(help: "forward or train.") var mode = "forward"
    @Option(help: "Batch size.") var batch = 8
    @Option(help: "Tokens per sequence.") var tokens = 128
    @Option(help: "Timed repetitions (after one warm-up).") var repeats = 2
    @Option(help: "LoRA on the top N layers only (train mode).") var topLayers: Int?
    @Option(help: "Medications (head size, train mode).") var medications = 150
    @Option(help: "Threads (0 = all cores).") var threads = 0
    @Option(help: "Activation recomputation of the adapted layers (train mode): on, off or auto.") var recompute = "auto"

    func run() throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: model, isDirectory: &isDir) else {
            throw LeaderError.io("\(model): no such model")
        }
        let file = isDir.boolValue ? try LlamaModelFile(huggingFaceFolder: model) : try LlamaModelFile(gguf: model)
        var g = SplitMix64(seed: 42)
        let seqs = (0..<batch).map { _ in (0..<tokens).map { _ in Int32(g.next() % UInt64(file.config.vocabSize)) } }
        let targets = (0..<batch).map { _ in (0..<medications).filter { _ in g.next() % 10 == 0 } }
        let b = try TeacherBatch(sequences: seqs, targets: targets, medications: medications)
        var times: [Double] = []
        var recomputing: Bool? = nil
        switch mode {
        case "forward":
            let dec = try LlamaDecoder(file, threads: threads)
            let ctx = try Context(threads: threads)
            for r in 0...repeats {
                let t = ContinuousClock.now
                _ = try dec.forward(b.ids, lengths: b.lengths, ctx)
                if r > 0 { times.append(seconds(since: t)) }
            }
        case "train":
            let lora = LoRAConfig(topLayers: topLayers)
            let dec = try LlamaDecoder(file, lora: lora, recompute: try RecomputeMode(parsing: recompute), threads: threads)
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
        default: throw ValidationError("--mode must be forward or train")
        }
        let best = times.min() ?? .nan
        struct Out: Encodable {
            var mode: String, batch: Int, tokens: Int, topLayers: Int?, threads: Int, recompute: Bool?
            var seconds: [Double], tokensPerSecond: Double, peakRSSBytes: Int?
        }
        try printJSON(Out(mode: mode, batch: batch, tokens: tokens, topLayers: topLayers, threads: threads,
                          recompute: recomputing, seconds: times, tokensPerSecond: Double(batch * tokens) / best,
                          peakRSSBytes: peakRSS()))
    }
}

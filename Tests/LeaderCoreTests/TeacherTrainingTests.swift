import Foundation
import Testing
@testable import LeaderCore

/// Teacher training on the tiny HF LLaMA: the loss falls on a learnable toy task, the checkpoint round-trips
/// (LoRA + head only, base digest checked), and SHA-256 matches the FIPS test vectors.
@Suite struct TeacherTrainingTests {
    /// Medication 0 iff the sequence contains token 7; medication 1 iff it starts with token 9.
    func examples() -> [TeacherExample] {
        var rng = SplitMix64(seed: 3)
        return (0..<24).map { i in
            var t = (0..<(4 + i % 5)).map { _ in Int32(10 + rng.next() % 200) }
            if i % 2 == 0 { t[t.count / 2] = 7 }
            if i % 3 == 0 { t[0] = 9 }
            t.append(2)
            var meds: [Int] = []
            if i % 2 == 0 { meds.append(0) }
            if i % 3 == 0 { meds.append(1) }
            return TeacherExample(id: "p\(i):v", split: .train, text: "", tokens: t, medications: meds, visitCount: 1,
                                  truncated: false)
        }
    }

    func tiny() throws -> LlamaModelFile { try LlamaModelFile(huggingFaceFolder: TeacherFixtures.path("tiny_llama")) }

    @Test(arguments: [nil, 1] as [Int?])
    func lossFalls(_ top: Int?) throws {
        var cfg = TeacherTrainConfig()
        cfg.epochs = 30
        cfg.batchSize = 4
        cfg.gradAccumulation = 2
        cfg.learningRate = 1e-2
        cfg.lora = LoRAConfig(rank: 4, alpha: 8, dropout: 0.1, topLayers: top)
        let dec = try LlamaDecoder(tiny(), lora: cfg.lora, seed: 1)
        let model = try TeacherModel(decoder: dec, medications: 3)
        let trainer = try TeacherTrainer(model: model, config: cfg, threads: 2)
        var losses: [Float] = []
        let last = try trainer.train(examples(), clock: { 0 }) { p in losses.append(p.loss); return true }
        #expect(last.step == trainer.totalSteps(examples: 24) && last.step == 30 * 3)
        let first = losses.prefix(3).reduce(0, +) / 3, end = losses.suffix(3).reduce(0, +) / 3
        #expect(end < 0.5 * first, "loss \(first) -> \(end)")
    }

    /// A few optimiser steps (dropout on, gradient accumulation, batches of different lengths) give the same
    /// losses and adapters bit for bit with and without activation recomputation; the trainer refuses a
    /// decoder built with another recompute setting than its config.
    @Test func trainingWithRecomputationIsIdentical() throws {
        var adapters: [[UInt32]] = [], losses: [[UInt32]] = []
        for mode in [RecomputeMode.off, .on] {
            var cfg = TeacherTrainConfig()
            cfg.epochs = 2
            cfg.maxSteps = 4
            cfg.batchSize = 4
            cfg.gradAccumulation = 2
            cfg.learningRate = 1e-2
            cfg.recompute = mode
            cfg.lora = LoRAConfig(rank: 4, alpha: 8, dropout: 0.1)
            let dec = try LlamaDecoder(tiny(), lora: cfg.lora, recompute: mode, seed: 1)
            #expect(dec.recomputing == (mode == .on))
            let model = try TeacherModel(decoder: dec, medications: 3)
            let trainer = try TeacherTrainer(model: model, config: cfg, threads: 2)
            var l: [UInt32] = []
            try trainer.train(examples(), clock: { 0 }) { p in l.append(p.loss.bitPattern); return true }
            losses.append(l)
            adapters.append(dec.adapters.flatValues.toArray().map(\.bitPattern))
        }
        #expect(losses[0].count == 4 && losses[0] == losses[1])
        #expect(adapters[0] == adapters[1])
        var cfg = TeacherTrainConfig()
        cfg.recompute = .on
        let dec = try LlamaDecoder(tiny(), lora: cfg.lora, recompute: .off, seed: 1)
        expectError(.invalidArgument, "teacher training: recompute is 'on' but the decoder was built with 'off' (pass the same setting to LlamaDecoder)") { _ = try TeacherTrainer(model: try TeacherModel(decoder: dec, medications: 3),
                                                                   config: cfg, threads: 1) }
    }

    @Test func checkpointRoundTrip() throws {
        let dir = try TeacherFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var cfg = TeacherTrainConfig()
        cfg.maxSteps = 2
        cfg.lora = LoRAConfig(topLayers: 1)
        let file = try tiny()
        let modelPath = TeacherFixtures.path("tiny_llama")
        let dec = try LlamaDecoder(file, lora: cfg.lora, seed: 4)
        let model = try TeacherModel(decoder: dec, medications: 3)
        try TeacherTrainer(model: model, config: cfg, threads: 1).train(examples(), clock: { 0 }) { _ in true }
        let ck = TeacherCheckpoint(baseModel: "tiny_llama", baseModelSHA256: try TeacherCheckpoint.digest(ofModel: modelPath),
                                   llama: file.config, lora: cfg.lora, train: cfg, medications: ["A", "B", "C"])
        let path = dir.appendingPathComponent("teacher.safetensors").path
        try ck.write(model, to: path)
        let (back, loaded) = try TeacherCheckpoint.load(path, modelFile: file, modelPath: modelPath, threads: 1)
        #expect(back.medications == ["A", "B", "C"] && back.lora == cfg.lora && back.train == cfg)
        #expect(loaded.decoder.adapters.flatValues.toArray() == model.decoder.adapters.flatValues.toArray())
        #expect(SafetensorsFileNames(path).allSatisfy { $0.contains("lora_") || $0 == "cls_head.weight" })
        // another base model (different digest) is refused
        var other = ck
        other.baseModelSHA256 = String(repeating: "0", count: 64)
        try other.write(model, to: path)
        expectError(.incompatible, "teacher.safetensors: trained on base model tiny_llama (sha256 0000000000000000000000000000000000000000000000000000000000000000), but") { _ = try TeacherCheckpoint.load(path, modelFile: file, modelPath: modelPath, threads: 1) }
        // the same predictions after loading
        let batch = try TeacherBatch(sequences: examples().prefix(5).map(\.tokens))
        let ctx = try Context(threads: 1)
        #expect(try model.forward(batch, ctx).logits.toArray() == loaded.forward(batch, ctx).logits.toArray())
    }

    func SafetensorsFileNames(_ path: String) -> [String] { (try? SafetensorsFile(path: path).tensorNames) ?? [] }

    /// Export: predictions of the tiny model written as a features file and read back by sample id.
    @Test func featuresFile() throws {
        let dir = try TeacherFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dec = try LlamaDecoder(tiny(), lora: LoRAConfig(topLayers: 1), seed: 2)
        let model = try TeacherModel(decoder: dec, medications: 3)
        let ex = examples()
        var hidden = [Float](repeating: .nan, count: ex.count * 64), logits = [Float](repeating: .nan, count: ex.count * 3)
        try model.predict(ex, batchSize: 5, threads: 2) { idx, h, l in
            let hv = h.toArray(), lv = l.toArray()
            for (r, i) in idx.enumerated() {
                hidden.replaceSubrange((i * 64)..<((i + 1) * 64), with: hv[(r * 64)..<((r + 1) * 64)])
                logits.replaceSubrange((i * 3)..<((i + 1) * 3), with: lv[(r * 3)..<((r + 1) * 3)])
            }
        }
        #expect(!hidden.contains { $0.isNaN } && !logits.contains { $0.isNaN })
        // row 4 alone (no padding) gives the same hidden state as in the padded, length-sorted batches
        let single = try model.forward(try TeacherBatch(sequences: [ex[4].tokens]), try Context(threads: 1)).hidden.toArray()
        #expect(zip(single, hidden[(4 * 64)..<(5 * 64)]).allSatisfy { abs($0 - $1) < 1e-5 })
        let path = dir.appendingPathComponent("f.safetensors").path
        try TeacherFeaturesFile.write(ids: ex.map(\.id), hidden: hidden, hiddenSize: 64, logits: logits,
                                  medications: ["A", "B", "C"], dataFingerprint: "crc32:0/patients:0/samples:0",
                                      metadata: ["split": "train"], to: path)
        let f = try SafetensorsFile(path: path)
        #expect(f.metadata["format"] == "leader-teacher-features" && f.metadata["hidden_size"] == "64")
        let ids = try JSONDecoder().decode([String].self, from: Data((f.metadata["sample_ids"] ?? "").utf8))
        #expect(ids == ex.map(\.id))
        #expect(f.info("hidden")?.shape == [24, 64] && f.info("logits")?.shape == [24, 3])
        #expect(TestDequant.values(try f.tensor("hidden")) == hidden)
    }

    @Test func sha256Vectors() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 1000)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }
}

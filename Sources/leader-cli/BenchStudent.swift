import ArgumentParser
import Foundation
import LeaderCore

/// Random patients for benchmarks. `mimic`: visits 1 + geometric (p 0.42, mean ≈ 2.4) capped at maxVisits;
/// per visit 1…21 diagnoses, 1…6 procedures, 1…29 medications (means ≈ 11, 3.5, 15 — MIMIC-III-like),
/// capped at maxCodes. `uniform` (worst case): 1…maxVisits visits and 1…maxCodes codes per set, uniform.
/// Same generator as bench/student_bench.py (codes are then de-duplicated).
func benchExamples(_ n: Int, sizes: StudentVocabularySizes, maxVisits: Int, maxCodes: Int, seed: UInt64,
                   uniform: Bool) -> [StudentExample] {
    var rng = SplitMix64(seed: seed)
    func r(_ k: Int) -> Int { Int(rng.next() % UInt64(max(k, 1))) }
    func set(_ vocab: Int, _ maxN: Int) -> [Int32] {
        Array(Set((0..<(1 + r(min(maxN, maxCodes)))).map { _ in Int32(r(vocab)) })).sorted()
    }
    return (0..<n).map { _ in
        var v = 1
        if uniform { v = 1 + r(maxVisits) } else { while v < maxVisits && r(100) >= 42 { v += 1 } }
        let (nd, np, nm) = uniform ? (maxCodes, maxCodes, maxCodes) : (21, 6, 29)
        return StudentExample(diagnoses: (0..<v).map { _ in set(sizes.diagnoses, nd) },
                              procedures: (0..<v).map { _ in set(sizes.procedures, np) },
                              medications: (0..<(v - 1)).map { _ in set(sizes.medications, nm) },
                              profile: sizes.profileCardinalities.map { Int32(r($0)) }, targetMedications: set(sizes.medications, nm))
    }
}

struct BenchStudent: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "student",
        abstract: "Student speed: training samples/s, single-patient latency, batch inference patients/s.",
        discussion: "Figures go to docs/benchmarks-student.md; bench/student_bench.py runs PyTorch on the same sizes.")

    @Option var medications = 131
    @Option var diagnoses = 1958
    @Option var procedures = 1430
    @Option(help: "Visits per patient are uniform in 1...maxVisits.") var maxVisits = 10
    @Option(help: "Codes per set are uniform in 1...maxCodes (before de-duplication).") var maxCodes = 40
    @Option var batch = 16
    @Option(help: "Training steps timed (after 3 warm-up steps).") var steps = 30
    @Option(help: "Threads for training.") var trainThreads = 1
    @Option(help: "Single-patient latency samples.") var latencySamples = 300
    @Option(help: "Threads for batch inference.") var inferThreads = 2
    @Option(help: "Batch size for batch inference.") var inferBatch = 256
    @Option(help: "Patients per kernel pass inside a batch (per thread).") var inferChunk = 32
    @Option(help: "Inference arithmetic of the linear layers: fp32 or bf16 (AMX tiles where available).")
    var precision = "fp32"
    @Flag(help: "Worst-case uniform distribution instead of the MIMIC-like one.") var uniform = false
    @Flag(help: "Also time each stage of the single-patient forward pass (a second pass over the same patients).")
    var stages = false
    @Flag var json = false

    /// The single-patient loop discards its first 10 calls (warm-up), so it needs more than that.
    static let latencyWarmUp = 10

    func validate() throws {
        try requireAtLeast([("--medications", medications, 1), ("--diagnoses", diagnoses, 1),
                            ("--procedures", procedures, 1), ("--max-visits", maxVisits, 1),
                            ("--max-codes", maxCodes, 1), ("--batch", batch, 1), ("--steps", steps, 1),
                            ("--train-threads", trainThreads, 1), ("--infer-threads", inferThreads, 1),
                            ("--infer-batch", inferBatch, 1), ("--infer-chunk", inferChunk, 1),
                            ("--latency-samples", latencySamples, Self.latencyWarmUp + 1)])
    }

    func run() throws {
        let sizes = StudentVocabularySizes(medications: medications, diagnoses: diagnoses, procedures: procedures,
                                           profileCardinalities: [5, 40, 20, 6, 40, 3, 9])
        var cfg = StudentConfig()
        cfg.maxVisits = maxVisits
        let clock = ContinuousClock()
        func secs(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }

        // training
        let model = try StudentModel(config: cfg, sizes: sizes, threads: trainThreads)
        let adam = try Adam(model.store, Adam.Options(learningRate: cfg.learningRate))
        let ctx = try Context(threads: trainThreads, training: true, seed: 1)
        let data = benchExamples(batch * (steps + 3), sizes: sizes, maxVisits: maxVisits, maxCodes: maxCodes, seed: 1, uniform: uniform)
        var trainTime = 0.0
        for s in 0..<(steps + 3) {
            let t0 = clock.now
            let b = try model.pack(Array(data[(s * batch)..<((s + 1) * batch)]), forTraining: true)
            model.store.zeroGrad()
            _ = try model.loss(b, ctx)
            try model.backward(ctx)
            try adam.update(ctx)
            if s >= 3 { trainTime += secs(clock.now - t0) }
        }
        let trainRate = Double(batch * steps) / trainTime

        // single-patient latency, 1 thread, eval mode, through the serving model a host loads (a checkpoint of a
        // fresh model; includes validation and packing of the codes)
        let m1 = try StudentModel(config: cfg, sizes: sizes, threads: 1)
        func codes(_ kind: CodeKind, _ prefix: String, _ n: Int) throws -> Vocabulary {
            try Vocabulary(kind: kind, keys: (0..<n).map { "\(prefix)\($0)" }, titles: (0..<n).map { "\(prefix) \($0)" })
        }
        let profile = ProfileSchema(fields: sizes.profileCardinalities.enumerated().map { f, n in
            ProfileField(name: "field\(f)", values: ["unknown"] + (1..<n).map { "v\($0)" })
        })
        let ck = try StudentCheckpoint(
            model: m1, vocabularies: CheckpointVocabularies(medications: try codes(.medication, "M", medications),
                                                            diagnoses: try codes(.diagnosis, "D", diagnoses),
                                                            procedures: try codes(.procedure, "P", procedures)),
            profile: profile, thresholds: CheckpointThresholds(configured: cfg.threshold),
            provenance: CheckpointProvenance(dataFingerprint: "bench", source: "bench", epochs: 0, bestEpoch: 0,
                                             bestValidationPRAUC: 0))
        let served = try ServingModel(checkpoint: ck)
        let p = try cliStudentPrecision(precision)
        let serving = try ServingSession(model: served, options: .init(threads: 1, precision: p.rawValue))
        let packed = served.packed
        let patients = benchExamples(latencySamples, sizes: sizes, maxVisits: maxVisits, maxCodes: maxCodes, seed: 2, uniform: uniform)
        var lat: [Double] = [], cpu: [Double] = []
        for i in patients.indices {
            let t0 = clock.now, c0 = threadCPUSeconds()
            _ = try serving.scores(patients[i])
            if i >= Self.latencyWarmUp { lat.append(secs(clock.now - t0)); cpu.append(threadCPUSeconds() - c0) }
        }
        lat.sort()
        cpu.sort()
        let p50 = lat[lat.count / 2], p90 = lat[lat.count * 9 / 10]
        let stageTimes = stages ? try stageProfile(packed, precision: p, patients) : nil

        // batch inference: one forward pass per thread, `inferBatch` patients per call
        let many = benchExamples(inferBatch * 8, sizes: sizes, maxVisits: maxVisits, maxCodes: maxCodes, seed: 3, uniform: uniform)
        let passes = try (0..<inferThreads).map { _ in try packed.makePass(precision: p) }   // one per thread
        _ = try packed.predict(Array(many.prefix(inferBatch)), passes: passes, chunk: inferChunk)
        let t0 = clock.now
        for k in 0..<8 {
            _ = try packed.predict(Array(many[(k * inferBatch)..<((k + 1) * inferBatch)]), passes: passes,
                                   chunk: inferChunk)
        }
        let inferRate = Double(inferBatch * 8) / secs(clock.now - t0)

        struct Out: Encodable {
            var trainSamplesPerSecond: Double, trainThreads: Int, batch: Int
            var singlePatientP50Microseconds: Double, singlePatientP90Microseconds: Double
            var singlePatientCPUP50Microseconds: Double
            var batchInferencePatientsPerSecond: Double, inferThreads: Int, inferBatch: Int
            var parameters: Int, isa: String, distribution: String, precision: String, bf16Path: String
            var stages: [StageTime]?
        }
        let o = Out(trainSamplesPerSecond: trainRate, trainThreads: trainThreads, batch: batch,
                    singlePatientP50Microseconds: p50 * 1e6, singlePatientP90Microseconds: p90 * 1e6,
                    singlePatientCPUP50Microseconds: cpu[cpu.count / 2] * 1e6,
                    batchInferencePatientsPerSecond: inferRate, inferThreads: inferThreads, inferBatch: inferBatch,
                    parameters: model.store.parameterCount, isa: Threads.isaName,
                    distribution: uniform ? "uniform" : "mimic", precision: p.rawValue,
                    bf16Path: StudentPrecision.bf16Path, stages: stageTimes)
        if json { try printJSON(o); return }
        print(String(format: "training (batch %d, %d threads): %.0f samples/s", batch, trainThreads, trainRate))
        if p == .bf16 { print("inference precision: bf16 (\(StudentPrecision.bf16Path))") }
        print(String(format: "single patient (1 thread): p50 %.1f µs, p90 %.1f µs (thread CPU time p50 %.1f µs)",
                     p50 * 1e6, p90 * 1e6, cpu[cpu.count / 2] * 1e6))
        print(String(format: "batch inference (batch %d, %d threads): %.0f patients/s", inferBatch, inferThreads, inferRate))
        for st in stageTimes ?? [] {
            print("  " + st.stage.padding(toLength: 44, withPad: " ", startingAt: 0)
                  + String(format: " mean %6.1f µs, slowest tenth %6.1f µs", st.meanMicroseconds, st.slowestTenthMeanMicroseconds))
        }
    }

    struct StageTime: Encodable {
        var stage: String, meanMicroseconds: Double, slowestTenthMeanMicroseconds: Double
    }

    /// Each stage's mean time per patient, over all `patients` and over the tenth with the longest passes (one
    /// forward pass per patient, 1 thread, after the warm-up patients).
    func stageProfile(_ packed: PackedStudent, precision: StudentPrecision, _ patients: [StudentExample]) throws -> [StageTime] {
        let pass = try packed.makePass(precision: precision)
        var out = [Float](repeating: 0, count: packed.sizes.medications)
        var rows: [[Double]] = []
        for (i, ex) in patients.enumerated() {
            pass.stageSeconds = Array(repeating: 0, count: StudentForwardPass.Stage.allCases.count)
            try out.withUnsafeMutableBufferPointer { o in
                guard let base = o.baseAddress else { return }
                try pass.predict([ex][...], into: base)
            }
            if i >= Self.latencyWarmUp, let t = pass.stageSeconds { rows.append(t) }
        }
        let slow = rows.sorted { $0.reduce(0, +) > $1.reduce(0, +) }.prefix(max(1, rows.count / 10))
        return StudentForwardPass.Stage.allCases.map { st in
            func mean<C: Collection>(_ r: C) -> Double where C.Element == [Double] {
                r.reduce(0) { $0 + $1[st.rawValue] } / Double(r.count) * 1e6
            }
            return StageTime(stage: st.name, meanMicroseconds: mean(rows), slowestTenthMeanMicroseconds: mean(slow))
        }
    }
}

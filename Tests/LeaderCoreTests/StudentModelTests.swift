import Foundation
import Testing
@testable import LeaderCore

/// A small random cohort where the target medications follow the current diagnoses (learnable).
func syntheticExamples(_ n: Int, seed: UInt64) -> [StudentExample] {
    var rng = SplitMix64(seed: seed)
    func r(_ k: Int) -> Int { Int(rng.next() % UInt64(k)) }
    return (0..<n).map { _ in
        let v = 1 + r(3)
        var d: [[Int32]] = [], p: [[Int32]] = [], m: [[Int32]] = []
        for _ in 0..<v {
            d.append(Array(Set((0..<(1 + r(3))).map { _ in Int32(r(7)) })).sorted())
            p.append(Array(Set((0..<r(3)).map { _ in Int32(r(5)) })).sorted())
        }
        for j in 0..<(v - 1) { m.append(Array(Set(d[j].map { $0 % 6 })).sorted()) }
        let target = Array(Set(d[v - 1].map { $0 % 6 })).sorted()
        return StudentExample(diagnoses: d, procedures: p, medications: m, profile: [Int32(r(3)), Int32(r(2))],
                              targetMedications: target)
    }
}

@Suite struct StudentModelTests {
    @Test func configRejectsUnknownKeysAndBadValues() throws {
        let c = try StudentConfig.decode(json: "{\"hidden\": 32, \"heads\": 2}")
        #expect(c.hidden == 32 && c.heads == 2 && c.ffnHidden == 300 && c.threshold == 0.3)
        expectError(.invalidArgument, "student config: unknown key 'hiden'") { _ = try StudentConfig.decode(json: "{\"hiden\": 32}") }
        expectError(.invalidArgument, "student config: wrong type at 'hidden'") { _ = try StudentConfig.decode(json: "{\"hidden\": \"x\"}") }
        expectError(.invalidArgument, "student config: heads = 4 (must divide hidden)") { _ = try StudentConfig.decode(json: "{\"hidden\": 30, \"heads\": 4}") }
        expectError(.invalidArgument, "student config: hiddenDropout = 1.0 ([0,1))") { _ = try StudentConfig.decode(json: "{\"hiddenDropout\": 1.0}") }
        expectError(.invalidArgument, "student config: wrong type at ''") { _ = try StudentConfig.decode(json: "[1]") }
        let d = StudentConfig()
        #expect(try StudentConfig.decode(json: try d.json()) == d)
        #expect(d.hidden == 64 && d.heads == 4 && d.ffnHidden == 300 && d.hiddenDropout == 0.4
            && d.attentionDropout == 0.1 && d.headHidden == 128 && d.learningRate == 5e-4 && d.patience == 10)
    }

    @Test func referenceParameterCount() throws {
        // leader-method.md §4.6 for |diag| 1998, |proc| 1001, |Med| 125: embedding 200,128; each block 55,468;
        // medrec MLP 40,829. Ours: 4 blocks (3 set encoders + 1 visit encoder), one profile head, no unused ones.
        let sizes = StudentVocabularySizes(medications: 125, diagnoses: 1998, procedures: 1001, profileCardinalities: [])
        var c = StudentConfig()
        c.beta = 0
        let m = try StudentModel(config: c, sizes: sizes)
        #expect(m.store.parameterCount == 200_128 + 4 * 55_468 + 40_829 + 64)  // + the padding prompt vector
        #expect(try StudentModel.parameterCount(config: c, sizes: sizes) == m.store.parameterCount)
        let full = try StudentModel(config: tinyConfig(), sizes: tinySizes)
        var kd = tinyConfig()
        kd.teacherDim = 7
        let withKD = try StudentModel(config: kd, sizes: tinySizes)
        #expect(try StudentModel.parameterCount(config: tinyConfig(), sizes: tinySizes) == full.store.parameterCount)
        #expect(try StudentModel.parameterCount(config: kd, sizes: tinySizes) == withKD.store.parameterCount)
    }

    @Test func packingChecksInput() throws {
        let m = try StudentModel(config: tinyConfig(), sizes: tinySizes)
        let ok = StudentExample(diagnoses: [[0, 1]], procedures: [[]], medications: [], profile: [1, 0], targetMedications: [2])
        let b = try m.pack([ok, ok], forTraining: true)
        #expect(b.batch == 2 && b.maxVisits == 1 && b.procedures.buckets[0].ids.shape == [2, 1])
        #expect(b.visitIds.toArray() == [0, 1, 2, 3, 6, 7])  // D rows 0-1, P rows 2-3, target med sets 4-5, prompts 6-7
        var bad = ok
        bad.diagnoses = [[7]]
        expectError(.invalidArgument, "student batch: diagnosis id 7 outside vocabulary of 7") { _ = try m.pack([bad], forTraining: false) }
        bad = ok
        bad.profile = [3, 0]
        expectError(.invalidArgument, "student batch: profile field 0 label 3 outside its 3 values") { _ = try m.pack([bad], forTraining: false) }
        bad = ok
        bad.medications = [[1]]
        expectError(.invalidArgument, "student batch: an example has 1 diagnosis sets, 1 procedure sets and 1 medication sets (need v, v, v-1)") { _ = try m.pack([bad], forTraining: false) }
        bad = ok
        bad.targetMedications = [-1]
        expectError(.invalidArgument, "student batch: medication id -1 outside vocabulary of 6") { _ = try m.pack([bad], forTraining: true) }
        expectError(.invalidArgument, "student batch: no examples") { _ = try m.pack([], forTraining: true) }
    }

    @Test func setsArePaddedOnlyToTheBatchMaximum() throws {
        let m = try StudentModel(config: tinyConfig(), sizes: tinySizes)
        let e = StudentExample(diagnoses: [[0, 1, 2], [3]], procedures: [[0], [1, 2]], medications: [[4, 5]],
                               profile: [0, 0], targetMedications: [1])
        let b = try m.pack([e], forTraining: false)
        #expect(b.diagnoses.buckets.map(\.ids.shape) == [[2, 3]] && b.procedures.buckets.map(\.ids.shape) == [[2, 2]]
            && b.medications.buckets.map(\.ids.shape) == [[1, 2]])
        // the same patient alone or padded next to a longer one gives the same scores
        let long = StudentExample(diagnoses: [[0, 1, 2, 3, 4, 5, 6], [1], [2], [3]], procedures: [[0], [1], [2], [3]],
                                  medications: [[0], [1], [2]], profile: [1, 1], targetMedications: [0])
        let ctx = try Context()
        ctx.training = false
        let alone = try m.forward(b, ctx).toArray()
        let both = try m.forward(try m.pack([e, long], forTraining: false), ctx).toArray()
        Closeness(atol: 1e-6, rtol: 1e-5).expect(Array(both.prefix(6)), alone, "scores alone vs padded beside a longer patient")
    }

    @Test func lengthBucketsCutPaddingOnlyWhenItPays() {
        #expect(StudentBatch.lengthBuckets([3, 1, 2]) == [[0, 1, 2]])  // tiny: one bucket, original order
        let lengths = Array(repeating: 2, count: 60) + Array(repeating: 40, count: 10)
        let b = StudentBatch.lengthBuckets(lengths)
        #expect(b.count == 2 && b[0].count == 60 && b[1].count == 10 && Set(b.flatMap { $0 }).count == 70)
        #expect(StudentBatch.lengthBuckets(lengths, maxBuckets: 1) == [Array(0..<70)])
    }

    @Test func bucketingDoesNotChangeLossOrGradients() throws {
        var c = tinyConfig()
        c.teacherDim = 3
        c.beta = 0.3
        let m = try StudentModel(config: c, sizes: tinySizes)
        var ex = syntheticExamples(40, seed: 21)
        for i in 0..<6 { ex[i].diagnoses[0] = Array(0..<7); ex[i].procedures[0] = Array(0..<5) }  // a few long sets
        let ctx = try Context(threads: 1, training: false)
        let teacher = try Tensor(shape: [40, 3], values: (0..<120).map { Float($0 % 5) / 5 })
        func run(_ buckets: Int) throws -> (Float, [Float], Int) {
            let b = try m.pack(ex, forTraining: true, maxBuckets: buckets)
            m.store.zeroGrad()
            let l = try m.loss(b, teacher: teacher, ctx)
            try m.backward(ctx)
            return (l.total, m.store.flatGrads.toArray(), b.diagnoses.buckets.count)
        }
        let (l1, g1, n1) = try run(1), (l3, g3, n3) = try run(3)
        #expect(n1 == 1 && n3 > 1)
        #expect(abs(l1 - l3) < 1e-5)
        Closeness.scaled(to: g1, atol: 1e-5, rtol: 1e-4).expect(g3, g1, "gradients with 3 buckets vs 1")
    }

    @Test func trainingLearnsAndIsReproducible() throws {
        let train = syntheticExamples(64, seed: 1), val = syntheticExamples(24, seed: 2)
        var c = tinyConfig()
        c.epochs = 15
        c.patience = 15
        func run(threads: Int) throws -> (StudentTrainer, [Double]) {
            let m = try StudentModel(config: c, sizes: tinySizes, threads: threads)
            let t = try StudentTrainer(model: m, train: train, validation: val, threads: threads)
            var losses: [Double] = []
            try t.run { if case .epoch(let e) = $0 { losses.append(e.loss) } }
            return (t, losses)
        }
        let (t1, l1) = try run(threads: 1)
        let (t2, l2) = try run(threads: 2)
        #expect(l1 == l2, "training must not depend on the thread count")
        #expect(l1.last! < l1.first! * 0.8, "loss should fall: \(l1)")
        #expect(t1.bestPRAUC > 0.6, "validation PRAUC \(t1.bestPRAUC)")
        #expect(t1.model.store.flatValues.toArray() == t2.model.store.flatValues.toArray())
        let freq = Baseline.frequencies(train, medications: 6)
        let base = try Baseline.frequency.score(val, frequencies: freq).meanPRAUC()
        #expect(t1.bestPRAUC > base, "student \(t1.bestPRAUC) vs frequency \(base)")
    }

    @Test func resumeGivesTheSameResult() throws {
        let train = syntheticExamples(32, seed: 3), val = syntheticExamples(10, seed: 4)
        var c = tinyConfig()
        c.epochs = 4
        let full = try StudentTrainer(model: try StudentModel(config: c, sizes: tinySizes), train: train, validation: val)
        try full.run()
        // interrupted after epoch 2 (state saved after every epoch), then resumed by a fresh trainer
        let path = tempPath("state.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let a = try StudentTrainer(model: try StudentModel(config: c, sizes: tinySizes), train: train, validation: val)
        expectError(.cancelled, "interrupted") {
            try a.run(afterEpoch: { t throws(LeaderError) in
                try t.saveState(to: path, dataFingerprint: "x")
                if t.epoch == 2 { throw .cancelled("interrupted") }
            })
        }
        let b = try StudentTrainer(model: try StudentModel(config: c, sizes: tinySizes), train: train, validation: val)
        expectError(.incompatible, "state.safetensors: the train state was written for another dataset") { try b.loadState(from: path, dataFingerprint: "y") }
        try b.loadState(from: path, dataFingerprint: "x")
        #expect(b.epoch == 2)
        try b.run()
        #expect(b.model.store.flatValues.toArray() == full.model.store.flatValues.toArray())
        #expect(b.bestPRAUC == full.bestPRAUC && b.bestEpoch == full.bestEpoch)
        #expect(b.history == full.history && full.history.count == 4, "the per-epoch history survives the resume")
    }

    @Test func distillationAndAlignmentTermsTrain() throws {
        var c = tinyConfig()
        c.teacherDim = 4
        c.beta = 0.5
        c.epochs = 3
        let train = syntheticExamples(16, seed: 9)
        let feats = try TeacherFeatures(dim: 4, values: (0..<64).map { Float($0 % 7) / 7 }, rows: 16)
        let t = try StudentTrainer(model: try StudentModel(config: c, sizes: tinySizes), train: train,
                                   validation: syntheticExamples(6, seed: 10), teacher: feats)
        let batch = try t.model.pack(Array(train.prefix(4)), forTraining: true)
        let tt = try Tensor(shape: [4, 4], values: Array(feats.values.prefix(16)))
        let before = try t.model.loss(batch, teacher: tt, t.ctx)
        #expect(before.distill > 0 && before.align > 0)
        #expect(abs(before.total - (before.bce + 0.4 * before.distill + 0.5 * before.align)) < 1e-5)
        try t.run()
        t.ctx.training = false
        let after = try t.model.loss(batch, teacher: tt, t.ctx)
        #expect(after.distill < before.distill)
        // keyed by sample index
        let g = try TeacherFeatures.gather(matrix: (0..<12).map(Float.init), dim: 3, samples: [2, 0])
        #expect(g.values == [6, 7, 8, 0, 1, 2])
        expectError(.invalidArgument, "teacher features: no row for sample 1 (1 rows)") { _ = try TeacherFeatures.gather(matrix: [1, 2, 3], dim: 3, samples: [1]) }
        // wrong teacher width is rejected
        expectError(.invalidArgument, "student training: teacher features of width 3, but distillTarget hidden needs 4 (teacherDim 4, 6 medications)") {
            _ = try StudentTrainer(model: try StudentModel(config: c, sizes: tinySizes), train: train, validation: [],
                                   teacher: try TeacherFeatures(dim: 3, values: [Float](repeating: 0, count: 48), rows: 16))
        }
    }

    @Test func recommenderReportsUnknownCodes() throws {
        let model = try StudentModel(config: tinyConfig(), sizes: tinySizes)
        let rec = try ServingSession(model: try ServingModel(checkpoint: try tinyCheckpoint(model)))
        let r = try rec.recommendation(try PatientRecord.decode(json: """
            {"visits": [{"diagnoses": ["D1", "D9"], "procedures": ["P0"], "medications": ["M2"]}],
             "current": {"diagnoses": ["D3"], "procedures": []},
             "profile": {"insurance": "Medicare", "gender": "X", "color": "blue"}}
            """), threshold: 0.0)
        #expect(r.recommended.count == 6 && r.recommended[0].title.hasPrefix("med "))
        #expect(r.unknownCodes == ["diagnosis:D9"])
        #expect(r.unknownProfile.sorted() == ["color", "gender=X"])
        expectError(.invalidArgument, "current: unknown key 'diagnosis'") { _ = try PatientRecord.decode(json: "{\"current\": {\"diagnosis\": []}}") }
    }
}


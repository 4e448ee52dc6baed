import Foundation
import Testing
@testable import LeaderCore

/// The teacher-features file as the student reads it: round trip, join by sample id, data fingerprint,
/// distillation from the file, a malformed-file corpus and a file written by the Python exporter.
@Suite struct TeacherFeaturesFileTests {
    /// A prepared synthetic dataset written to disk (so it has a real fingerprint).
    static func dataset(patients: Int = 160) throws -> (StudentDataset, String) {
        let dir = DataTestSupport.tempDir("features-data")
        _ = try SyntheticCohort.write(SyntheticConfig(patients: patients, seed: 11), to: dir) { _ in true }
        let data = try DataPreparation.prepare(source: .mimic3, input: dir, maps: dir + "/maps",
                                               config: PrepareConfig.defaults(for: .mimic3))
        let path = dir + "/cohort.ldata"
        try LDataFile.write(data, to: path)
        return (try StudentDataset(path: path), dir)
    }

    /// Teacher rows that depend on the target medications (learnable by the student): a fixed random
    /// projection of the multi-hot target.
    static func teacherRows(_ ex: [StudentExample], medications: Int, dim: Int) -> [Float] {
        var rng = SplitMix64(seed: 77)
        let w = (0..<(medications * dim)).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 }
        var out = [Float]()
        for e in ex {
            var row = [Float](repeating: 0.1, count: dim)
            for m in e.targetMedications { for j in 0..<dim { row[j] += w[Int(m) * dim + j] } }
            out += row
        }
        return out
    }

    @Test func roundTripJoinAndDistillation() throws {
        let (ds, dir) = try Self.dataset()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let m = ds.sizes.medications, dim = 12
        // features for every sample (train, validation, test) in file order: the training rows must be found
        // by id, the rest counted as extra
        var ids: [String] = [], rows: [Float] = []
        for part in SplitPart.allCases {
            ids += try ds.sampleIDs(part)
            rows += Self.teacherRows(try ds.examples(part, maxVisits: 10), medications: m, dim: dim)
        }
        #expect(Set(ids).count == ids.count && ids.count == ds.data.samples.count)
        let logits = (0..<(ids.count * m)).map { Float($0 % 13) - 6 }
        let path = dir + "/features.safetensors"
        try TeacherFeaturesFile.write(ids: ids.reversed(), hidden: Self.reverseRows(rows, dim), hiddenSize: dim,
                                      logits: Self.reverseRows(logits, m), medications: ds.data.cohort.medications.keys,
                                      dataFingerprint: ds.fingerprint, metadata: ["split": "all"], to: path)
        let f = try TeacherFeaturesFile(path: path)
        #expect(f.sampleIDs == ids.reversed() && f.hiddenSize == dim && f.count == ids.count)
        #expect(f.hidden == Self.reverseRows(rows, dim) && f.logits == Self.reverseRows(logits, m), "round trip is exact")
        #expect(f.medications == ds.data.cohort.medications.keys && f.metadata["split"] == "all")
        #expect(try f.checkDataFingerprint(ds.fingerprint, dataName: "data") == true)
        expectError(.incompatible, "features.safetensors: exported from the dataset '\(ds.fingerprint)', but x is 'crc32:00000000/patients:1/samples:1' (re-export the teacher features for this dataset)") { _ = try f.checkDataFingerprint("crc32:00000000/patients:1/samples:1", dataName: "x") }

        let trainIDs = try ds.sampleIDs(.train)
        let train = try ds.examples(.train, maxVisits: 10)
        let join = try f.features(for: trainIDs, target: .hidden)
        #expect(join.matched == train.count && join.extra == ids.count - train.count && join.extra > 0)
        #expect(join.features.dim == dim)
        #expect(join.features.values == Self.teacherRows(train, medications: m, dim: dim), "rows follow the examples")
        let viaLogits = try f.features(for: trainIDs, target: .logits)
        #expect(viaLogits.features.dim == m)
        if let r = f.row(of: trainIDs[0]) {
            #expect(Array(viaLogits.features.values.prefix(m)) == Array(f.logits[(r * m)..<((r + 1) * m)]))
        } else {
            Issue.record("first training id not found")
        }

        // a few epochs of distillation: the term is non-zero, falls, and its gradient reaches the model
        var c = tinyConfig()
        c.teacherDim = dim
        c.epochs = 4
        c.patience = 10
        c.beta = 0
        let trainer = try StudentTrainer(model: try StudentModel(config: c, sizes: ds.sizes), train: train,
                                         validation: try ds.examples(.validation, maxVisits: 10), teacher: join.features)
        let batch = try trainer.model.pack(Array(train.prefix(8)), forTraining: true)
        let teacher = try Tensor(shape: [8, dim], values: Array(join.features.values.prefix(8 * dim)))
        trainer.ctx.training = false
        func grads(_ t: Tensor?) throws -> [Float] {
            trainer.model.store.zeroGrad()
            _ = try trainer.model.loss(batch, teacher: t, trainer.ctx)
            try trainer.model.backward(trainer.ctx)
            return trainer.model.store.flatGrads.toArray()
        }
        let with = try grads(teacher), without = try grads(nil)
        #expect(with != without, "the distillation term changes the gradients")
        let projector = try #require(trainer.model.store.parameter(named: "distill.projector.weight"))
        #expect(trainer.model.store.grad(projector).toArray().allSatisfy { $0 == 0 })  // no teacher: none
        _ = try grads(teacher)
        #expect(trainer.model.store.grad(projector).toArray().contains { $0 != 0 })
        try trainer.run()
        let kd = trainer.history.map(\.distill)
        #expect(kd.count == 4 && kd.allSatisfy { $0 > 0 })
        #expect(kd.last! < kd.first! * 0.9, "distill term should fall: \(kd)")
        #expect(trainer.history.allSatisfy { abs($0.loss - ($0.bce + Double(c.alpha) * $0.distill)) < 1e-3 })

        // missing ids: the count and the first ids in the message
        let partial = dir + "/partial.safetensors"
        let keep = Array(ids.prefix(ids.count - 3))
        try TeacherFeaturesFile.write(ids: keep, hidden: Array(rows.prefix(keep.count * dim)), hiddenSize: dim,
                                      logits: [], medications: [], dataFingerprint: ds.fingerprint, metadata: [:],
                                      to: partial)
        let pf = try TeacherFeaturesFile(path: partial)
        let all = ids
        let e = try #require(Self.caught { _ = try pf.features(for: all, target: .hidden) }, "missing ids must fail")
        #expect(e.kind == .incompatible)
        #expect(e.message.contains("no teacher features for 3 of \(all.count)") && e.message.contains(all.last!))
        // logits target without a head
        expectError(.incompatible, "partial.safetensors: distillTarget 'logits' but the file has no logits columns") { _ = try pf.features(for: keep, target: .logits) }
    }

    static func reverseRows(_ v: [Float], _ w: Int) -> [Float] {
        guard w > 0 else { return v }
        return stride(from: v.count / w - 1, through: 0, by: -1).flatMap { v[($0 * w)..<(($0 + 1) * w)] }
    }

    @Test func distillTargetConfigKey() throws {
        #expect(try StudentConfig.decode(json: #"{"distillTarget": "logits"}"#).distillTarget == .logits)
        #expect(StudentConfig().distillTarget == .hidden)
        expectError(.invalidArgument, "student config: invalid JSON at 'distillTarget'") { _ = try StudentConfig.decode(json: #"{"distillTarget": "attention"}"#) }
    }

    // MARK: malformed files

    static let goodMeta: [String: String] = [
        "format": "leader-teacher-features", "format_version": "1", "sample_ids": #"["1:10","2:20","3:30"]"#,
        "medications": #"["A","B"]"#, "hidden_size": "4", "data_fingerprint": "fp",
    ]
    static let goodHidden = (0..<12).map { Float($0) / 4 }
    static let goodLogits: [Float] = [1, -1, 2, -2, 3, -3]

    /// Writes a file with the given changes to the good one and returns the error reading it gives.
    static func error(_ name: String, meta: [String: String?] = [:], hidden: SafetensorsTensor? = nil,
                      logits: SafetensorsTensor? = nil, extra: [SafetensorsTensor] = [],
                      edit: ((inout [UInt8]) -> Void)? = nil) throws -> LeaderError? {
        let path = tempPath("features-\(name).safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var m = goodMeta
        for (k, v) in meta { m[k] = v }
        try SafetensorsWriter.write([hidden ?? SafetensorsTensor(name: "hidden", shape: [3, 4], floats: goodHidden),
                                     logits ?? SafetensorsTensor(name: "logits", shape: [3, 2], floats: goodLogits)] + extra,
                                    metadata: m, to: path)
        if let edit {
            var b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            edit(&b)
            try Data(b).write(to: URL(fileURLWithPath: path))
        }
        let e = caught { _ = try TeacherFeaturesFile(path: path) }
        if let e { #expect(e.message.contains(path), "the message names the file: \(e.message)") }
        return e
    }

    /// The `LeaderError` `body` throws, or nil.
    static func caught(_ body: () throws -> Void) -> LeaderError? {
        do { try body() } catch { return error as? LeaderError }
        return nil
    }

    @Test func malformedFilesGiveTheRightError() throws {
        #expect(try Self.error("good") == nil)
        let bad = LeaderError.Kind.badFile, incompatible = LeaderError.Kind.incompatible
        let cases: [(String, LeaderError?, LeaderError.Kind, String)] = [
            ("truncated", try Self.error("truncated", edit: { $0.removeLast(9) }), bad, "truncated"),
            ("format", try Self.error("format", meta: ["format": "leader"]), bad, "'format'"),
            ("no format", try Self.error("noformat", meta: ["format": nil]), bad, "'format'"),
            ("version", try Self.error("version", meta: ["format_version": "2"]), incompatible, "'format_version'"),
            ("dtype", try Self.error("dtype", hidden: SafetensorsTensor(name: "hidden", dtype: .f64, shape: [3, 4],
                                                                      bytes: [UInt8](repeating: 0, count: 96))),
             bad, "dtype F64"),
            ("shape 1-D", try Self.error("shape1", hidden: SafetensorsTensor(name: "hidden", shape: [12], floats: Self.goodHidden)),
             bad, "tensor 'hidden' has shape [12]"),
            ("rows", try Self.error("rows", logits: SafetensorsTensor(name: "logits", shape: [2, 3], floats: Self.goodLogits)),
             bad, "'logits' has 2 rows"),
            ("hidden_size", try Self.error("hs", meta: ["hidden_size": "5"]), bad, "'hidden_size'"),
            ("hidden_size text", try Self.error("hs2", meta: ["hidden_size": "four"]), bad, "'hidden_size'"),
            ("ids count", try Self.error("ids", meta: ["sample_ids": #"["1:10","2:20"]"#]), bad, "'sample_ids' has 2 entries"),
            ("ids json", try Self.error("idsjson", meta: ["sample_ids": "1:10,2:20,3:30"]), bad, "'sample_ids' is not a JSON"),
            ("ids missing", try Self.error("idsmissing", meta: ["sample_ids": nil]), bad, "'sample_ids' is missing"),
            ("duplicate", try Self.error("dup", meta: ["sample_ids": #"["1:10","2:20","1:10"]"#]), bad, "'1:10' twice"),
            ("empty id", try Self.error("emptyid", meta: ["sample_ids": #"["1:10","","3:30"]"#]), bad, "entry 1 is empty"),
            ("medications", try Self.error("meds", meta: ["medications": #"["A"]"#]), bad, "'medications' has 1"),
            ("nan", try Self.error("nan", hidden: SafetensorsTensor(name: "hidden", shape: [3, 4],
                                                                  floats: Self.goodHidden.enumerated().map { $0.offset == 6 ? .nan : $0.element })),
             bad, "tensor 'hidden' row 1 (sample '2:20') holds a non-finite"),
            ("inf", try Self.error("inf", logits: SafetensorsTensor(name: "logits", shape: [3, 2], floats: [1, 2, 3, 4, 5, .infinity])),
             bad, "tensor 'logits' row 2 (sample '3:30')"),
            ("extra tensor", try Self.error("extra", extra: [SafetensorsTensor(name: "attn", shape: [1], floats: [0])]),
             bad, "unexpected tensor 'attn'"),
            ("no rows", try Self.error("norows", meta: ["sample_ids": "[]"],
                                       hidden: SafetensorsTensor(name: "hidden", shape: [0, 4], floats: []),
                                       logits: SafetensorsTensor(name: "logits", shape: [0, 2], floats: [])),
             bad, "no rows"),
        ]
        for (what, e, status, text) in cases {
            guard let e else { Issue.record("\(what): no error"); continue }
            #expect(e.kind == status, "\(what): \(e)")
            #expect(e.message.contains(text), "\(what): '\(e.message)' should contain '\(text)'")
        }
        // a missing logits tensor (hidden alone) is named
        let path = tempPath("features-nologits.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafetensorsWriter.write([SafetensorsTensor(name: "hidden", shape: [3, 4], floats: Self.goodHidden)],
                                    metadata: Self.goodMeta, to: path)
        #expect(throws: LeaderError.badFile("\(path): tensor 'logits' is missing")) { _ = try TeacherFeaturesFile(path: path) }
        // the writer refuses duplicate ids
        expectError(.invalidArgument, "teacher features: duplicate sample ids") {
            try TeacherFeaturesFile.write(ids: ["a", "a"], hidden: [1, 2], hiddenSize: 1, logits: [], medications: [],
                                          dataFingerprint: "", metadata: [:], to: path)
        }
    }

    // MARK: the Python exporter

    struct PythonExpected: Decodable {
        var sample_ids: [String], data_fingerprint: String, medications: [String]
        var hidden_shape: [Int], logits_shape: [Int], hidden_row0: [Float], logits_row0: [Float]
        var hidden_row_sums: [Double], logits_row_sums: [Double]
    }

    /// `Fixtures/teacher/hf_features.safetensors` was written by bindings/python/tools/export_hf_teacher.py
    /// (tools/make_hf_features_fixture.py) on the tiny HF LLaMA with a medication head.
    @Test func readsAFileWrittenByThePythonExporter() throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/teacher/hf_features", withExtension: "safetensors"))
        let jurl = try #require(Bundle.module.url(forResource: "Fixtures/teacher/hf_features", withExtension: "json"))
        let exp = try JSONDecoder().decode(PythonExpected.self, from: Data(contentsOf: jurl))
        let f = try TeacherFeaturesFile(path: url.path)
        #expect(f.sampleIDs == exp.sample_ids && f.medications == exp.medications)
        #expect([f.count, f.hiddenSize] == exp.hidden_shape && [f.count, f.medications.count] == exp.logits_shape)
        #expect(Array(f.hidden.prefix(f.hiddenSize)) == exp.hidden_row0, "float32 values are read exactly")
        #expect(Array(f.logits.prefix(f.medications.count)) == exp.logits_row0)
        for r in 0..<f.count {
            let hs = f.hidden[(r * f.hiddenSize)..<((r + 1) * f.hiddenSize)].reduce(0.0) { $0 + Double($1) }
            let ls = f.logits[(r * f.medications.count)..<((r + 1) * f.medications.count)].reduce(0.0) { $0 + Double($1) }
            #expect(abs(hs - exp.hidden_row_sums[r]) < 1e-4 && abs(ls - exp.logits_row_sums[r]) < 1e-4)
        }
        #expect(f.metadata["pooling"] == "last prompt token (EOS), final norm" && f.metadata["split"] == "all")
        #expect(try f.checkDataFingerprint(exp.data_fingerprint, dataName: "data"))
        expectError(.incompatible, "hf_features.safetensors: exported from the dataset 'crc32:0badf00d/patients:6/samples:6', but d is 'crc32:00000000/patients:6/samples:6' (re-export the teacher features for this dataset)") { _ = try f.checkDataFingerprint("crc32:00000000/patients:6/samples:6", dataName: "d") }
        // the training samples of a dataset are a subset: the others are counted, not used
        let train = [exp.sample_ids[3], exp.sample_ids[0]]
        let j = try f.features(for: train, target: .hidden)
        #expect(j.matched == 2 && j.extra == f.count - 2 && j.features.dim == f.hiddenSize)
        #expect(Array(j.features.values.suffix(f.hiddenSize)) == exp.hidden_row0)
        #expect(try f.features(for: train, target: .logits).features.dim == exp.medications.count)
    }

    /// The exporter's numbers are not only read back: our own decoder, run on the same prompts with the same
    /// token rule (the last max_tokens − 1 = 23 tokens + EOS) and the same head, computes the hidden states and
    /// logits the exporter took from transformers — an independent check of the exporter and of our decoder.
    @Test func ourDecoderComputesWhatTheExporterWrote() throws {
        // tools/make_hf_features_fixture.py: PROMPTS (texts in order) and --max-tokens 24
        let texts = [
            "The patient has 1 times ICU visits. In this visit, he has diagnosis: Hypertension NOS.",
            "The patient has 2 times ICU visits. In this visit, she has diagnosis: Atrial fibrillation; "
                + "procedures: Venous catheterization.",
            "In this visit, he has diagnosis: Acute kidney failure.",
            "The patient was prescribed aspirin & metformin <daily> \"as needed\".",
            "Diagnosis: type 2 diabetes mellitus. Then, the patient should be prescribed: ",
            "x",
        ]
        let f = try TeacherFeaturesFile(path: TeacherFixtures.path("teacher/hf_features.safetensors"))
        #expect(f.count == texts.count && f.metadata["max_tokens"] == "24")
        let file = try LlamaModelFile(huggingFaceFolder: TeacherFixtures.path("tiny_llama"))
        let tok = try #require(file.tokenizer)
        let eos = try #require(tok.eosID)
        let teacher = try TeacherModel(decoder: try LlamaDecoder(file), medications: f.medications.count)
        let head = try SafetensorsFile(path: TeacherFixtures.path("teacher/lora_tiny.safetensors")).tensor("cls_head.weight")
        try teacher.decoder.adapters.load("cls_head.weight", values: TestDequant.values(head), shape: head.shape)
        let batch = try TeacherBatch(sequences: texts.map { Array(tok.encode($0).suffix(23)) + [eos] })
        let (hidden, logits) = try teacher.forward(batch, try Context(threads: 1, training: false))
        let d = f.hiddenSize, m = f.medications.count
        let h = hidden.toArray(), l = logits.toArray()
        for r in 0..<f.count {
            let wantH = Array(f.hidden[(r * d)..<((r + 1) * d)]), wantL = Array(f.logits[(r * m)..<((r + 1) * m)])
            Closeness.scaled(to: wantH, atol: 1e-5, rtol: 1e-4).expect(Array(h[(r * d)..<((r + 1) * d)]), wantH,
                                                                      "hidden of prompt \(r)")
            Closeness.scaled(to: wantL, atol: 1e-5, rtol: 1e-4).expect(Array(l[(r * m)..<((r + 1) * m)]), wantL,
                                                                      "logits of prompt \(r)")
        }
    }
}

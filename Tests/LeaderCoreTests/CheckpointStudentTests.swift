import Foundation
import Testing
@testable import LeaderCore

func tinyConfig() -> StudentConfig {
    var c = StudentConfig()
    c.hidden = 8; c.heads = 2; c.ffnHidden = 12; c.headHidden = 10; c.batchSize = 4; c.evalBatchSize = 5
    c.seed = 5; c.learningRate = 5e-3
    return c
}

let tinySizes = StudentVocabularySizes(medications: 6, diagnoses: 7, procedures: 5, profileCardinalities: [3, 2])

func tinyCheckpoint(_ model: StudentModel) throws -> StudentCheckpoint {
    let v = CheckpointVocabularies(
        medications: try Vocabulary(kind: .medication, keys: (0..<6).map { "M\($0)" }, titles: (0..<6).map { "med \($0)" }),
        diagnoses: try Vocabulary(kind: .diagnosis, keys: (0..<7).map { "D\($0)" }, titles: (0..<7).map { "diag \($0)" }),
        procedures: try Vocabulary(kind: .procedure, keys: (0..<5).map { "P\($0)" }, titles: (0..<5).map { "proc \($0)" }))
    let profile = ProfileSchema(fields: [ProfileField(name: "insurance", values: ["unknown", "Medicare", "Private"]),
                                         ProfileField(name: "gender", values: ["unknown", "F"])])
    return try StudentCheckpoint(model: model, vocabularies: v, profile: profile,
                                 thresholds: CheckpointThresholds(configured: 0.3, bestValidationJaccard: 0.35),
                                 provenance: CheckpointProvenance(dataFingerprint: "crc32:00000000/patients:0/samples:0",
                                                                  source: "test", epochs: 1, bestEpoch: 1,
                                                                  bestValidationPRAUC: 0.5))
}

func tempPath(_ name: String) -> String { NSTemporaryDirectory() + "leader-\(getpid())-\(name)" }

@Suite struct CheckpointStudentTests {
    @Test func roundTrip() throws {
        let model = try StudentModel(config: tinyConfig(), sizes: tinySizes)
        let ck = try tinyCheckpoint(model)
        let path = tempPath("rt.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ck.write(to: path)
        let back = try StudentCheckpoint.read(path)
        #expect(back.config == ck.config && back.vocabularies == ck.vocabularies && back.profile == ck.profile)
        #expect(back.thresholds == ck.thresholds && back.provenance == ck.provenance)
        #expect(back.tensors.map(\.name) == ck.tensors.map(\.name))
        for (a, b) in zip(back.tensors, ck.tensors) { #expect(a.values == b.values && a.shape == b.shape) }
        let m2 = try back.makeModel()
        #expect(m2.store.flatValues.toArray() == model.store.flatValues.toArray())
        let meta = try SafetensorsFile(path: path).metadata
        #expect(meta["format"] == "leader" && meta["format_version"] == "1" && meta["kind"] == "student")
    }

    /// Python's `safetensors` reads every tensor of a checkpoint we write with our names, shapes and values.
    @Test func readByPythonSafetensors() throws {
        let model = try StudentModel(config: tinyConfig(), sizes: tinySizes)
        let path = tempPath("py.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let ck = try tinyCheckpoint(model)
        try ck.write(to: path)
        let script = """
            import json, sys
            from safetensors import safe_open
            with safe_open(sys.argv[1], framework="numpy") as f:
                m = f.metadata()
                assert m["format"] == "leader" and m["kind"] == "student" and m["format_version"] == "1"
                json.loads(m["config"]); json.loads(m["vocabularies"])
                print(json.dumps({k: {"shape": list(f.get_tensor(k).shape),
                                      "values": f.get_tensor(k).astype("float64").reshape(-1).tolist()} for k in f.keys()}))
            """
        let proc = Process()
        proc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        proc.arguments = ["python3", "-c", script, path]
        let pipe = Pipe()
        proc.standardOutput = pipe
        try proc.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        proc.waitUntilExit()
        try #require(proc.terminationStatus == 0, "python3 with the safetensors package must read the checkpoint")
        struct Read: Decodable { let shape: [Int]; let values: [Double] }
        let read = try JSONDecoder().decode([String: Read].self, from: out)
        #expect(Set(read.keys) == Set(ck.tensors.map(\.name)))
        for t in ck.tensors {
            let r = try #require(read[t.name], "\(t.name) missing in Python")
            #expect(r.shape == t.shape, "\(t.name) shape")
            #expect(r.values == t.values.map(Double.init), "\(t.name) values")   // float32 → float64 is exact
        }
    }

    /// tools/make_checkpoint_fixture.py: torch weights saved by Python's `safetensors`, every value and the
    /// logits of torch's forward on the parity patients.
    struct PythonExpected: Decodable {
        struct T: Decodable { let shape: [Int]; let values: [Float] }
        let tensors: [String: T]
        let patients: [StudentParityFixture.Patient]
        let logits: [Double]
    }

    @Test func readsPythonWrittenCheckpoint() throws {
        let url = try #require(Bundle.module.url(forResource: "python_student", withExtension: "safetensors",
                                                 subdirectory: "Fixtures"))
        let expectedURL = try #require(Bundle.module.url(forResource: "python_student_expected", withExtension: "json",
                                                         subdirectory: "Fixtures"))
        let expected = try JSONDecoder().decode(PythonExpected.self, from: Data(contentsOf: expectedURL))
        let ck = try StudentCheckpoint.read(url.path)
        #expect(ck.vocabularies.medications.keys.count == 7 && ck.profile.fields.count == 2)
        #expect(ck.thresholds.bestValidationJaccard == 0.25)
        #expect(Set(ck.tensors.map(\.name)) == Set(expected.tensors.keys))
        for t in ck.tensors {
            let want = try #require(expected.tensors[t.name])
            #expect(t.shape == want.shape, "\(t.name) shape")
            #expect(t.values == want.values, "\(t.name): values differ from torch's, in place")
        }
        // The model the checkpoint makes computes torch's logits (float32 here, float64 there).
        let model = try ck.makeModel()
        let examples = expected.patients.map {
            StudentExample(diagnoses: $0.diagnoses, procedures: $0.procedures, medications: $0.medications,
                           profile: $0.profile, targetMedications: $0.target)
        }
        let ctx = try Context(threads: 1, training: false)
        let logits = try model.forward(try model.pack(examples, forTraining: false), ctx).toArray()
        StudentParityTests.logitBound.expect(logits, expected.logits, "logits of the Python-written checkpoint")
    }

    /// Rewrites the metadata of a valid checkpoint and expects `read` to fail with `kind` and `message`.
    func expectFailure(_ mutate: ([String: String]) -> [String: String], _ kind: LeaderError.Kind, _ message: String,
                       dropTensor: String? = nil, extraTensor: Bool = false,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let model = try StudentModel(config: tinyConfig(), sizes: tinySizes)
        let ck = try tinyCheckpoint(model)
        let meta = mutate(try ck.metadata())
        var tensors = ck.tensors.filter { $0.name != dropTensor }.map {
            SafetensorsTensor(name: $0.name, shape: $0.shape, floats: $0.values)
        }
        if extraTensor { tensors.append(SafetensorsTensor(name: "surprise", shape: [1], floats: [0])) }
        let path = tempPath("bad-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafetensorsWriter.write(tensors, metadata: meta, to: path)
        let e = expectError(kind, message, sourceLocation: sourceLocation) { try StudentCheckpoint.read(path) }
        #expect(e?.message.hasPrefix(path) == true, "the message names the file", sourceLocation: sourceLocation)
    }

    @Test func malformedMetadata() throws {
        try expectFailure({ var m = $0; m["format_version"] = "2"; return m }, .incompatible, "checkpoint format_version '2' (this library reads '1')")
        try expectFailure({ var m = $0; m["kind"] = "teacher"; return m }, .incompatible, "checkpoint kind 'teacher', expected 'student'")
        try expectFailure({ var m = $0; m["vocabularies"] = nil; return m }, .badFile, "metadata key 'vocabularies' is missing")
        try expectFailure({ var m = $0; m["format"] = "other"; return m }, .badFile, "metadata format is not 'leader'")
        try expectFailure({ var m = $0; m["config"] = "{\"hidden\": 8, \"typo\": 1}"; return m }, .badFile, "metadata 'config': student config: unknown key 'typo'")
        try expectFailure({ var m = $0; m["vocabularies"] = "{\"medications\": {\"keys\": [], \"titles\": []}}"; return m }, .badFile, "metadata 'vocabularies': missing key 'diagnoses'")
        try expectFailure({ var m = $0; m["profile"] = "[1,2"; return m }, .badFile, "metadata 'profile': invalid JSON")
        try expectFailure({ $0 }, .badFile, "config and vocabularies need 2836 parameters, the file holds 2596", dropTensor: "head.fc1.weight")
        // a huge declared model with small tensors is rejected before anything is allocated
        try expectFailure({ var m = $0; m["config"] = "{\"hidden\": 4096, \"heads\": 4, \"teacherDim\": 65536}"; return m },
                          .badFile, "config and vocabularies need 355620918 parameters, the file holds 2836")
        try expectFailure({ $0 }, .badFile, "unexpected tensor 'surprise'", extraTensor: true)
        // keys and titles that disagree; vocabulary sizes that disagree with the tensor shapes
        try expectFailure({ var m = $0; m["vocabularies"] = m["vocabularies"]?.replacingOccurrences(of: ",\"M5\"", with: ""); return m },
                          .badFile, "vocabulary 'medications' has 5 keys and 6 titles")
        try expectFailure({ var m = $0
                            m["vocabularies"] = m["vocabularies"]?.replacingOccurrences(of: ",\"M5\"", with: "")
                                .replacingOccurrences(of: ",\"med 5\"", with: "")
                            return m }, .badFile, "tensor 'embedding.weight' has shape [21, 8], expected [20, 8]")
        // a key twice: ids would be ambiguous
        try expectFailure({ var m = $0; m["vocabularies"] = m["vocabularies"]?.replacingOccurrences(of: "\"M5\"", with: "\"M4\""); return m },
                          .badFile, "vocabulary 'medication': duplicate key at index 5")
    }

    @Test func truncatedFileIsBadFile() throws {
        let model = try StudentModel(config: tinyConfig(), sizes: tinySizes)
        let path = tempPath("trunc.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try tinyCheckpoint(model).write(to: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count - 10).write(to: URL(fileURLWithPath: path))
        expectError(.badFile, "trunc.safetensors: tensors need 11344 data bytes but the file has 11334 (truncated?)") { _ = try StudentCheckpoint.read(path) }
    }
}

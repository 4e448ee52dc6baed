import Foundation
import Testing
@testable import LeaderCore

/// A fresh folder for one test.
private func scratchFolder(_ name: String) throws -> String {
    let dir = tempPath("jobs-\(name)")
    try? FileManager.default.removeItem(atPath: dir)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

@Suite struct JobTests {
    @Test func parseRejectsWhatIsNotAJob() throws {
        let bad: [(json: String, message: String)] = [
            ("", "trainer config: invalid JSON"),
            ("[1]", "trainer config: wrong type at ''"),
            ("{}", #"trainer config: missing "task" (one of prepare, student, evaluate, teacher-train, teacher-export, pipeline)"#),
            (#"{"task": "fly"}"#, "trainer config: unknown task 'fly' (one of prepare, student, evaluate, teacher-train, teacher-export, pipeline)"),
            (#"{"task": "student"}"#, "student job: missing key 'data'"),
            (#"{"task": "student", "data": "a", "out": "b", "epochs": 3}"#, "student job: unknown key 'epochs'"),
            (#"{"task": "student", "data": "a", "out": "b", "config": {"epoch": 3}}"#, "student config: unknown key 'epoch'"),
            (#"{"task": "prepare", "source": "mimic3", "input": "a", "out": "b", "config": {"topMeds": 3}}"#, "config: unknown key 'topMeds'"),
            (#"{"task": "evaluate", "data": 1}"#, "evaluate job: wrong type at 'data'"),
            (#"{"task": "teacher-train", "data": "a", "out": "b", "config": {"lora": {"rank": 8, "r": 1}}}"#, "LoRA config: unknown key 'r'"),
            // values out of range are caught when the job is made, before any file is read
            (#"{"task": "student", "data": "a", "out": "b", "config": {"epochs": -1}}"#, "student config: epochs = -1 (0...100000)"),
            (#"{"task": "student", "data": "a", "out": "b", "threads": -2}"#, "student job: threads must be 0 or 1...1024, got -2"),
            (#"{"task": "evaluate", "data": "a", "baseline": "magic"}"#, "evaluate job: baseline 'magic' (expected frequency or copy-previous)"),
            (#"{"task": "evaluate", "data": "a", "checkpoint": "c", "threshold": 2}"#, "evaluate job: threshold 2.0 (expected 0...1)"),
            (#"{"task": "prepare", "source": "synthetic", "out": "b", "patients": 0}"#, "synthetic cohort: patients must be in 1...10000000 (got 0)"),
            (#"{"task": "prepare", "source": "fhir", "input": "a", "out": "b"}"#, "prepare job: source 'fhir' (expected mimic3, mimic4, omop or synthetic)"),
            (#"{"task": "teacher-train", "data": "a", "out": "b", "config": {"batch_size": 0}}"#, "epochs, batch size and gradient accumulation must be >= 1"),
            (#"{"task": "teacher-export", "data": "a", "teacher": "t", "out": "b", "split": "later"}"#, "split 'later' (expected train, validation, test or all)"),
        ]
        for (json, message) in bad {
            expectError(.invalidArgument, message) { try Job.parse(json: json) }
        }
        guard case .prepare(let p) = try Job.parse(json: #"{"task": "prepare", "source": "mimic4", "input": "a", "out": "b"}"#)
        else { Issue.record("not a prepare job"); return }
        #expect(p.config.topProcedures == 1000)   // the source's defaults under the given keys
        guard case .student(let s) = try Job.parse(json: #"{"task": "student", "data": "a", "out": "b", "config": {"epochs": 3}}"#)
        else { Issue.record("not a student job"); return }
        #expect(s.config.epochs == 3 && s.statePath == nil && s.threads == 0)
    }

    /// prepare (synthetic) → student → evaluate through jobs; a cancelled student job leaves no file; a
    /// synthetic preparation leaves no scratch folder.
    @Test func pipelineAndCancellation() throws {
        let dir = try scratchFolder("pipeline")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var stages: [String] = []
        let prep = try PrepareJob(source: "synthetic", input: nil, maps: nil, out: dir + "/c.ldata",
                                  config: PrepareConfig(), patients: 300, seed: 3).run { stages.append($0.stage); return true }
        #expect(prep.statistics.patients > 200 && stages.first == "synthesise" && stages.last == "write")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["c.ldata"])

        var cfg = StudentConfig()
        cfg.epochs = 2
        cfg.hidden = 16
        cfg.ffnHidden = 32
        let job = StudentJob(data: dir + "/c.ldata", out: dir + "/s.safetensors", config: cfg, threads: 1)
        var steps = 0
        expectError(.cancelled, "student: cancelled by the progress callback at step") { _ = try job.run { ev in steps += 1; return ev.stage != "step" } }
        do { _ = try job.run { $0.stage != "epoch" } } catch { #expect(error.kind == .cancelled) }
        #expect(!FileManager.default.fileExists(atPath: dir + "/s.safetensors"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["c.ldata"])

        var epochs: [Int] = []
        let r = try job.run { ev in if ev.stage == "epoch" { epochs.append(ev.done) }; return true }
        #expect(epochs == [1, 2] && r.epochs == 2 && r.history.count == 2)
        #expect(FileManager.default.fileExists(atPath: r.checkpoint))

        let student = try EvaluateJob(data: dir + "/c.ldata", checkpoint: r.checkpoint, threads: 2).run()
        #expect(student.reports.first?.recommender == "student")
        #expect(student.reports.first?.threshold == 0.3)
        // the shipped DDI pairs are used by default (found beside the build folder), "" turns them off
        #expect(student.ddiFile?.hasSuffix(ProjectFiles.ddiPairs) == true && (student.ddiPairs ?? 0) > 0)
        #expect(student.reports.first?.all.ddi != nil)
        // with the DDI filter: one more report per threshold, with no more interacting pairs than without it
        let safe = try EvaluateJob(data: dir + "/c.ldata", checkpoint: r.checkpoint, threads: 1, ddiFilter: true).run()
        let plain = try #require(safe.reports.first { $0.recommender == "student" })
        let filtered = try #require(safe.reports.first { $0.recommender == "student (DDI filter)" })
        #expect((filtered.all.ddi?.mean ?? 1) <= (plain.all.ddi?.mean ?? 0))
        expectError(.invalidArgument, "evaluate job: ddiFilter needs DDI pairs (\"ddi\")") {
            _ = try EvaluateJob(data: dir + "/c.ldata", checkpoint: r.checkpoint, ddi: "", ddiFilter: true).run()
        }
        let freq = try EvaluateJob(data: dir + "/c.ldata", baseline: "frequency", ddi: "", threshold: 0.25).run()
        #expect(freq.ddiFile == nil && freq.reports.first?.all.ddi == nil)
        #expect(freq.reports.first?.recommender == "frequency" && freq.reports.first?.threshold == 0.25)
        expectError(.invalidArgument, "evaluate job: give exactly one of \"checkpoint\", \"baseline\" and \"scores\"") { _ = try EvaluateJob(data: dir + "/c.ldata").run() }
        expectError(.invalidArgument, "evaluate job: baseline 'magic' (expected frequency or copy-previous)") { _ = try EvaluateJob(data: dir + "/c.ldata", baseline: "magic").run() }
        // the JSON result of the trainer
        let json = try Job.parse(json: #"{"task": "evaluate", "data": "\#(dir)/c.ldata", "baseline": "copy-previous"}"#).run()
        let obj = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        #expect((obj?["reports"] as? [Any])?.isEmpty == false)
    }
}

/// The default teacher is found from any working directory: $LEADER_MODEL, ./models, the project's models/
/// beside the build folder, the per-user cache; a given path wins; nothing found is an error naming the places.
@Suite(.serialized) struct TeacherModelSearchTests {
    @Test func searchOrder() throws {
        setenv("LEADER_MODEL", "/somewhere/teacher.gguf", 1)
        setenv("XDG_CACHE_HOME", "/nonexistent-cache", 1)
        defer { unsetenv("LEADER_MODEL"); unsetenv("XDG_CACHE_HOME") }
        let c = TeacherSetup.defaultModelCandidates()
        #expect(c.first == "/somewhere/teacher.gguf")
        #expect(c[1] == "models/" + TeacherSetup.defaultModelName)
        #expect(c.last == "/nonexistent-cache/leader/models/" + TeacherSetup.defaultModelName)
        // the test binary lives in <project>/.build/<triple>/debug: the project's models/ is a candidate
        let project = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        #expect(c.contains(project + "/models/" + TeacherSetup.defaultModelName), "\(c)")
        #expect(try TeacherSetup.resolveModel("given.gguf") == "given.gguf")
        let found = tempPath("model-search.gguf")
        _ = FileManager.default.createFile(atPath: found, contents: Data([1]))
        defer { unlink(found) }
        #expect(try TeacherSetup.resolveModel(nil, candidates: ["/nonexistent/a.gguf", found, "models/x"]) == found)
        do {
            _ = try TeacherSetup.resolveModel(nil, candidates: ["/nonexistent/a.gguf", "/nonexistent/b.gguf"])
            Issue.record("no error")
        } catch {
            #expect(error.kind == .io && error.message.contains("/nonexistent/b.gguf") && error.message.contains("make model"))
        }
    }

    /// No patient identifier leaves the dataset: the sample ids (`subject:admission`) of the cohort appear
    /// nowhere in what a student job hands out — the checkpoint's metadata, the progress events (the host's log)
    /// and the result JSON.
    @Test func noPatientIdentifiersInCheckpointMetadataEventsOrResults() throws {
        let dir = try scratchFolder("privacy")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try PrepareJob(source: "synthetic", input: nil, maps: nil, out: dir + "/c.ldata", config: PrepareConfig(),
                           patients: 120, seed: 9).run(progress: nil)
        let d = try LDataFile.read(dir + "/c.ldata")
        let ids = try d.samples.map { try d.sampleID($0) }
        #expect(ids.count > 100 && ids.allSatisfy { $0.contains(":") })
        var cfg = StudentConfig()
        cfg.epochs = 1
        cfg.hidden = 8
        cfg.heads = 2
        var events: [String] = []
        let r = try StudentJob(data: dir + "/c.ldata", out: dir + "/s.safetensors", config: cfg, threads: 1).run { ev in
            events.append(String(decoding: (try? JSONEncoder().encode(ev)) ?? Data(), as: UTF8.self))
            return true
        }
        let metadata = try SafetensorsFile(path: r.checkpoint).metadata.map { "\($0.key)=\($0.value)" }
        let result = String(decoding: try JSONEncoder().encode(r), as: UTF8.self)
        #expect(!metadata.isEmpty && !events.isEmpty)
        for text in metadata + events + [result] {
            let leaked = ids.filter { text.contains($0) }
            #expect(leaked.isEmpty, "sample ids \(leaked.prefix(3)) in: \(text.prefix(120))")
        }
    }
}

import Foundation
import Testing
@testable import LeaderCore

/// `PipelineJob`: strict config, the whole method on a small synthetic cohort with the tiny Llama fixture as
/// teacher, resume (reuse, invalidation by a changed setting or a missing output), the report's numbers.
@Suite(.serialized) struct PipelineTests {
    static let tinyTeacher = TeacherFixtures.path("tiny_llama")

    func config(_ out: String, extra: String = "") -> String {
        """
        {"out": "\(out)", "patients": 200, "seed": 4, "seeds": [1, 2], "threads": 1,
         "teacher": {"model": "\(Self.tinyTeacher)", "precision": "fp32",
                     "config": {"epochs": 1, "max_tokens": 48, "lora": {"top_layers": 1}}},
         "student": {"hidden": 16, "heads": 2, "ffnHidden": 24, "headHidden": 16, "epochs": 2, "patience": 2}\(extra)}
        """
    }

    @Test func configIsStrictAndKeepsThePipelineDefaults() throws {
        let c = try PipelineConfig.parse(json: #"{"out": "o", "student": {"epochs": 3}, "teacher": {"config": {"epochs": 2}}}"#)
        #expect(c.student.epochs == 3 && c.student.distillTarget == PipelineConfig.defaultStudent.distillTarget)
        #expect(c.student.alpha == PipelineConfig.defaultStudent.alpha)
        #expect(c.teacher?.config.epochs == 2 && c.teacher?.config.lora.topLayers == PipelineConfig.defaultTeacher.lora.topLayers)
        #expect(c.seeds == [1, 2, 3] && c.source == "synthetic" && c.ddiFilter)
        #expect(try PipelineConfig.parse(json: #"{"out": "o", "teacher": null}"#).teacher == nil)
        #expect(PipelineJob(config: try PipelineConfig.parse(json: #"{"out": "o", "teacher": null}"#)).variants == [.plain])
        let withPenalty = PipelineJob(config: try PipelineConfig.parse(json: #"{"out": "o", "ddiPenalty": 0.5}"#))
        #expect(withPenalty.variants == [.plain, .distilled, .distilledNoAlign, .distilledNoProfile, .ddiPenalty])
        #expect(withPenalty.studentConfig(.ddiPenalty, seed: 2).ddiWeight == 0.5 && withPenalty.studentConfig(.distilled, seed: 2).ddiWeight == 0)
        #expect(withPenalty.studentConfig(.plain, seed: 2).alpha == 0 && withPenalty.studentConfig(.ddiPenalty, seed: 2).alpha > 0)
        let bad = [
            #"{}"#, #"{"out": "o", "seeds": []}"#, #"{"out": "o", "seeds": [1, 1]}"#, #"{"out": "o", "sede": 1}"#,
            #"{"out": "o", "student": {"alpah": 1}}"#, #"{"out": "o", "teacher": {"modle": "x"}}"#,
            #"{"out": "o", "teacher": {"config": {"lr": 1}}}"#, #"{"out": "o", "source": "mimic3"}"#,
            #"{"out": "o", "teacher": {"precision": "int4"}}"#, #"{"out": "o", "fraction": 0}"#,
            #"{"out": "o", "prepare": {"topMeds": 1}}"#, #"{"out": "o", "student": {"distillTarget": "soft", "teacherDim": 4}}"#,
        ]
        for json in bad {
            do { _ = try PipelineConfig.parse(json: json); Issue.record("accepted \(json)") } catch {
                #expect(error.kind == .invalidArgument, "\(json): \(error)")
            }
        }
        // the trainer task
        guard case .pipeline(let j) = try Job.parse(json: #"{"task": "pipeline", "out": "o", "seeds": [5]}"#) else {
            Issue.record("not a pipeline job"); return
        }
        #expect(j.config.seeds == [5])
    }

    @Test func wholeMethodResumesAndReports() throws {
        let out = tempPath("pipeline-e2e")
        try? FileManager.default.removeItem(atPath: out)
        defer { try? FileManager.default.removeItem(atPath: out) }
        func run(_ json: String) throws -> (PipelineJob.Result, [String]) {
            var stages: [String] = []
            let r = try PipelineJob(config: try PipelineConfig.parse(json: json)).run { ev in
                #expect(ev.task == "pipeline" && ev.values["elapsed"] != nil)
                if !stages.contains(ev.stage) { stages.append(ev.stage) }
                return true
            }
            return (r, stages)
        }
        let (first, stages) = try run(config(out))
        let students: [String] = [1, 2].flatMap { (s: Int) -> [String] in
            ["plain", "distilled", "distilled-no-align", "distilled-no-profile"].map { "student-\($0)-seed\(s)" } }
        let names = ["prepare", "teacher-train"] + students + ["report"]
        #expect(first.steps.map(\.name) == names && first.steps.allSatisfy { !$0.reused })
        #expect(stages.contains("teacher-train/step") && stages.contains("student-distilled-seed1/epoch"))
        let systems = first.summary.systems.map(\.name)
        #expect(systems == ["teacher (LLM + LoRA)", "student (no KD)", "LEADER(S): student + KD",
                            "LEADER(S): student + KD + DDI filter", "student + KD, β = 0",
                            "student + KD, no profile (prompt off, β = 0)", "frequency baseline",
                            "copy-previous baseline"])
        for s in first.summary.systems {
            let all = try #require(s.groups["all"])
            #expect(all.patients == first.summary.statistics.samples["test"])
            #expect(all.jaccard.mean > 0 && all.jaccard.mean <= 1 && all.prauc.mean > 0 && all.prauc.mean <= 1, "\(s.name)")
            #expect(s.groups["single-visit"] != nil && s.groups["multi-visit"] != nil && s.groups["rare-code"] != nil)
            #expect(s.seeds == (s.kind == "student" ? 2 : 1))
        }
        #expect(first.summary.systems[3].groups["all"]?.ddi?.mean == 0)   // the filter leaves no interacting pair
        let md = try String(contentsOfFile: first.reportMarkdown, encoding: .utf8)
        #expect(md.contains(first.summary.table()) && md.contains("| teacher-train |"))
        for p in ["precision-recall.svg", "jaccard-by-visits.svg", "training-curves.svg"] {
            let svg = try String(contentsOfFile: out + "/plots/" + p, encoding: .utf8)
            #expect(svg.hasPrefix("<svg") || svg.hasPrefix("<?xml"), "\(p)")
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: first.report))) as? [String: Any]
        #expect((json?["systems"] as? [Any])?.count == 8)
        #expect(first.checkpoint == out + "/students/distilled-seed1.safetensors")

        // re-running reuses every step and gives the same report
        let (again, _) = try run(config(out))
        #expect(again.steps.dropLast().allSatisfy { $0.reused })
        #expect(try PipelineReport.json(again.summary.systems) == PipelineReport.json(first.summary.systems))

        // a changed student setting re-runs the students only; a missing output re-runs from its step on
        let (changed, _) = try run(config(out, extra: #", "rounds": 5"#).replacingOccurrences(of: "\"patience\": 2", with: "\"patience\": 1"))
        #expect(changed.steps.prefix(2).allSatisfy { $0.reused } && !changed.steps[2].reused)
        try FileManager.default.removeItem(atPath: out + "/teacher-features.safetensors")
        let (missing, _) = try run(config(out, extra: #", "rounds": 5"#).replacingOccurrences(of: "\"patience\": 2", with: "\"patience\": 1"))
        let rerun = missing.steps.filter { !$0.reused }.map(\.name)
        let distilled: [String] = [1, 2].flatMap { (s: Int) -> [String] in
            ["distilled", "distilled-no-align", "distilled-no-profile"].map { "student-\($0)-seed\(s)" } }
        #expect(rerun == ["teacher-train"] + distilled + ["report"])
        // a KD setting leaves the students without KD alone
        let (kd, _) = try run(config(out, extra: #", "rounds": 5"#).replacingOccurrences(of: "\"patience\": 2", with: "\"patience\": 1, \"alpha\": 0.25"))
        #expect(kd.steps.filter { !$0.reused }.map(\.name) == distilled + ["report"])
    }

    /// A trained teacher or a features file from elsewhere replaces the teacher steps.
    @Test func givenTeacherOrFeaturesSkipTheTeacherSteps() throws {
        let out = tempPath("pipeline-given")
        try? FileManager.default.removeItem(atPath: out)
        defer { try? FileManager.default.removeItem(atPath: out) }
        let base = try PipelineJob(config: try PipelineConfig.parse(json: config(out + "/a").replacingOccurrences(
            of: "\"seeds\": [1, 2]", with: "\"seeds\": [1], \"ablations\": false"))).run()
        let common = #""data": "\#(out)/a/cohort.ldata", "seeds": [1], "ablations": false, "threads": 1, "student": {"hidden": 16, "heads": 2, "ffnHidden": 24, "headHidden": 16, "epochs": 1}"#
        let withCheckpoint = try PipelineJob(config: try PipelineConfig.parse(json: #"{"out": "\#(out)/b", \#(common), "teacher": {"model": "\#(Self.tinyTeacher)", "precision": "fp32", "checkpoint": "\#(out)/a/teacher.safetensors"}}"#)).run()
        #expect(withCheckpoint.steps.map(\.name) == ["teacher-export", "student-plain-seed1", "student-distilled-seed1", "report"])
        let withFeatures = try PipelineJob(config: try PipelineConfig.parse(json: #"{"out": "\#(out)/c", \#(common), "ddiPenalty": 0.5, "teacher": {"features": "\#(out)/a/teacher-features.safetensors"}}"#)).run()
        #expect(withFeatures.steps.map(\.name) == ["student-plain-seed1", "student-distilled-seed1", "student-ddi-penalty-seed1", "report"])
        #expect(withFeatures.summary.systems.contains { $0.name == "LEADER(S) + DDI penalty" })
        let teacherRow = { (r: PipelineJob.Result) in r.summary.systems.first { $0.kind == "teacher" }?.groups["all"]?.prauc.mean }
        #expect(teacherRow(withFeatures) != nil && teacherRow(withFeatures) == teacherRow(base))
        #expect(withCheckpoint.steps.map(\.name).first == "teacher-export")
        // training's export (lower layers from its F16 cache) against a full forward of the same checkpoint
        let cached = try TeacherFeaturesFile(path: out + "/a/teacher-features.safetensors")
        let full = try TeacherFeaturesFile(path: out + "/b/teacher-features.safetensors")
        #expect(cached.count == full.count && cached.count == ["train", "validation", "test"].reduce(0) { $0 + (base.summary.statistics.samples[$1] ?? 0) })
        let ids = try StudentDataset(path: out + "/a/cohort.ldata").sampleIDs(.train)
        let a = try cached.features(for: ids, target: .logits).features.values
        let b = try full.features(for: ids, target: .logits).features.values
        let scale = b.map(abs).max() ?? 0
        #expect(scale > 0 && zip(a, b).map { abs($0 - $1) }.max() ?? 1 < 1e-2 * scale)

        // A peer (scores from outside leader) is a row scored like the others: the teacher's own probabilities
        // given as a peer's file give the teacher's row; adding it re-runs the report only.
        let ds = try StudentDataset(path: out + "/a/cohort.ldata")
        let keys = ds.medicationKeys
        var lines = ""
        for part in [SplitPart.validation, .test] {
            let pids = try ds.sampleIDs(part)
            let lg = try cached.features(for: pids, target: .logits).features.values
            for (i, id) in pids.enumerated() {
                let row = keys.indices.map { "\"\(keys[$0])\": \(Double(1 / (1 + expf(-lg[i * keys.count + $0]))))" }
                lines += "{\"id\": \"\(id)\", \"scores\": {\(row.joined(separator: ", "))}}\n"
            }
        }
        try lines.write(toFile: out + "/peer.jsonl", atomically: true, encoding: .utf8)
        let withPeer = try PipelineJob(config: try PipelineConfig.parse(json: #"{"out": "\#(out)/c", \#(common), "ddiPenalty": 0.5, "teacher": {"features": "\#(out)/a/teacher-features.safetensors"}, "peers": {"teacher again": "\#(out)/peer.jsonl"}}"#)).run()
        #expect(withPeer.steps.filter { !$0.reused }.map(\.name) == ["report"])
        let peer = withPeer.summary.systems.first { $0.kind == "peer" }
        #expect(peer?.name == "teacher again")
        #expect(peer?.groups == withPeer.summary.systems.first { $0.kind == "teacher" }?.groups)
    }

    @Test func seedsPoolByTheLawOfTotalVariance() throws {
        func report(_ m: Double, _ s: Double, _ full: Double) -> EvaluationReport {
            let st = MeanStd(mean: m, std: s, full: full)
            let g = GroupReport(patients: 10, jaccard: st, f1: st, prauc: st, medications: st, ddi: nil)
            return EvaluationReport(recommender: "x", threshold: 0.3, rounds: 10, fraction: 0.8, all: g, singleVisit: g,
                                    multiVisit: g, rareCode: nil)
        }
        let s = try PipelineReport.aggregate("x", "student", [report(0.4, 0.03, 0.41), report(0.5, 0.04, 0.49)], [0.3, 0.3])
        let j = try #require(s.groups["all"]?.jaccard)
        #expect(abs(j.mean - 0.45) < 1e-12)
        #expect(abs(j.std - ((0.03 * 0.03 + 0.04 * 0.04) / 2 + 0.0025).squareRoot()) < 1e-12)
        #expect(abs(j.seedStd - (2 * 0.04 * 0.04).squareRoot()) < 1e-12)   // sample std of 0.41, 0.49
        #expect(s.groups["rare-code"] == nil && s.groups["all"]?.ddi == nil)
        expectError(.internalError, "pipeline report: no evaluation of x") { _ = try PipelineReport.aggregate("x", "student", [], []) }
    }

    @Test func rareCodeGroupCountsTrainingOccurrences() {
        func ex(_ d: [Int32], _ p: [Int32]) -> StudentExample {
            StudentExample(diagnoses: [[9], d], procedures: [[9], p], medications: [[0]], profile: [], targetMedications: [0])
        }
        let train = [ex([1, 2], [5]), ex([1], [5]), ex([1, 3], [5])]   // D1 ×3, D2 ×1, D3 ×1, P5 ×3 (D9 only in history)
        let test = [ex([1], [5]), ex([2], [5]), ex([1], [6]), ex([9], [5])]
        #expect(PipelineReport.rareCodeSamples(test, train: train, below: 2) == [1, 2, 3])
        #expect(PipelineReport.rareCodeSamples(test, train: train, below: 4) == [0, 1, 2, 3])
        #expect(PipelineReport.rareCodeSamples(test, train: train, below: 1) == [2, 3])
    }
}

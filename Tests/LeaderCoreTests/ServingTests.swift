import Foundation
import Testing
@testable import LeaderCore

/// A tiny student with perturbed weights (no zero biases or unit gains hiding a mistake) as a checkpoint.
private func servingCheckpoint(profile: Bool = true, seed: UInt64 = 11) throws -> (StudentModel, StudentCheckpoint) {
    var c = tinyConfig()
    c.profilePrompt = profile
    c.maxCodesPerVisit = 4
    c.maxVisits = 4
    let model = try StudentModel(config: c, sizes: tinySizes)
    let flat = model.store.flatValues
    var rng = SplitMix64(seed: seed)
    for i in 0..<flat.count { flat.pointer[i] += Float(Int(rng.next() % 2001) - 1000) * 3e-4 }
    return (model, try tinyCheckpoint(model))
}

/// Patients over the tiny vocabularies (D0-6, P0-4, M0-5), with unknown codes and profile entries mixed in.
private func patients(_ n: Int, seed: UInt64) -> [PatientCodes] {
    var rng = SplitMix64(seed: seed)
    func r(_ k: Int) -> Int { Int(rng.next() % UInt64(k)) }
    func set(_ prefix: String, _ vocab: Int) -> [String] {
        (0..<r(6)).map { _ in r(9) == 0 ? "\(prefix)X\(r(5))" : "\(prefix)\(r(vocab))" }
    }
    return (0..<n).map { _ in
        let v = 1 + r(6)
        var profile: [(String, String)] = []
        if r(2) == 0 { profile.append(("insurance", ["Medicare", "Private", "Other"][r(3)])) }
        if r(3) == 0 { profile.append(("gender", "F")) }
        if r(5) == 0 { profile.append(("color", "blue")) }
        return PatientCodes(diagnoses: (0..<v).map { _ in set("D", 7) }, procedures: (0..<v).map { _ in set("P", 5) },
                            medications: (0..<v).map { _ in set("M", 6) }, profile: profile)
    }
}

@Suite struct ServingTests {
    /// The shape table is what the training model registers, name for name and shape for shape, in order.
    @Test(arguments: [(true, 0, Float(0.005)), (false, 0, Float(0.005)), (true, 7, Float(0)), (false, 3, Float(0.1))])
    func shapeTableIsWhatTheModelRegisters(profile: Bool, teacherDim: Int, beta: Float) throws {
        var c = tinyConfig()
        c.profilePrompt = profile
        c.teacherDim = teacherDim
        c.beta = beta
        for sizes in [tinySizes, StudentVocabularySizes(medications: 4, diagnoses: 0, procedures: 3, profileCardinalities: [])] {
            let model = try StudentModel(config: c, sizes: sizes)
            let table = try StudentParameters.shapes(config: c, sizes: sizes)
            #expect(table.map(\.name) == model.store.parameters.map(\.name))
            #expect(table.map(\.shape) == model.store.parameters.map(\.shape))
            #expect(try StudentParameters.count(config: c, sizes: sizes) == model.store.parameterCount)
        }
        var bad = c
        bad.heads = 3
        expectError(.invalidArgument, "student config: heads = 3 (must divide hidden)") { _ = try StudentParameters.shapes(config: bad, sizes: tinySizes) }
    }

    /// Built from the checkpoint's tensors alone, the serving model scores bitwise like an engine built from
    /// the training model, for fp32 and bf16 sessions.
    @Test(arguments: [true, false])
    func servingModelScoresLikeTheTrainingModel(profile: Bool) throws {
        let (model, ck) = try servingCheckpoint(profile: profile)
        let path = tempPath("serving-\(profile).safetensors")
        defer { unlink(path) }
        try ck.write(to: path)
        let serving = try ServingModel(path: path)
        #expect(serving.checkpoint.tensors.isEmpty)
        var unknown: [Int] = []
        let s32 = try ServingSession(model: serving)
        let examples = try patients(25, seed: 2).map { try s32.example($0, unknown: &unknown) }
        for precision in [StudentPrecision.fp32, .bf16] {
            let want = try PackedStudent(model, precision: precision).predict(examples)
            let session = try ServingSession(model: serving, options: .init(precision: precision.rawValue))
            var got: [Float] = []
            for e in examples { got += try session.scores(e) }
            #expect(got.map(\.bitPattern) == want.map(\.bitPattern), "\(precision)")
        }
    }

    /// Strings and ids give the same example; unknown codes are skipped and reported by position in the
    /// documented numbering; order and repeats within a set do not matter; the history window keeps the most
    /// recent visits.
    @Test func encodingPositionsAndWindow() throws {
        let (_, ck) = try servingCheckpoint()
        let model = try ServingModel(checkpoint: ck)
        let session = try ServingSession(model: model, options: .init(historyVisits: 1))
        let p = PatientCodes(diagnoses: [["D0"], ["D1", "Dzz"], ["D3", "D2", "D3"]],
                             procedures: [["P0"], [], ["P1", "Pzz"]],
                             medications: [["M0"], ["Mzz", "M4"], ["M5"]],
                             profile: [("gender", "F"), ("insurance", "Nope"), ("color", "blue")])
        var unknown: [Int] = []
        let e = try session.example(p, unknown: &unknown)
        // positions: diagnoses 0-5, procedures 6-8, medications 9-12, profile 13-15; the first visit is outside
        // the window of 1 earlier visit and is neither used nor reported
        #expect(unknown == [2, 8, 10, 14, 15])
        #expect(e.diagnoses == [[1], [2, 3]])
        #expect(e.procedures == [[], [1]])
        #expect(e.medications == [[4]])   // the current visit's medications are ignored
        #expect(e.profile == [0, 1])
        let byID = try session.example(diagnoses: [[0], [1], [3, 2, 3]], procedures: [[0], [], [1]],
                                       medications: [[0], [4], [5]], labels: [0, 1])
        #expect(byID == e)
        let shuffled = PatientCodes(diagnoses: [["D0"], ["Dzz", "D1"], ["D2", "D3"]], procedures: p.procedures,
                                    medications: p.medications, profile: [("gender", "F")])
        var u2: [Int] = []
        #expect(try session.example(shuffled, unknown: &u2) == e)
        // bad shapes and ids are errors, not traps
        expectError(.invalidArgument, "patient: no visit (the current visit is the last one)") { _ = try session.example(PatientCodes(diagnoses: [], procedures: [], medications: [], profile: [] as [(String, String)]), unknown: &u2) }
        expectError(.invalidArgument, "patient: 1 diagnosis sets, 0 procedure sets and 0 medication sets (need one diagnosis and one procedure set per visit)") { _ = try session.example(PatientCodes(diagnoses: [["D0"]], procedures: [], medications: [], profile: [] as [(String, String)]), unknown: &u2) }
        expectError(.invalidArgument, "patient: diagnosis id 7 outside the vocabulary of 7") {
            _ = try session.example(diagnoses: [[7]], procedures: [[]], medications: [], labels: [])
        }
        expectError(.invalidArgument, "patient: profile label 2 of field 'gender' outside its 2 values") {
            _ = try session.example(diagnoses: [[0]], procedures: [[]], medications: [], labels: [0, 2])
        }
    }

    /// top-k / threshold selection: best first, ties by id, threshold inclusive; the default threshold is
    /// the checkpoint's.
    @Test func recommendSelection() throws {
        let (_, ck) = try servingCheckpoint()
        let session = try ServingSession(model: try ServingModel(checkpoint: ck))
        var unknown: [Int] = []
        let e = try session.example(patients(1, seed: 9)[0], unknown: &unknown)
        let scores = try session.scores(e)
        let all = try session.recommend(e, topK: 0, threshold: 0)
        #expect(all.count == 6)
        #expect(all.map(\.id).sorted() == Array(0..<6))
        for (a, b) in zip(all, all.dropFirst()) { #expect(a.score > b.score || (a.score == b.score && a.id < b.id)) }
        #expect(try session.recommend(e, topK: 2, threshold: 0).map(\.id) == Array(all.prefix(2).map(\.id)))
        let th = scores[Int(all[3].id)]
        #expect(try session.recommend(e, topK: 0, threshold: th).count == 4)
        #expect(try session.recommend(e).map(\.id) == all.filter { $0.score >= 0.3 }.map(\.id))
        expectError(.invalidArgument, "recommend: top_k -1 < 0") { _ = try session.recommend(e, topK: -1) }
        expectError(.invalidArgument, "recommend: threshold 1.5 (expected <= 1)") { _ = try session.recommend(e, threshold: 1.5) }
    }

    /// What a host is told is the model's forward: each recommended score is sigmoid(logit) of the training
    /// model's autodiff forward (the path checked against PyTorch) for that patient, within float rounding of
    /// the two code paths; the recommended set is exactly the scores at or above the threshold, best first; the
    /// JSON answer (`leader recommend`) carries the same codes, titles and scores.
    @Test func recommendationsAreTheModelsForwardThroughASigmoid() throws {
        let (model, ck) = try servingCheckpoint()
        let session = try ServingSession(model: try ServingModel(checkpoint: ck))
        var unknown: [Int] = []
        let examples = try patients(12, seed: 31).map { try session.example($0, unknown: &unknown) }
        let ctx = try Context(threads: 1, training: false)
        let logits = try model.forward(try model.pack(examples, forTraining: false), ctx).toArray()
        let m = tinySizes.medications
        var sawBoth = (above: false, below: false)
        for (row, e) in examples.enumerated() {
            let want = logits[(row * m)..<((row + 1) * m)].map { 1 / (1 + exp(-$0)) }
            let scores = try session.scores(e)
            Closeness(atol: 1e-6, rtol: 1e-5).expect(scores, want, "patient \(row): scores vs sigmoid(forward)")
            for th: Float in [0.3, 0.5] {
                let rec = try session.recommend(e, threshold: th)
                let expected = scores.indices.filter { scores[$0] >= th }
                    .sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
                #expect(rec.map { Int($0.id) } == expected, "patient \(row) at \(th)")
                #expect(rec.map(\.score) == expected.map { scores[$0] })
                sawBoth.above = sawBoth.above || !expected.isEmpty
                sawBoth.below = sawBoth.below || expected.count < m
            }
        }
        #expect(sawBoth.above && sawBoth.below, "the thresholds split the scores (otherwise the check is empty)")
        // the JSON answer: codes and titles of the vocabulary, the same scores, the rest below the threshold
        let record = PatientRecord(visits: [], current: PatientRecord.CurrentVisit(diagnoses: ["D1", "D4"], procedures: ["P2"]),
                                   profile: ["insurance": "Private"])
        let answer = try session.recommendation(record, threshold: 0.5, extra: 6)
        let e = try session.example(record.codes, unknown: &unknown)
        let scores = try session.scores(e)
        let v = ck.vocabularies.medications
        for item in answer.recommended + answer.others {
            let id = try #require(v.keys.firstIndex(of: item.code))
            #expect(item.title == v.titles[id] && item.score == scores[id])
        }
        #expect(answer.recommended.allSatisfy { $0.score >= 0.5 } && answer.others.allSatisfy { $0.score < 0.5 })
        #expect(answer.recommended.count + answer.others.count == m)
    }

    /// The patient JSON of `leader recommend` (no C entry point, so outside the libFuzzer targets): 3,000 seeded
    /// mutations of a valid record — bytes replaced, inserted or deleted, JSON punctuation favoured — each decode
    /// to a record that then recommends or is refused, or give an invalid-argument error; never a trap.
    @Test func mutatedPatientJSONNeverTraps() throws {
        let (_, ck) = try servingCheckpoint()
        let session = try ServingSession(model: try ServingModel(checkpoint: ck))
        let valid = Array(#"{"visits": [{"diagnoses": ["D1", "D2"], "procedures": ["P0"], "medications": ["M3"]}], "current": {"diagnoses": ["D4"], "procedures": ["P1"]}, "profile": {"insurance": "Private", "gender": "F"}}"#.utf8)
        let alphabet = Array(#"{}[]":,\ 0123456789eE-+.truefalsnul"#.utf8) + [0xFF, 0xC3, 0x00]
        var rng = SplitMix64(seed: 41)
        var decoded = 0, refused = 0
        for _ in 0..<3000 {
            var b = valid
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let i = Int(rng.next() % UInt64(b.count + 1))
                let c = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                switch rng.next() % 3 {
                case 0 where i < b.count: b[i] = c
                case 1: b.insert(c, at: i)
                default: if i < b.count && b.count > 1 { b.remove(at: i) }
                }
            }
            do {
                let record = try PatientRecord.decode(json: String(decoding: b, as: UTF8.self))
                decoded += 1
                do { _ = try session.recommendation(record) } catch { #expect(error.kind == .invalidArgument) }
            } catch {
                refused += 1
                #expect(error.kind == .invalidArgument && !error.message.isEmpty, "\(error.kind): \(error.message)")
            }
        }
        #expect(decoded > 0 && refused > 0, "decoded \(decoded), refused \(refused)")
    }

    /// Batch scoring over 1-3 threads is bitwise one-by-one scoring.
    @Test func batchEqualsOneByOne() throws {
        let (_, ck) = try servingCheckpoint()
        let model = try ServingModel(checkpoint: ck)
        var unknown: [Int] = []
        let single = try ServingSession(model: model)
        let examples = try patients(41, seed: 4).map { try single.example($0, unknown: &unknown) }
        var serial: [Float] = []
        for e in examples { serial += try single.scores(e) }
        for threads in [1, 2, 3] {
            let session = try ServingSession(model: model, options: .init(threads: threads))
            var out = [Float](repeating: .nan, count: examples.count * 6)
            try out.withUnsafeMutableBufferPointer { try session.scoreBatch(examples[...], into: $0.baseAddress!) }
            #expect(out.map(\.bitPattern) == serial.map(\.bitPattern), "threads \(threads)")
        }
    }

    /// Occlusion: each contribution is the score minus the score of the patient without that input, computed
    /// here one patient at a time; sorted largest first; unknown inputs are not listed.
    @Test func explainIsOcclusion() throws {
        let (_, ck) = try servingCheckpoint()
        let session = try ServingSession(model: try ServingModel(checkpoint: ck))
        let p = PatientCodes(diagnoses: [["D0", "D5"], ["D1", "Dzz"]], procedures: [["P0"], ["P2"]],
                             medications: [["M3"], []], profile: [("insurance", "Private"), ("color", "x")])
        let (score, items) = try session.explain(p, medication: 2)
        var unknown: [Int] = []
        #expect(score == (try session.scores(try session.example(p, unknown: &unknown)))[2])
        #expect(Set(items.map(\.position)) == [0, 1, 2, 4, 5, 6, 7])   // 3 = Dzz and 8 = color are unknown
        for (a, b) in zip(items, items.dropFirst()) { #expect(a.contribution >= b.contribution) }
        func without(_ position: Int) throws -> Float {
            var q = p
            switch position {
            case 0, 1: q.diagnoses[0].remove(at: position)
            case 2: q.diagnoses[1].remove(at: 0)
            case 4: q.procedures[0] = []
            case 5: q.procedures[1] = []
            case 6: q.medications[0] = []
            default: q.profile.remove(at: 0)
            }
            var u: [Int] = []
            return try session.scores(try session.example(q, unknown: &u))[2]
        }
        for it in items {
            #expect(it.contribution == score - (try without(it.position)), "position \(it.position)")
        }
        #expect(items.contains { $0.contribution != 0 })
        expectError(.invalidArgument, "explain: medication id 6 outside the vocabulary of 6") { _ = try session.explain(p, medication: 6) }
    }

    @Test func sessionOptions() throws {
        let (_, ck) = try servingCheckpoint()
        let model = try ServingModel(checkpoint: ck)
        let d = try ServingSession(model: model, options: try .parse(nil))
        #expect(d.threads == 1 && d.precision == .fp32 && d.historyVisits == 3)
        let o = try ServingSession(model: model, options: try .parse(#"{"threads": 2, "precision": "auto", "historyVisits": 0}"#))
        #expect(o.threads == 2 && o.historyVisits == 0)
        #expect(o.precision == (StudentPrecision.bf16Path == "portable" ? .fp32 : .bf16))
        for (bad, message) in [(#"{"thread": 2}"#, "session options: unknown key 'thread'"),
                               (#"{"precision": "int8"}"#, "session options: precision 'int8' (expected fp32, bf16 or auto)"),
                               (#"{"historyVisits": -1}"#, "session options: historyVisits -1 (expected 0...100000)"),
                               (#"{"threads": -3}"#, "session options: threads must be 0 or 1...1024, got -3"),
                               ("[", "session options: invalid JSON"),
                               (#"{"threads": "2"}"#, "session options: wrong type at 'threads'")] {
            expectError(.invalidArgument, message) { try ServingSession(model: model, options: try .parse(bad)) }
        }
    }

    /// The info JSON carries config, vocabularies with titles, profile, thresholds, metrics and provenance.
    @Test func infoJSON() throws {
        let (_, ck) = try servingCheckpoint()
        let info = try JSONSerialization.jsonObject(with: Data(try ServingModel(checkpoint: ck).info.utf8)) as? [String: Any]
        let keys = Set(info?.keys.map { $0 } ?? [])
        #expect(keys.isSuperset(of: ["config", "vocabularies", "profile", "thresholds", "metrics", "provenance"]))
        let meds = ((info?["vocabularies"] as? [String: Any])?["medications"] as? [String: Any])
        #expect((meds?["titles"] as? [String])?.first == "med 0")
        #expect(((info?["metrics"] as? [String: Any])?["bestValidationPRAUC"] as? Double) == 0.5)
    }
}

/// DDI-aware recommendation: of an interacting pair the lower-scored drug goes, greedily from the best; the
/// session option applies it to recommendations, the evaluation to the recommended sets.
@Suite struct DDIFilterTests {
    @Test func keepSafeDropsTheLowerScoredDrugOfEachPair() {
        var d = DDIPairs()
        d.add(0, 1)
        d.add(1, 2)
        d.add(3, 4)
        let ranked: [(id: Int32, score: Float)] = [(1, 0.9), (0, 0.8), (2, 0.7), (4, 0.6), (3, 0.5), (5, 0.4)]
        #expect(d.keepSafe(ranked).map(\.id) == [1, 4, 5])
        #expect(DDIPairs().keepSafe(ranked).map(\.id) == ranked.map(\.id))
    }

    @Test func sessionOptionAndFilteredEvaluation() throws {
        var c = tinyConfig()
        c.maxVisits = 4
        let model = try StudentModel(config: c, sizes: tinySizes)
        let flat = model.store.flatValues
        var rng = SplitMix64(seed: 21)
        for i in 0..<flat.count { flat.pointer[i] += Float(Int(rng.next() % 2001) - 1000) * 3e-4 }
        let served = try ServingModel(checkpoint: try tinyCheckpoint(model))
        let plain = try ServingSession(model: served)
        let p = PatientCodes(diagnoses: [["D1"], ["D2", "D3"]], procedures: [["P0"], []], medications: [["M1"], []],
                             profile: [] as [(String, String)])
        var unknown: [Int] = []
        let ex = try plain.example(p, unknown: &unknown)
        let all = try plain.recommend(ex, threshold: 0)
        // make the best two interact
        let csv = tempPath("ddi.csv")
        try "atc3_a,atc3_b\nM\(all[0].id),M\(all[1].id)\nM0,UNKNOWN\n".write(toFile: csv, atomically: true, encoding: .utf8)
        defer { unlink(csv) }
        let filtered = try ServingSession(model: served, options: .init(ddiFilter: csv))
        #expect(filtered.ddi?.count == 1 && filtered.ddi?.skipped == 1)
        let kept = try filtered.recommend(ex, threshold: 0)
        #expect(kept.map(\.id) == [all[0].id] + all.dropFirst(2).map(\.id))
        #expect(try filtered.scores(ex) == (try plain.scores(ex)))   // scores are not changed, only the choice
        expectError(.io, "/nonexistent.csv: cannot open (No such file or directory)") { _ = try ServingSession(model: served, options: .init(ddiFilter: "/nonexistent.csv")) }

        // the evaluation's filtered copy: per sample, the lower-scored of the pair is zeroed, others untouched
        let m = tinySizes.medications
        let s = try ScoredSamples(medications: m, scores: try plain.scores(ex) + (try plain.scores(ex)),
                                  truths: [[0], [1]], visitCounts: [2, 2])
        var d = DDIPairs()
        d.add(all[0].id, all[1].id)
        let f = try d.filtered(s, threshold: 0)
        for row in 0..<2 {
            for j in 0..<m {
                let want: Float = j == Int(all[1].id) ? 0 : s.scores[row * m + j]
                #expect(f.scores[row * m + j] == want)
            }
        }
    }
}

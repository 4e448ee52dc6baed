import CLeader
import Foundation
import LeaderCore
import Testing
@testable import Leader

/// The serving functions of leader.h called as a C host calls them (the same symbols the .so exports; the
/// hosts in Examples/ and bindings/python test the built .so itself).

/// A small trained-looking checkpoint on disk: vocabularies D0-6, P0-4, M0-5, profile insurance/gender.
private let checkpointPath: String = {
    let path = NSTemporaryDirectory() + "leader-abi-\(getpid()).safetensors"
    var c = StudentConfig()
    c.hidden = 8; c.heads = 2; c.ffnHidden = 12; c.headHidden = 10; c.seed = 5
    let sizes = StudentVocabularySizes(medications: 6, diagnoses: 7, procedures: 5, profileCardinalities: [3, 2])
    do {
        let model = try StudentModel(config: c, sizes: sizes)
        let flat = model.store.flatValues
        for i in 0..<flat.count { flat.pointer[i] += Float((i * 7919) % 2001 - 1000) * 3e-4 }
        let v = CheckpointVocabularies(
            medications: try Vocabulary(kind: .medication, keys: (0..<6).map { "M\($0)" }, titles: (0..<6).map { "med \($0)" }),
            diagnoses: try Vocabulary(kind: .diagnosis, keys: (0..<7).map { "D\($0)" }, titles: (0..<7).map { "diag \($0)" }),
            procedures: try Vocabulary(kind: .procedure, keys: (0..<5).map { "P\($0)" }, titles: (0..<5).map { "proc \($0)" }))
        let profile = ProfileSchema(fields: [ProfileField(name: "insurance", values: ["unknown", "Medicare", "Private"]),
                                             ProfileField(name: "gender", values: ["unknown", "F"])])
        try StudentCheckpoint(model: model, vocabularies: v, profile: profile,
                              thresholds: CheckpointThresholds(configured: 0.3),
                              provenance: CheckpointProvenance(dataFingerprint: "crc32:0/patients:0/samples:0", source: "test",
                                                               epochs: 1, bestEpoch: 1, bestValidationPRAUC: 0.5))
            .write(to: path)
    } catch {
        Issue.record("cannot write the test checkpoint: \(error)")
    }
    return path
}()

private var lastError: String { String(cString: leader_last_error()) }

/// C strings for the duration of `body`.
private func withCStrings<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) throws -> R) rethrows -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    return try body(copies.map { UnsafePointer($0) })
}

/// One patient in the header's CSR form.
private struct CPatient {
    var diagnoses: [[String]], procedures: [[String]], medications: [[String]], profile: [(String, String)]

    static func offsets(_ sets: [[String]]) -> [Int64] {
        var o: [Int64] = [0]
        for s in sets { o.append(o[o.count - 1] + Int64(s.count)) }
        return o
    }

    /// Calls `leader_session_recommend` with all outputs of `capacity`.
    func recommend(_ s: OpaquePointer?, topK: Int32 = 0, threshold: Float = 0, capacity: Int64 = 16,
                   unknownCapacity: Int64 = 8) -> (status: Int32, ids: [Int32], scores: [Float], codes: [String], n: Int64,
                                                   unknown: [Int64], nUnknown: Int64) {
        var ids = [Int32](repeating: -1, count: 16), scores = [Float](repeating: -1, count: 16)
        var codes = [UnsafePointer<CChar>?](repeating: nil, count: 16)
        var unknown = [Int64](repeating: -1, count: 8)
        var n: Int64 = -1, nUnknown: Int64 = -1
        let d = Self.offsets(diagnoses), p = Self.offsets(procedures), m = Self.offsets(medications)
        let st = withCStrings(diagnoses.flatMap { $0 }) { dc in
            withCStrings(procedures.flatMap { $0 }) { pc in
                withCStrings(medications.flatMap { $0 }) { mc in
                    withCStrings(profile.map(\.0)) { keys in
                        withCStrings(profile.map(\.1)) { values in
                            leader_session_recommend(s, Int32(diagnoses.count), d, dc, p, pc, m, mc, Int32(profile.count),
                                                     keys, values, topK, threshold, &ids, &scores, &codes, capacity, &n,
                                                     &unknown, unknownCapacity, &nUnknown)
                        }
                    }
                }
            }
        }
        let k = max(0, min(Int(n), 16))
        return (st, Array(ids.prefix(k)), Array(scores.prefix(k)), codes.prefix(k).map { $0.map { String(cString: $0) } ?? "" },
                n, Array(unknown.prefix(max(0, min(Int(nUnknown), Int(unknownCapacity))))), nUnknown)
    }
}

private let patient = CPatient(diagnoses: [["D1", "D9"], ["D3", "D2"]], procedures: [["P0"], []],
                               medications: [["M2"], []], profile: [("insurance", "Medicare"), ("gender", "X")])

@Suite(.serialized) struct ServingABITests {
    private func open(_ options: String? = nil) throws -> (OpaquePointer, OpaquePointer) {
        var model: OpaquePointer?, session: OpaquePointer?
        #expect(leader_model_load(checkpointPath, &model) == LEADER_OK, "\(lastError)")
        #expect(leader_session_create(model, options, &session) == LEADER_OK, "\(lastError)")
        return (try #require(model), try #require(session))
    }

    @Test func loadErrorsAndLifetimes() throws {
        var model: OpaquePointer? = OpaquePointer(bitPattern: 1)
        #expect(leader_model_load(nil, &model) == LEADER_ERR_INVALID_ARGUMENT && model == nil)
        #expect(leader_model_load("/nonexistent/student.safetensors", &model) == LEADER_ERR_IO && model == nil)
        #expect(lastError.contains("/nonexistent/student.safetensors"))
        let garbage = NSTemporaryDirectory() + "leader-abi-garbage-\(getpid())"
        _ = FileManager.default.createFile(atPath: garbage, contents: Data((0..<64).map { UInt8(truncatingIfNeeded: $0 &* 37) }))
        defer { unlink(garbage) }
        #expect(leader_model_load(garbage, &model) == LEADER_ERR_BAD_FILE && model == nil)
        #expect(leader_model_load(checkpointPath, nil) == LEADER_ERR_INVALID_ARGUMENT)
        // a session outlives the model it was made from; frees of NULL are no-ops
        let (m, s) = try open()
        leader_model_free(m)
        #expect(patient.recommend(s).status == LEADER_OK)
        leader_session_free(s)
        leader_model_free(nil)
        leader_session_free(nil)
        leader_trainer_free(nil)
        var session: OpaquePointer?
        #expect(leader_session_create(nil, nil, &session) == LEADER_ERR_INVALID_ARGUMENT && session == nil)
    }

    @Test func modelInfoAndCodes() throws {
        let (m, s) = try open()
        defer { leader_session_free(s); leader_model_free(m) }
        var json: UnsafePointer<CChar>?
        #expect(leader_model_info_json(m, &json) == LEADER_OK)
        #expect(String(cString: try #require(json)).contains("\"titles\""))
        var n: Int64 = 0
        #expect(leader_model_vocabulary_size(m, Int32(LEADER_KIND_MEDICATION), &n) == LEADER_OK && n == 6)
        #expect(leader_model_vocabulary_size(m, Int32(LEADER_KIND_DIAGNOSIS), &n) == LEADER_OK && n == 7)
        #expect(leader_model_vocabulary_size(m, 3, &n) == LEADER_ERR_INVALID_ARGUMENT)
        var code: UnsafePointer<CChar>?, title: UnsafePointer<CChar>?
        #expect(leader_model_code(m, Int32(LEADER_KIND_PROCEDURE), 4, &code, &title) == LEADER_OK)
        let c = try #require(code), t = try #require(title)
        #expect(String(cString: c) == "P4" && String(cString: t) == "proc 4")
        #expect(leader_model_code(m, Int32(LEADER_KIND_PROCEDURE), 5, &code, nil) == LEADER_ERR_INVALID_ARGUMENT)
        #expect(leader_model_code(m, Int32(LEADER_KIND_PROCEDURE), -1, nil, nil) == LEADER_ERR_INVALID_ARGUMENT)
        var id: Int32 = 0
        #expect(leader_model_code_id(m, Int32(LEADER_KIND_MEDICATION), "M5", &id) == LEADER_OK && id == 5)
        #expect(leader_model_code_id(m, Int32(LEADER_KIND_MEDICATION), "D1", &id) == LEADER_OK && id == -1)
        #expect(leader_model_code_id(m, Int32(LEADER_KIND_MEDICATION), nil, &id) == LEADER_ERR_INVALID_ARGUMENT)
    }

    @Test func recommendOutputsAndBufferRule() throws {
        let (m, s) = try open()
        defer { leader_session_free(s); leader_model_free(m) }
        let all = patient.recommend(s)
        #expect(all.status == LEADER_OK, "\(lastError)")
        #expect(all.n == 6 && all.codes == all.ids.map { "M\($0)" })
        // positions: diagnoses D1 D9 D3 D2 = 0-3, procedure P0 = 4, medication M2 = 5, profile pairs 6-7
        #expect(all.unknown == [1, 7] && all.nUnknown == 2)   // D9, and gender=X (a value the field does not know)
        for (a, b) in zip(all.scores, all.scores.dropFirst()) { #expect(a >= b) }
        // too small: the needed count, then a retry that fits
        let small = patient.recommend(s, capacity: 2)
        #expect(small.status == LEADER_ERR_BUFFER_TOO_SMALL && small.n == 6)
        #expect(lastError.contains("capacity 2"))
        let top2 = patient.recommend(s, topK: 2)
        #expect(top2.status == LEADER_OK && top2.ids == Array(all.ids.prefix(2)) && top2.scores == Array(all.scores.prefix(2)))
        // unknown positions beyond their capacity: counted, not an error
        let fewer = patient.recommend(s, unknownCapacity: 1)
        #expect(fewer.status == LEADER_OK && fewer.unknown == [1] && fewer.nUnknown == 2)
        // the default threshold is the checkpoint's 0.3
        let dflt = patient.recommend(s, threshold: LEADER_THRESHOLD_DEFAULT)
        #expect(dflt.ids == all.ids.enumerated().filter { all.scores[$0.offset] >= 0.3 }.map(\.element))
        #expect(patient.recommend(s, topK: -1).status == LEADER_ERR_INVALID_ARGUMENT)
        #expect(patient.recommend(s, threshold: 2).status == LEADER_ERR_INVALID_ARGUMENT)
    }

    @Test func malformedPatientArraysAreErrors() throws {
        let (m, s) = try open()
        defer { leader_session_free(s); leader_model_free(m) }
        var n: Int64 = 0
        let badStart: [Int64] = [1, 1], decreasing: [Int64] = [0, 2, 1], good1: [Int64] = [0, 0]
        let good2: [Int64] = [0, 1, 1]
        withCStrings(["D1", "D2"]) { d in
            #expect(leader_session_recommend(s, 1, badStart, d, good1, nil, nil, nil, 0, nil, nil, 0, 0, nil, nil, nil, 0, &n,
                                             nil, 0, nil) == LEADER_ERR_INVALID_ARGUMENT)
            #expect(lastError.contains("diagnosis_offsets[0]"))
            #expect(leader_session_recommend(s, 2, decreasing, d, good2, nil, nil, nil, 0, nil, nil, 0, 0, nil, nil, nil, 0, &n,
                                             nil, 0, nil) == LEADER_ERR_INVALID_ARGUMENT)
            #expect(lastError.contains("diagnosis_offsets[2]"))
            // procedures offsets name an entry but the array is NULL
            #expect(leader_session_recommend(s, 2, good2, d, good2, nil, nil, nil, 0, nil, nil, 0, 0, nil, nil, nil, 0, &n,
                                             nil, 0, nil) == LEADER_ERR_INVALID_ARGUMENT)
            #expect(leader_session_recommend(s, 0, good1, d, good1, nil, nil, nil, 0, nil, nil, 0, 0, nil, nil, nil, 0, &n,
                                             nil, 0, nil) == LEADER_ERR_INVALID_ARGUMENT)
            // a NULL string inside an array
            let withNull: [UnsafePointer<CChar>?] = [d[0], nil]
            #expect(leader_session_recommend(s, 1, [0, 2], withNull, good1, nil, nil, nil, 0, nil, nil, 0, 0, nil, nil, nil, 0,
                                             &n, nil, 0, nil) == LEADER_ERR_INVALID_ARGUMENT)
            #expect(lastError.contains("diagnoses[1] is NULL"))
            // results to write but no output arrays
            #expect(leader_session_recommend(s, 1, [0, 2], d, good1, nil, nil, nil, 0, nil, nil, 0, 0, nil, nil, nil, 16, &n,
                                             nil, 0, nil) == LEADER_ERR_INVALID_ARGUMENT)
            #expect(leader_session_recommend(nil, 1, [0, 2], d, good1, nil, nil, nil, 0, nil, nil, 0, 0, nil, nil, nil, 16, &n,
                                             nil, 0, nil) == LEADER_ERR_INVALID_ARGUMENT)
        }
    }

    /// Ids = strings; batch rows (strings and ids, 2 threads) = one-by-one scores, bit for bit.
    @Test func idsAndBatchAgreeWithOneByOne() throws {
        let (m, s) = try open(#"{"threads": 2}"#)
        defer { leader_session_free(s); leader_model_free(m) }
        let one = patient.recommend(s, capacity: 16)
        var ids = [Int32](repeating: 0, count: 6), scores = [Float](repeating: 0, count: 6)
        var n: Int64 = 0
        // D1 (D9 unknown) | D3 D2 ; P0 | - ; M2 | - ; insurance Medicare (1), gender unknown (0)
        #expect(leader_session_recommend_ids(s, 2, [0, 1, 3], [1, 3, 2], [0, 1, 1], [0], [0, 1, 1], [2], 2, [1, 0], 0, 0,
                                             &ids, &scores, nil, 6, &n) == LEADER_OK, "\(lastError)")
        #expect(ids == one.ids && scores.map(\.bitPattern) == one.scores.map(\.bitPattern))
        #expect(leader_session_recommend_ids(s, 1, [0, 1], [7], [0, 0], nil, nil, nil, 0, nil, 0, 0, &ids, &scores, nil, 6,
                                             &n) == LEADER_ERR_INVALID_ARGUMENT)

        // three patients: the test patient, a one-visit patient, the test patient again
        let byID = [Float](unsafeUninitializedCapacity: 18) { buf, count in
            let st = leader_session_score_batch_ids(s, 3, [0, 2, 3, 5], [0, 1, 3, 4, 5, 7], [1, 3, 2, 6, 1, 3, 2],
                                                    [0, 1, 1, 2, 3, 3], [0, 4, 0], nil, nil, [1, 0, 0, 0, 1, 0], buf.baseAddress, 18)
            #expect(st == LEADER_OK, "\(lastError)")
            count = 18
        }
        let byString = withCStrings(["D1", "D9", "D3", "D2", "D6", "D1", "D3", "D2"]) { d in
            withCStrings(["P0", "P4", "P0"]) { p in
                withCStrings(["insurance", "gender", "insurance"]) { k in
                    withCStrings(["Medicare", "X", "Medicare"]) { v in
                        var out = [Float](repeating: .nan, count: 18)
                        var unknown: Int64 = -1
                        let st = leader_session_score_batch(s, 3, [0, 2, 3, 5], [0, 2, 4, 5, 6, 8], d, [0, 1, 1, 2, 3, 3], p,
                                                            nil, nil, [0, 2, 2, 3], k, v, &out, 18, &unknown)
                        #expect(st == LEADER_OK, "\(lastError)")
                        #expect(unknown == 2)   // D9 and gender=X of the first patient
                        let small = leader_session_score_batch(s, 3, [0, 2, 3, 5], [0, 2, 4, 5, 6, 8], d, [0, 1, 1, 2, 3, 3],
                                                               p, nil, nil, [0, 2, 2, 3], k, v, &out, 17, nil)
                        #expect(small == LEADER_ERR_BUFFER_TOO_SMALL)
                        return out
                    }
                }
            }
        }
        // the test patient's history medication M2 is absent from the batch above: compare without it
        let noMeds = CPatient(diagnoses: patient.diagnoses, procedures: patient.procedures, medications: [[], []],
                              profile: patient.profile)
        let alone = noMeds.recommend(s, capacity: 16)
        var row = [Float](repeating: 0, count: 6)
        for (i, id) in alone.ids.enumerated() { row[Int(id)] = alone.scores[i] }
        #expect(Array(byString[0..<6]).map(\.bitPattern) == row.map(\.bitPattern))
        #expect(Array(byString[12..<18]).map(\.bitPattern) == row.map(\.bitPattern))
        #expect(byID.map(\.bitPattern) == byString.map(\.bitPattern))
        var out = [Float](repeating: 0, count: 6)
        #expect(leader_session_score_batch_ids(s, 1, [0, 0], [0], nil, [0], nil, nil, nil, nil, &out, 6)
                == LEADER_ERR_INVALID_ARGUMENT)   // a patient without visits
    }

    @Test func explainThroughTheABI() throws {
        let (m, s) = try open()
        defer { leader_session_free(s); leader_model_free(m) }
        let top = patient.recommend(s, topK: 1).ids[0]
        var positions = [Int64](repeating: -1, count: 8), contributions = [Float](repeating: 0, count: 8)
        var n: Int64 = 0, score: Float = -1
        let d = CPatient.offsets(patient.diagnoses), p = CPatient.offsets(patient.procedures)
        let st = withCStrings(patient.diagnoses.flatMap { $0 }) { dc in
            withCStrings(patient.procedures.flatMap { $0 }) { pc in
                withCStrings(["M2"]) { mc in
                    withCStrings(["insurance", "gender"]) { k in
                        withCStrings(["Medicare", "X"]) { v in
                            leader_session_explain(s, 2, d, dc, p, pc, [0, 1, 1], mc, 2, k, v, top, &score, &positions,
                                                   &contributions, 8, &n)
                        }
                    }
                }
            }
        }
        #expect(st == LEADER_OK, "\(lastError)")
        // known inputs: D1 0, D3 2, D2 3, P0 4, M2 5, insurance 6 (D9 at 1 and gender=X at 7 are unknown)
        #expect(n == 6 && Set(positions.prefix(6)) == [0, 2, 3, 4, 5, 6])
        #expect(score == patient.recommend(s, topK: 1).scores[0])
        for i in 1..<Int(n) { #expect(contributions[i - 1] >= contributions[i]) }
    }

    /// Patient data never reaches an error message: recognisable markers as codes, profile keys and values in
    /// calls that fail for every reason the serving functions check.
    @Test func errorsNeverEchoPatientData() throws {
        let (m, s) = try open()
        defer { leader_session_free(s); leader_model_free(m) }
        let marker = "MARKER-7731"
        var n: Int64 = 0
        var ids = [Int32](repeating: 0, count: 8), scores = [Float](repeating: 0, count: 8)
        var pos = [Int64](repeating: 0, count: 8)
        withCStrings([marker + "-D", marker + "-D2"]) { d in
            withCStrings([marker + "-key"]) { k in
                withCStrings([marker + "-value"]) { v in
                    let calls: [() -> Int32] = [
                        { leader_session_recommend(s, 1, [0, 2], d, [0, 0], nil, nil, nil, 1, k, v, 0, 0, &ids, &scores, nil, 1,
                                                   &n, nil, 0, nil) },   // buffer too small
                        { leader_session_recommend(s, 2, [0, 2, 1], d, [0, 0, 0], nil, nil, nil, 1, k, v, 0, 0, &ids, &scores,
                                                   nil, 8, &n, nil, 0, nil) },   // decreasing offsets
                        { leader_session_recommend(s, 1, [0, 2], d, [0, 0], nil, nil, nil, 1, k, nil, 0, 0, &ids, &scores, nil,
                                                   8, &n, nil, 0, nil) },   // profile values NULL
                        { leader_session_recommend(s, 1, [0, 2], d, [0, 0], nil, nil, nil, 1, k, v, -2, 0, &ids, &scores, nil,
                                                   8, &n, nil, 0, nil) },   // bad top_k
                        { leader_session_explain(s, 1, [0, 2], d, [0, 0], nil, nil, nil, 1, k, v, 99, nil, &pos, &scores, 8,
                                                 &n) },   // medication out of range
                        { leader_session_score_batch(s, 1, [0, 1], [0, 2], d, [0, 0], nil, nil, nil, [0, 1], k, v, &scores, 3,
                                                     nil) },   // capacity
                    ]
                    for (i, call) in calls.enumerated() {
                        let st = call()
                        #expect(st != LEADER_OK, "call \(i) should fail")
                        #expect(!lastError.isEmpty && !lastError.contains(marker), "call \(i): \(lastError)")
                    }
                }
            }
        }
    }

    @Test func trainerErrorsAndCancellation() throws {
        var t: OpaquePointer? = OpaquePointer(bitPattern: 1)
        #expect(leader_trainer_create("{\"task\": \"nope\"}", &t) == LEADER_ERR_INVALID_ARGUMENT && t == nil)
        #expect(lastError.contains("unknown task"))
        #expect(leader_trainer_create("{not json", &t) == LEADER_ERR_INVALID_ARGUMENT)
        #expect(leader_trainer_create(nil, &t) == LEADER_ERR_INVALID_ARGUMENT)
        let dir = NSTemporaryDirectory() + "leader-abi-trainer-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(leader_trainer_create(#"{"task": "prepare", "source": "synthetic", "patients": 200, "out": "\#(dir)/c.ldata"}"#,
                                      &t) == LEADER_OK)
        var json: UnsafePointer<CChar>?
        #expect(leader_trainer_result_json(t, &json) == LEADER_ERR_INVALID_ARGUMENT)   // no run yet
        // cancel on the first event: nothing written
        let cancel: leader_progress_fn = { _, _ in 1 }
        #expect(leader_trainer_run(t, cancel, nil) == LEADER_ERR_CANCELLED)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        // events reach the callback with the user data, as JSON
        final class Seen { var events: [String] = [] }
        let seen = Seen()
        let record: leader_progress_fn = { event, user in
            guard let event, let user else { return 1 }
            Unmanaged<Seen>.fromOpaque(user).takeUnretainedValue().events.append(String(cString: event))
            return 0
        }
        #expect(leader_trainer_run(t, record, Unmanaged.passUnretained(seen).toOpaque()) == LEADER_OK, "\(lastError)")
        #expect(seen.events.first?.contains("\"stage\":\"synthesise\"") == true)
        #expect(leader_trainer_result_json(t, &json) == LEADER_OK)
        #expect(String(cString: try #require(json)).contains("\"statistics\""))
        leader_trainer_free(t)
        #expect(FileManager.default.fileExists(atPath: dir + "/c.ldata"))
    }

    @Test func statusStringsAndBlocktime() throws {
        #expect(String(cString: leader_status_string(Int32(LEADER_ERR_BUFFER_TOO_SMALL))) == "buffer too small")
        #expect(String(cString: leader_status_string(Int32(LEADER_ERR_CANCELLED))) == "cancelled")
        #expect(String(cString: leader_status_string(12345)) == "unknown status")
        #expect(leader_set_openmp_blocktime(0) == LEADER_OK)
        #expect(leader_set_openmp_blocktime(-2) == LEADER_ERR_INVALID_ARGUMENT)
        #expect(leader_set_openmp_blocktime(60_001) == LEADER_ERR_INVALID_ARGUMENT)
        // the setting reaches libomp for the calling thread at its next library call
        typealias GetBlocktime = @convention(c) () -> Int32
        let symbol = try #require(dlsym(UnsafeMutableRawPointer(bitPattern: 0), "kmp_get_blocktime"))   // RTLD_DEFAULT
        let blocktime = unsafeBitCast(symbol, to: GetBlocktime.self)
        #expect(leader_set_openmp_blocktime(37) == LEADER_OK)
        #expect(leader_abi_version() == LEADER_ABI_VERSION && leader_status_string(0) != nil)
        var c: Float = 0
        #expect(leader_sgemm(1, 1, 1, 1, [Float(1)], 1, [Float(1)], 1, 0, &c, 1, 1) == LEADER_OK)
        #expect(blocktime() == 37)
        #expect(leader_set_openmp_blocktime(0) == LEADER_OK)
        #expect(leader_sgemm(1, 1, 1, 1, [Float(1)], 1, [Float(1)], 1, 0, &c, 1, 1) == LEADER_OK)
        #expect(blocktime() == 0)
        #expect(leader_set_openmp_blocktime(-1) == LEADER_OK)
        #expect(leader_sgemm(1, 1, 1, 1, [Float(1)], 1, [Float(1)], 1, 0, &c, 1, 1) == LEADER_OK)
        #expect(blocktime() == 200)
        let a: Float = 2, b: Float = 3
        #expect(leader_sgemm(1, 1, 1, 1, [a], 1, [b], 1, 0, &c, 1, 2) == LEADER_OK && c == 6)
    }
}

/// Sizes from the caller are bounded before they reach an allocation: a set spanning more than a million
/// codes, or more patients than the output buffer holds, is an error before any work.
@Test func hugeCallerSizesAreErrorsNotAllocations() throws {
    var model: OpaquePointer?, session: OpaquePointer?
    #expect(leader_model_load(checkpointPath, &model) == LEADER_OK)
    #expect(leader_session_create(model, nil, &session) == LEADER_OK)
    defer { leader_session_free(session); leader_model_free(model) }
    var n: Int64 = 0
    let one: [UnsafePointer<CChar>?] = [nil]
    #expect(leader_session_recommend(session, 1, [0, 1 << 40], one, [0, 0], nil, nil, nil, 0, nil, nil, 0, 0, nil, nil, nil,
                                     0, &n, nil, 0, nil) == LEADER_ERR_INVALID_ARGUMENT)
    #expect(String(cString: leader_last_error()).contains("exceeds"))
    var out = [Float](repeating: 0, count: 6)
    #expect(leader_session_score_batch_ids(session, 1 << 40, nil, nil, nil, nil, nil, nil, nil, nil, &out, 6)
            == LEADER_ERR_BUFFER_TOO_SMALL)
    #expect(leader_session_score_batch_ids(session, -1, nil, nil, nil, nil, nil, nil, nil, nil, &out, 6)
            == LEADER_ERR_INVALID_ARGUMENT)
}

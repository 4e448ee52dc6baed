import CLeader
import Foundation
import LeaderCore
import Testing
@testable import Leader

/// Patient p of the test: one or two visits of ids derived from p.
private func patient(_ p: Int) -> (visits: Int32, d: [Int64], dIDs: [Int32], pOff: [Int64], pIDs: [Int32], labels: [Int32]) {
    let two = p % 3 == 0
    return (two ? 2 : 1, two ? [0, 2, 3] : [0, 2], two ? [Int32(p % 7), Int32((p / 7) % 7), Int32((p / 3) % 7)]
                : [Int32(p % 7), Int32((p / 7) % 7)],
            two ? [0, 1, 1] : [0, 1], [Int32(p % 5)], [Int32(p % 3)])
}
/// Medication scores of patient p through one session (-1 where no score came back).
@Sendable private func serve(_ session: OpaquePointer?, _ p: Int) -> [Float] {
    let x = patient(p)
    var ids = [Int32](repeating: 0, count: 6), scores = [Float](repeating: 0, count: 6), n: Int64 = 0
    guard leader_session_recommend_ids(session, x.visits, x.d, x.dIDs, x.pOff, x.pIDs, nil, nil, 1, x.labels, 0, 0,
                                       &ids, &scores, nil, 6, &n) == LEADER_OK else { return [] }
    var row = [Float](repeating: -1, count: 6)
    for i in 0..<Int(n) { row[Int(ids[i])] = scores[i] }
    return row
}

/// Many threads serving from one model through the C functions, each with its own session; the model's
/// handle is released while the sessions still run. Results are bitwise the serial ones. `make sanitize`
/// runs this under ThreadSanitizer with 100,000 recommendations per thread (`LEADER_CONCURRENCY_PATIENTS`;
/// 300 in `make test`).
@Suite struct ConcurrencyABITests {
    @Test func eightThreadsServeOneModel() throws {
        var model: OpaquePointer?
        let path = NSTemporaryDirectory() + "leader-abi-concurrency-\(getpid()).safetensors"
        var c = StudentConfig()
        c.hidden = 8; c.heads = 2; c.ffnHidden = 12; c.headHidden = 10; c.seed = 8
        let sizes = StudentVocabularySizes(medications: 6, diagnoses: 7, procedures: 5, profileCardinalities: [3])
        let m = try StudentModel(config: c, sizes: sizes)
        func codes(_ kind: CodeKind, _ p: String, _ n: Int) throws -> Vocabulary {
            try Vocabulary(kind: kind, keys: (0..<n).map { "\(p)\($0)" }, titles: (0..<n).map { "\(p) \($0)" })
        }
        try StudentCheckpoint(model: m, vocabularies: CheckpointVocabularies(medications: try codes(.medication, "M", 6),
                                                                             diagnoses: try codes(.diagnosis, "D", 7),
                                                                             procedures: try codes(.procedure, "P", 5)),
                              profile: ProfileSchema(fields: [ProfileField(name: "gender", values: ["unknown", "F", "M"])]),
                              thresholds: CheckpointThresholds(configured: 0.3),
                              provenance: CheckpointProvenance(dataFingerprint: "x", source: "test", epochs: 0, bestEpoch: 0,
                                                               bestValidationPRAUC: 0)).write(to: path)
        defer { unlink(path) }
        #expect(leader_model_load(path, &model) == LEADER_OK)
        let count = Int(ProcessInfo.processInfo.environment["LEADER_CONCURRENCY_PATIENTS"] ?? "") ?? 300, threads = 8
        var serialSession: OpaquePointer?
        #expect(leader_session_create(model, nil, &serialSession) == LEADER_OK)
        let serial = (0..<count).map { serve(serialSession, $0) }
        leader_session_free(serialSession)
        var sessions = [OpaquePointer?](repeating: nil, count: threads)
        for t in 0..<threads { #expect(leader_session_create(model, nil, &sessions[t]) == LEADER_OK) }
        leader_model_free(model)   // the sessions keep it alive
        // one slot per thread, written only by that thread
        let rows = UnsafeMutableBufferPointer<[[Float]]>.allocate(capacity: threads)
        rows.initialize(repeating: [])
        defer { rows.deallocate() }
        let handles = sessions.map { UInt(bitPattern: $0) }
        let slots = UInt(bitPattern: rows.baseAddress)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let s = OpaquePointer(bitPattern: handles[t])
            var mine: [[Float]] = []
            for p in 0..<count { mine.append(serve(s, (p * (t + 1)) % count)) }
            UnsafeMutablePointer<[[Float]]>(bitPattern: slots)?[t] = mine
        }
        for t in 0..<threads {
            for p in 0..<count {
                #expect(rows[t][p].map(\.bitPattern) == serial[(p * (t + 1)) % count].map(\.bitPattern))
            }
            leader_session_free(sessions[t])
        }
        #expect(!serial[0].isEmpty && !serial[0].contains(-1))
    }
}

import Foundation
import Testing
@testable import LeaderCore

/// Random patients with the edge cases serving meets: empty sets, one visit, sets longer than the cap,
/// repeated codes.
private func servingExamples(_ n: Int, sizes: StudentVocabularySizes, maxCodes: Int, seed: UInt64) -> [StudentExample] {
    var rng = SplitMix64(seed: seed)
    func r(_ k: Int) -> Int { Int(rng.next() % UInt64(max(k, 1))) }
    func set(_ vocab: Int) -> [Int32] { (0..<r(maxCodes + 4)).map { _ in Int32(r(vocab)) } }
    return (0..<n).map { _ in
        let v = 1 + r(5)
        return StudentExample(diagnoses: (0..<v).map { _ in set(sizes.diagnoses) },
                              procedures: (0..<v).map { _ in set(sizes.procedures) },
                              medications: (0..<(v - 1)).map { _ in set(sizes.medications) },
                              profile: sizes.profileCardinalities.map { Int32(r($0)) })
    }
}

/// The autodiff model's eval-mode scores (the oracle).
private func modelScores(_ model: StudentModel, _ examples: [StudentExample]) throws -> [Float] {
    let ctx = try Context(threads: 1)
    ctx.training = false
    let logits = try model.forward(try model.pack(examples, forTraining: false), ctx).toArray()
    return logits.map { 1 / (1 + Float(Foundation.exp(Double(-$0)))) }
}

@Suite struct PackedStudentTests {
    private func config(profile: Bool) -> StudentConfig {
        var c = StudentConfig()
        c.hidden = 16; c.heads = 4; c.ffnHidden = 24; c.headHidden = 12; c.maxCodesPerVisit = 6; c.seed = 9
        c.profilePrompt = profile
        return c
    }
    private let sizes = StudentVocabularySizes(medications: 11, diagnoses: 23, procedures: 9, profileCardinalities: [3, 4])

    @Test(arguments: [true, false])
    func matchesTheModel(profile: Bool) throws {
        let model = try StudentModel(config: config(profile: profile), sizes: sizes)
        // Non-trivial weights: perturb every parameter (biases and LayerNorm included), so no folding hides behind
        // zero biases or unit gains.
        let flat = model.store.flatValues
        var rng = SplitMix64(seed: 3)
        for i in 0..<flat.count { flat.pointer[i] += Float(Int(rng.next() % 2001) - 1000) * 2e-4 }
        let examples = servingExamples(40, sizes: sizes, maxCodes: 6, seed: 4)
        #expect(examples.contains { $0.procedures.contains(where: \.isEmpty) })
        #expect(examples.contains { $0.diagnoses.contains { $0.count > 6 } })
        let packed = try PackedStudent(model)
        let got = try packed.predict(examples)
        let want = try modelScores(model, examples)
        var worst: Float = 0
        for i in got.indices { worst = max(worst, abs(got[i] - want[i])) }
        #expect(worst < 2e-6, "max |Δ score| \(worst)")
    }

    @Test func resultsDoNotDependOnThreadsOrChunks() throws {
        let model = try StudentModel(config: config(profile: true), sizes: sizes)
        let examples = servingExamples(37, sizes: sizes, maxCodes: 6, seed: 5)
        let packed = try PackedStudent(model)
        let one = try packed.predict(examples, threads: 1, chunk: 64)
        for (t, chunk) in [(2, 64), (2, 1), (3, 5), (1, 7)] {
            let other = try packed.predict(examples, threads: t, chunk: chunk)
            #expect(other.map(\.bitPattern) == one.map(\.bitPattern), "threads \(t) chunk \(chunk)")
        }
        // One patient alone through a forward pass = the same row of a batch.
        let pass = try packed.makePass()
        var row = [Float](repeating: 0, count: sizes.medications)
        try row.withUnsafeMutableBufferPointer { try pass.predict(examples[12...12], into: $0.baseAddress!) }
        #expect(row.map(\.bitPattern) == one[(12 * 11)..<(13 * 11)].map(\.bitPattern))
    }

    /// The stage profile of a forward pass: off by default, every stage timed once it is set, the scores bitwise
    /// those of an unprofiled pass.
    @Test func stageProfileTimesEveryStageAndChangesNothing() throws {
        let model = try StudentModel(config: config(profile: true), sizes: sizes)
        let examples = servingExamples(9, sizes: sizes, maxCodes: 6, seed: 6)
        let packed = try PackedStudent(model)
        let plain = try packed.makePass(), profiled = try packed.makePass()
        #expect(plain.stageSeconds == nil)
        profiled.stageSeconds = Array(repeating: 0, count: StudentForwardPass.Stage.allCases.count)
        var a = [Float](repeating: 0, count: examples.count * sizes.medications), b = a
        try a.withUnsafeMutableBufferPointer { try plain.predict(examples[...], into: $0.baseAddress!) }
        try b.withUnsafeMutableBufferPointer { try profiled.predict(examples[...], into: $0.baseAddress!) }
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
        #expect(plain.stageSeconds == nil)
        let t = try #require(profiled.stageSeconds)
        #expect(t.count == StudentForwardPass.Stage.allCases.count)
        #expect(t.allSatisfy { $0 > 0 }, "\(t)")
    }

    /// `precision: .bf16` (linear layers on bf16 operands): close to fp32, not equal to it, and as reproducible
    /// (bitwise independent of threads, chunks and batch neighbours). int8 is refused.
    @Test func bf16IsCloseToFP32AndReproducible() throws {
        let model = try StudentModel(config: config(profile: true), sizes: sizes)
        let flat = model.store.flatValues
        var rng = SplitMix64(seed: 6)
        for i in 0..<flat.count { flat.pointer[i] += Float(Int(rng.next() % 2001) - 1000) * 2e-4 }
        let examples = servingExamples(37, sizes: sizes, maxCodes: 6, seed: 7)
        let exact = try PackedStudent(model).predict(examples)
        let packed = try PackedStudent(model, precision: .bf16)
        #expect(packed.precision == .bf16)
        let one = try packed.predict(examples, threads: 1, chunk: 64)
        var worst: Float = 0
        for i in one.indices { worst = max(worst, abs(one[i] - exact[i])) }
        #expect(worst > 0 && worst < 5e-3, "bf16 vs fp32: max |Δ score| \(worst)")
        for (t, chunk) in [(2, 1), (3, 5)] {
            let other = try packed.predict(examples, threads: t, chunk: chunk)
            #expect(other.map(\.bitPattern) == one.map(\.bitPattern), "bf16 threads \(t) chunk \(chunk)")
        }
        #expect(StudentPrecision.resolving("int8") == nil, "int8 is a teacher option")
    }

    @Test func rejectsBadInputWithoutTrapping() throws {
        let packed = try PackedStudent(try StudentModel(config: config(profile: true), sizes: sizes))
        let ok = StudentExample(diagnoses: [[0, 1]], procedures: [[]], medications: [], profile: [1, 0])
        #expect(try packed.predict([ok]).count == 11)
        var bad = ok
        bad.diagnoses = [[23]]
        expectError(.invalidArgument, "student batch: diagnosis id 23 outside vocabulary of 23") { _ = try packed.predict([ok, bad]) }
        bad = ok
        bad.profile = [1, 4]
        expectError(.invalidArgument, "student batch: profile field 1 label 4 outside its 4 values") { _ = try packed.predict([bad], threads: 2) }
        bad = ok
        bad.medications = [[1]]
        expectError(.invalidArgument, "student batch: an example has 1 diagnosis sets, 1 procedure sets and 1 medication sets (need v, v, v-1)") { _ = try packed.predict([bad]) }
        bad = ok
        bad.profile = [1]
        expectError(.invalidArgument, "student batch: profile has 1 fields, expected 2") { _ = try packed.predict([bad]) }
        #expect(try packed.predict([]).isEmpty)
    }
}

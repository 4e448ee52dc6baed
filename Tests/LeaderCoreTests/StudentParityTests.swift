import Foundation
import Testing
@testable import LeaderCore

/// tools/make_student_fixture.py output: the student in PyTorch (reference padded layout, float64).
struct StudentParityFixture: Decodable {
    struct Patient: Decodable {
        let diagnoses: [[Int32]], procedures: [[Int32]], medications: [[Int32]], profile: [Int32], target: [Int32]
    }
    struct Sizes: Decodable { let medications, diagnoses, procedures: Int; let profileCardinalities: [Int] }
    struct Param: Decodable { let shape: [Int]; let values: [Float] }
    struct Loss: Decodable { let total, bce, distill, align: Double }
    let config: [String: JSONValue]
    let sizes: Sizes
    let patients: [Patient]
    let teacher: [Float]
    let params: [String: Param]
    let grads: [String: [Float]]
    let logits: [Float]
    let loss: Loss

    static func load() throws -> StudentParityFixture {
        guard let url = Bundle.module.url(forResource: "student_parity", withExtension: "json", subdirectory: "Fixtures")
        else { throw LeaderError.io("fixture student_parity.json not in the test bundle") }
        return try JSONDecoder().decode(StudentParityFixture.self, from: Data(contentsOf: url))
    }
}

/// Any JSON scalar (to re-encode the fixture's config object for the strict decoder).
enum JSONValue: Codable {
    case number(Double), bool(Bool), string(String)
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self = .bool(b) } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else { self = .string(try c.decode(String.self)) }
    }
    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let d): if d == d.rounded() && abs(d) < 1e15 { try c.encode(Int(d)) } else { try c.encode(d) }
        case .bool(let b): try c.encode(b)
        case .string(let s): try c.encode(s)
        }
    }
}

func maxRelError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    var worst: Float = 0
    for (x, y) in zip(a, b) { worst = max(worst, abs(x - y) / max(1, abs(y))) }
    return worst
}

@Suite struct StudentParityTests {
    static func model(_ f: StudentParityFixture) throws -> (StudentModel, StudentBatch, Tensor) {
        let json = String(decoding: try JSONEncoder().encode(f.config), as: UTF8.self)
        let config = try StudentConfig.decode(json: json)
        let sizes = StudentVocabularySizes(medications: f.sizes.medications, diagnoses: f.sizes.diagnoses,
                                           procedures: f.sizes.procedures, profileCardinalities: f.sizes.profileCardinalities)
        let model = try StudentModel(config: config, sizes: sizes)
        #expect(Set(model.store.parameters.map(\.name)) == Set(f.params.keys))
        for (name, p) in f.params { try model.store.load(name, values: p.values, shape: p.shape) }
        let examples = f.patients.map {
            StudentExample(diagnoses: $0.diagnoses, procedures: $0.procedures, medications: $0.medications,
                           profile: $0.profile, target: $0.target)
        }
        let batch = try model.pack(examples, forTraining: true)
        let teacher = try Tensor(shape: [examples.count, config.teacherDim], values: f.teacher)
        return (model, batch, teacher)
    }

    @Test(arguments: [1, 2]) func logitsLossAndGradientsMatchPyTorch(threads: Int) throws {
        let f = try StudentParityFixture.load()
        let (model, batch, teacher) = try Self.model(f)
        let ctx = try Context(threads: threads, training: false, seed: 3)
        model.store.zeroGrad()
        let loss = try model.loss(batch, teacher: teacher, ctx)
        let logits = try model.forward(batch, ctx).toArray()
        #expect(maxRelError(logits, f.logits) < 1e-4)
        // forward again for backward (the extra forward above replaced the caches)
        _ = try model.loss(batch, teacher: teacher, ctx)
        try model.backward(ctx)
        #expect(abs(Double(loss.bce) - f.loss.bce) < 1e-4)
        #expect(abs(Double(loss.distill) - f.loss.distill) < 1e-4)
        #expect(abs(Double(loss.align) - f.loss.align) < 1e-4)
        #expect(abs(Double(loss.total) - f.loss.total) < 1e-4)
        var worst: (Float, String) = (0, "")
        for p in model.store.parameters {
            let g = model.store.grad(p).toArray()
            guard let ref = f.grads[p.name] else { Issue.record("no gradient for \(p.name)"); continue }
            let e = maxRelError(g, ref)
            if e > worst.0 { worst = (e, p.name) }
            #expect(e < 1e-4, "gradient of \(p.name): max error \(e)")
        }
        print("student parity: worst gradient error \(worst.0) (\(worst.1)), logits \(maxRelError(logits, f.logits))")
    }

    @Test func aWrongGradientWouldFail() throws {
        // The check is sensitive: a 0.01 change of one prompt-head weight moves the loss beyond the tolerance.
        let f = try StudentParityFixture.load()
        let (model, batch, teacher) = try Self.model(f)
        let ctx = try Context(threads: 1, training: false)
        let p = try #require(model.store.parameter(named: "profile.head.weight"))
        var v = model.store.value(p).toArray()
        v[0] += 0.01
        try model.store.load(p.name, values: v)
        let loss = try model.loss(batch, teacher: teacher, ctx)
        #expect(abs(Double(loss.total) - f.loss.total) > 1e-4)
    }
}

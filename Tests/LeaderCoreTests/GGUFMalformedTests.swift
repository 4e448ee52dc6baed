import Foundation
import Testing
@testable import LeaderCore

/// Builds GGUF bytes field by field so that tests can break any one of them.
struct GGUFBuilder {
    var magic: [UInt8] = Array("GGUF".utf8)
    var version: UInt32 = 3
    var tensorCount: UInt64?
    var kvCount: UInt64?
    var kvs: [[UInt8]] = []
    var tensors: [[UInt8]] = []
    var alignment = 32
    var data: [UInt8] = []

    static func u32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    static func u64(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    static func str(_ s: String) -> [UInt8] { u64(UInt64(s.utf8.count)) + Array(s.utf8) }

    mutating func kv(_ key: String, type: UInt32, _ value: [UInt8]) { kvs.append(Self.str(key) + Self.u32(type) + value) }
    mutating func kv(_ key: String, u32 v: UInt32) { kv(key, type: 4, Self.u32(v)) }
    mutating func kv(_ key: String, string v: String) { kv(key, type: 8, Self.str(v)) }
    mutating func tensor(_ name: String, dims: [UInt64], type: UInt32, offset: UInt64) {
        tensors.append(Self.str(name) + Self.u32(UInt32(dims.count)) + dims.flatMap(Self.u64) + Self.u32(type) + Self.u64(offset))
    }

    var bytes: [UInt8] {
        var b = magic + Self.u32(version) + Self.u64(tensorCount ?? UInt64(tensors.count)) + Self.u64(kvCount ?? UInt64(kvs.count))
        b += kvs.flatMap { $0 } + tensors.flatMap { $0 }
        while b.count % alignment != 0 { b.append(0) }
        return b + data
    }

    /// A valid file: two KVs, an F32 [4] tensor at 0 and a Q8_0 [2, 32] tensor at 32.
    static var valid: GGUFBuilder {
        var g = GGUFBuilder()
        g.kv("general.architecture", string: "llama")
        g.kv("test.n", u32: 7)
        g.tensor("a", dims: [4], type: 0, offset: 0)
        g.tensor("b", dims: [32, 2], type: 8, offset: 32)
        g.data = [UInt8](repeating: 1, count: 32 + 68)
        return g
    }
}

@Suite struct GGUFMalformedTests {
    func parse(_ bytes: [UInt8]) throws(LeaderError) -> GGUFFile {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("leader-gguf-\(UUID().uuidString).gguf")
        defer { try? FileManager.default.removeItem(at: dir) }
        do { try Data(bytes).write(to: dir) } catch { throw .io("\(error)") }
        return try GGUFFile(path: dir.path)
    }

    /// `bytes` must fail with `.badFile` (or `.incompatible` when `incompatible`) mentioning `words`.
    func expectFailure(_ bytes: [UInt8], _ words: String..., incompatible: Bool = false,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try parse(bytes)
            Issue.record("accepted a malformed file (expected: \(words))", sourceLocation: sourceLocation)
        } catch {
            switch (error, incompatible) {
            case (.badFile(let m), false), (.incompatible(let m), true):
                for w in words where !m.contains(w) {
                    Issue.record("message '\(m)' lacks '\(w)'", sourceLocation: sourceLocation)
                }
            default:
                Issue.record("wrong error \(error) (expected \(incompatible ? "incompatible" : "badFile"))",
                             sourceLocation: sourceLocation)
            }
        }
    }

    @Test func validBaseline() throws {
        let g = try parse(GGUFBuilder.valid.bytes)
        #expect(g.tensors.map(\.name) == ["a", "b"])
        #expect(try g.tensor("b").shape == [2, 32] && g.tensor("b").range.count == 68)
        #expect(try g.int("test.n") == 7)
    }

    @Test func everyTruncationFails() {
        let full = GGUFBuilder.valid.bytes
        for n in 0..<full.count {
            do {
                _ = try parse(Array(full.prefix(n)))
                Issue.record("a file truncated to \(n) of \(full.count) bytes was accepted")
            } catch {
                guard case .badFile = error else { Issue.record("truncated to \(n): \(error) is not .badFile"); continue }
            }
        }
        expectFailure(Array(full.prefix(full.count - 1)), "tensor 'b'", "outside")
        expectFailure(Array(full.prefix(30)), "truncated")
    }

    @Test func headerFields() {
        var g = GGUFBuilder.valid
        g.magic = Array("GGML".utf8)
        expectFailure(g.bytes, "not a GGUF file")
        g = .valid; g.version = 1
        expectFailure(g.bytes, "version 1", incompatible: true)
        g = .valid; g.tensorCount = 1 << 62
        expectFailure(g.bytes, "tensor count", "exceeds")
        g = .valid; g.kvCount = UInt64.max
        expectFailure(g.bytes, "metadata count", "exceeds")
        g = .valid; g.kvCount = 3  // one more pair than present: runs into the tensor table
        expectFailure(g.bytes)
        g = .valid; g.tensorCount = 3
        expectFailure(g.bytes)
    }

    @Test func metadataFields() {
        var g = GGUFBuilder.valid
        g.kvs[1] = GGUFBuilder.u64(1 << 40) + Array("x".utf8)  // key length far beyond the file
        expectFailure(g.bytes, "metadata key #1", "length")
        g = .valid; g.kv("bad.type", type: 13, [])
        expectFailure(g.bytes, "bad.type", "unknown value type 13")
        g = .valid; g.kv("bad.bool", type: 7, [2])
        expectFailure(g.bytes, "bad.bool", "bool byte is 2")
        g = .valid; g.kv("bad.str", type: 8, GGUFBuilder.u64(1 << 60))
        expectFailure(g.bytes, "bad.str", "length")
        g = .valid; g.kv("bad.arr", type: 9, GGUFBuilder.u32(4) + GGUFBuilder.u64(1 << 61))
        expectFailure(g.bytes, "bad.arr", "array count")
        g = .valid; g.kv("bad.arr", type: 9, GGUFBuilder.u32(99) + GGUFBuilder.u64(1))
        expectFailure(g.bytes, "bad.arr", "unknown array element type 99")
        g = .valid; g.kv("bad.utf8", type: 8, GGUFBuilder.u64(2) + [0xC3, 0x28])
        expectFailure(g.bytes, "bad.utf8", "UTF-8")
        g = .valid; g.kv("test.n", u32: 8)
        expectFailure(g.bytes, "test.n", "twice")
        g = .valid; g.kv("general.alignment", u32: 24)
        expectFailure(g.bytes, "general.alignment", "power of two")
        g = .valid; g.kv("general.alignment", string: "32")
        expectFailure(g.bytes, "general.alignment", "expected uint32")
        // Arrays nested deeper than the limit.
        var nested = GGUFBuilder.u32(4) + GGUFBuilder.u64(1) + GGUFBuilder.u32(1)
        for _ in 0..<4 { nested = GGUFBuilder.u32(9) + GGUFBuilder.u64(1) + nested }
        g = .valid; g.kv("deep", type: 9, nested)
        expectFailure(g.bytes, "deep", "nested deeper")
    }

    @Test func tensorTable() {
        var g = GGUFBuilder.valid
        g.tensors.removeLast(); g.tensor("b", dims: [32, 2], type: 8, offset: 36)
        expectFailure(g.bytes, "tensor 'b'", "offset 36", "alignment")
        g = .valid; g.tensors.removeLast(); g.tensor("b", dims: [1 << 40, 1 << 40], type: 0, offset: 32)
        expectFailure(g.bytes, "tensor 'b'", "overflow")
        g = .valid; g.tensors.removeLast(); g.tensor("b", dims: [UInt64(Int.max) + 2], type: 0, offset: 32)
        expectFailure(g.bytes, "tensor 'b'", "does not fit")
        g = .valid; g.tensors.removeLast(); g.tensor("b", dims: [1 << 20, 1 << 20], type: 0, offset: 32)
        expectFailure(g.bytes, "tensor 'b'", "outside")  // product fits, bytes lie past the end
        g = .valid; g.tensors.removeLast(); g.tensor("b", dims: [1 << 61], type: 0, offset: 32)
        expectFailure(g.bytes, "tensor 'b'", "overflows")  // 2^61 values × 4 bytes
        g = .valid; g.tensors.removeLast(); g.tensor("b", dims: [16, 2], type: 8, offset: 32)
        expectFailure(g.bytes, "tensor 'b'", "not a multiple of the Q8_0 block size")
        g = .valid; g.tensors.removeLast(); g.tensor("b", dims: [32, 2], type: 12, offset: 32)
        expectFailure(g.bytes, "tensor 'b'", "Q4_K", incompatible: true)
        g = .valid; g.tensors.removeLast(); g.tensor("b", dims: [32, 2], type: 8, offset: 0)
        expectFailure(g.bytes, "overlaps")
        g = .valid; g.tensors.removeLast(); g.tensor("b", dims: [32, 2], type: 8, offset: 1 << 20)
        expectFailure(g.bytes, "tensor 'b'", "outside")
        g = .valid; g.tensors.removeLast(); g.tensor("b", dims: [32, 2], type: 8, offset: UInt64.max - 31)
        expectFailure(g.bytes, "tensor 'b'", "offset")
        g = .valid; g.tensors.removeLast(); g.tensor("a", dims: [32, 2], type: 8, offset: 32)
        expectFailure(g.bytes, "tensor 'a'", "twice")
        g = .valid; g.tensors.removeLast(); g.tensor("b", dims: [], type: 0, offset: 32)
        expectFailure(g.bytes, "tensor 'b'", "n_dims is 0")
        g = .valid; g.tensors.removeLast(); g.tensor("b", dims: [1, 1, 1, 1, 1], type: 0, offset: 32)
        expectFailure(g.bytes, "tensor 'b'", "n_dims is 5")
        g = .valid; g.tensors[1] = GGUFBuilder.u64(300) + [UInt8](repeating: 0x61, count: 300)
        expectFailure(g.bytes, "tensor #1: name")
    }

    /// Random byte corruption of the header region never traps: every result is a parsed file or a
    /// `LeaderError`.
    @Test func randomCorruptionNeverTraps() {
        let base = GGUFBuilder.valid.bytes
        var rng = SplitMix64(seed: 17)   // seeded: a failure names an input that can be replayed
        var rejected = 0
        for _ in 0..<400 {
            var b = base
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                b[Int.random(in: 0..<min(b.count, 160), using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            do { _ = try parse(b) } catch { rejected += 1 }
        }
        #expect(rejected > 0)
    }
}

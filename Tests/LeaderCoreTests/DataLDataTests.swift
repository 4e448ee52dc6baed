import CLeaderIO
import Foundation
import Testing
@testable import LeaderCore

@Suite struct DataLDataTests {
    static func dataset() throws -> PreparedDataset {
        try PreparedDataset(cohort: OMOPLoader.load(directory: DataTestSupport.fixtures + "/omop", config: PrepareConfig()),
                            config: PrepareConfig())
    }

    func equal(_ a: PreparedDataset, _ b: PreparedDataset) {
        #expect(a.config == b.config)
        #expect(a.cohort.patients == b.cohort.patients)
        #expect(a.cohort.diagnoses == b.cohort.diagnoses)
        #expect(a.cohort.procedures == b.cohort.procedures)
        #expect(a.cohort.medications == b.cohort.medications)
        #expect(a.cohort.profile == b.cohort.profile)
        #expect(a.cohort.report == b.cohort.report)
        #expect(a.cohort.source == b.cohort.source)
        #expect(a.samples == b.samples)
        #expect(a.split == b.split)
    }

    @Test func roundTripThroughAFile() throws {
        let d = try Self.dataset()
        let path = DataTestSupport.tempDir("ldata") + "/omop.ldata"
        try LDataFile.write(d, to: path)
        equal(d, try LDataFile.read(path))
        // Deterministic bytes: re-encoding and preparing again give the same file.
        #expect(try LDataFile.encode(d) == LDataFile.encode(try LDataFile.read(path)))
        #expect(try LDataFile.encode(d) == LDataFile.encode(try Self.dataset()))
    }

    @Test(.enabled(if: DataTestSupport.runsSharedDataTests, "needs ../shared/data"))
    func roundTripTheMIMICDemos() throws {
        let data = try #require(DataTestSupport.sharedData, "../shared/data is missing (required when CI is set)")
        for src in [DataSource.mimic3, .mimic4] {
            var cfg = PrepareConfig.defaults(for: src)
            cfg.samplePerVisit = true
            let d = try DataPreparation.prepare(source: src, input: data + (src == .mimic3 ? "/mimic3-demo" : "/mimic4-demo"),
                                                maps: data + "/medmaps", config: cfg)
            equal(d, try LDataFile.decode(try LDataFile.encode(d), name: "x"))
        }
    }

    // MARK: - Malformed corpus: each a clear .badFile / .incompatible, never a trap.

    static func good() throws -> [UInt8] { try LDataFile.encode(try dataset()) }

    func expectBad(_ bytes: [UInt8], _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try LDataFile.decode(bytes, name: "bad.ldata")
            Issue.record("decoded a malformed file (\(fragment))", sourceLocation: sourceLocation)
        } catch {
            #expect(error.message.hasPrefix("bad.ldata: "), sourceLocation: sourceLocation)
            #expect(error.message.contains(fragment), "\(error.message)", sourceLocation: sourceLocation)
        }
    }

    /// Rewrites the metadata JSON and fixes the lengths and checksum, so that only the semantic check can fail.
    func withMetadata(_ bytes: [UInt8], _ edit: (inout [String: Any]) -> Void) throws -> [UInt8] {
        let metaLen = Int(bytes[16]) | Int(bytes[17]) << 8 | Int(bytes[18]) << 16 | Int(bytes[19]) << 24
        let dataPart = Array(bytes[(40 + metaLen)...])
        var obj = try #require(try JSONSerialization.jsonObject(with: Data(bytes[40..<(40 + metaLen)])) as? [String: Any])
        edit(&obj)
        var json = Array(try JSONSerialization.data(withJSONObject: obj))
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Array(bytes[0..<16])
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out += $0 }
        withUnsafeBytes(of: UInt64(dataPart.count).littleEndian) { out += $0 }
        var crc = json.withUnsafeBufferPointer { lio_crc32(0, $0.baseAddress, $0.count) }
        crc = dataPart.withUnsafeBufferPointer { lio_crc32(crc, $0.baseAddress, $0.count) }
        withUnsafeBytes(of: crc.littleEndian) { out += $0 }
        out += [0, 0, 0, 0]
        return out + json + dataPart
    }

    /// Rewrites data bytes at `offset` of array `name` and fixes the checksum.
    func withData(_ bytes: [UInt8], array name: String, index: Int, width: Int, value: Int64) throws -> [UInt8] {
        let metaLen = Int(bytes[16]) | Int(bytes[17]) << 8 | Int(bytes[18]) << 16 | Int(bytes[19]) << 24
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(bytes[40..<(40 + metaLen)])) as? [String: Any])
        let arrays = try #require(obj["arrays"] as? [String: Any])
        let entry = try #require(arrays[name] as? [String: Any])
        let off = try #require(entry["offset"] as? Int)
        var out = bytes
        let at = 40 + metaLen + off + index * width
        withUnsafeBytes(of: value.littleEndian) { raw in for k in 0..<width { out[at + k] = raw[k] } }
        let crc = out.withUnsafeBufferPointer { lio_crc32(0, $0.baseAddress.map { $0 + 40 }, $0.count - 40) }
        withUnsafeBytes(of: crc.littleEndian) { raw in for k in 0..<4 { out[32 + k] = raw[k] } }
        return out
    }

    @Test func truncatedAndEmpty() throws {
        let g = try Self.good()
        expectBad([], "truncated")
        expectBad(Array(g.prefix(20)), "truncated")
        expectBad(Array(g.prefix(g.count - 5)), "truncated")
        expectBad(g + [0], "trailing bytes")
    }

    @Test func badMagicAndWrongVersion() throws {
        var g = try Self.good()
        g[0] = 0x58
        expectBad(g, "bad magic")
        g = try Self.good()
        g[8] = 2
        do {
            _ = try LDataFile.decode(g, name: "bad.ldata")
            Issue.record("decoded a future version")
        } catch {
            #expect(error == .incompatible("bad.ldata: format version 2, this library reads version 1"))
        }
    }

    @Test func hugeLengthsAndCorruption() throws {
        var g = try Self.good()
        for k in 16..<24 { g[k] = 0xFF }
        expectBad(g, "metadata length")
        g = try Self.good()
        for k in 24..<32 { g[k] = 0xFF }
        expectBad(g, "data length")
        g = try Self.good()
        g[g.count - 3] ^= 0x55
        expectBad(g, "checksum mismatch")
        g = try Self.good()
        g[45] = 0x7B
        expectBad(g, "checksum")   // metadata bytes changed without fixing the checksum
    }

    @Test func invalidMetadata() throws {
        let g = try Self.good()
        expectBad(try withMetadata(g) { $0["format_version"] = 9 }, "is not leader-data")
        expectBad(try withMetadata(g) { $0.removeValue(forKey: "diagnoses") }, "missing key 'diagnoses'")
        expectBad(try withMetadata(g) { obj in
            var a = obj["arrays"] as? [String: Any] ?? [:]
            a["visit_id"] = ["dtype": "i64", "count": 6, "offset": 1 << 40]
            obj["arrays"] = a
        }, "out of range")
        expectBad(try withMetadata(g) { obj in
            var a = obj["arrays"] as? [String: Any] ?? [:]
            a["visit_id"] = ["dtype": "i64", "count": Int.max / 4, "offset": 0]
            obj["arrays"] = a
        }, "overflows")
        expectBad(try withMetadata(g) { obj in
            var a = obj["arrays"] as? [String: Any] ?? [:]
            a["visit_time"] = a["visit_id"]
            obj["arrays"] = a
        }, "overlap")
        expectBad(try withMetadata(g) { obj in
            var a = obj["arrays"] as? [String: Any] ?? [:]
            a["diagnosis"] = ["dtype": "f32", "count": 1, "offset": 0]
            obj["arrays"] = a
        }, "dtype f32")
        expectBad(try withMetadata(g) { obj in
            var c = obj["counts"] as? [String: Any] ?? [:]
            c["patients"] = 1_000_000_000
            obj["counts"] = c
        }, "entries, expected")
        expectBad(try withMetadata(g) { obj in
            var cfg = obj["config"] as? [String: Any] ?? [:]
            cfg["split"] = "bogus"
            obj["config"] = cfg
        }, "split must be")
        expectBad(try withMetadata(g) { obj in
            var v = obj["medications"] as? [String: Any] ?? [:]
            v["titles"] = ["only one"]
            obj["medications"] = v
        }, "differ in length")
        expectBad(try withMetadata(g) { obj in
            var p = obj["profile"] as? [String: Any] ?? [:]
            var fields = p["fields"] as? [[String: Any]] ?? []
            fields[0]["values"] = ["MALE"]
            p["fields"] = fields
            obj["profile"] = p
        }, "first value must be")
    }

    @Test func outOfRangeIdsAndOffsets() throws {
        let g = try Self.good()
        expectBad(try withData(g, array: "diagnosis", index: 0, width: 4, value: 1_000_000), "outside the vocabulary")
        expectBad(try withData(g, array: "medication", index: 1, width: 4, value: -1), "outside the vocabulary")
        expectBad(try withData(g, array: "diagnosis_offset", index: 1, width: 8, value: 1 << 40), "out of order or range")
        expectBad(try withData(g, array: "patient_visit_offset", index: 0, width: 8, value: 1), "must start at 0")
        expectBad(try withData(g, array: "patient_visit_offset", index: 2, width: 8, value: 3), "no visits")
        expectBad(try withData(g, array: "sample_target", index: 0, width: 4, value: 99), "out of range")
        expectBad(try withData(g, array: "sample_patient", index: 0, width: 4, value: -3), "patient index out of range")
        expectBad(try withData(g, array: "patient_split", index: 0, width: 1, value: 7), "not 0, 1 or 2")
        expectBad(try withData(g, array: "visit_profile", index: 0, width: 4, value: 50), "not a label")
    }

    @Test func randomByteFlipsNeverTrap() throws {
        let g = try Self.good()
        var rng = SplitMix64(seed: 1)
        for _ in 0..<300 {
            var b = g
            let i = Int(rng.next() % UInt64(b.count))
            b[i] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            // Which check catches a flip depends on where it lands; every one is a bad-file or incompatible
            // error naming the file, never a trap and never a silently accepted file.
            do {
                _ = try LDataFile.decode(b, name: "flip.ldata")
                Issue.record("a flipped byte at \(i) was accepted")
            } catch {
                #expect(error.kind == .badFile || error.kind == .incompatible, "byte \(i): \(error.kind)")
                #expect(error.message.hasPrefix("flip.ldata: "), "byte \(i): \(error.message)")
            }
        }
    }
}

import CLeaderIO
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `.ldata` prepared-dataset file (layout in `docs/ldata-format.md`): a 40-byte header, JSON metadata
/// (vocabularies, titles, profile encoders, config, report, array table), then little-endian arrays in CSR form.
/// Writes are atomic (temp file, fsync, rename). Reads validate every size, offset, id and index with checked
/// arithmetic and never trap on bad bytes.
public enum LDataFile {
    public static let magic: [UInt8] = Array("LEADERDS".utf8)
    public static let version: UInt32 = 1
    public static let headerSize = 40
    /// Metadata larger than this is rejected before parsing (1 GiB).
    public static let maxMetadata = 1 << 30

    struct ArrayEntry: Codable, Equatable {
        var dtype: String
        var count: Int
        var offset: Int
    }

    struct Counts: Codable, Equatable {
        var patients: Int
        var visits: Int
        var samples: Int
    }

    struct Metadata: Codable {
        var format: String
        var format_version: Int
        var library_version: String
        var source: String
        var config: PrepareConfig
        var report: PreparationReport
        var diagnoses: Vocabulary
        var procedures: Vocabulary
        var medications: Vocabulary
        var profile: ProfileSchema
        var counts: Counts
        var arrays: [String: ArrayEntry]
    }

    // MARK: - Write

    /// The bytes of `d` in `.ldata` form.
    public static func encode(_ d: PreparedDataset) throws(LeaderError) -> [UInt8] {
        let c = d.cohort
        var data: [UInt8] = []
        var table: [String: ArrayEntry] = [:]
        func pad() { while data.count % 8 != 0 { data.append(0) } }
        func put64(_ name: String, _ xs: [Int64]) {
            pad()
            table[name] = ArrayEntry(dtype: "i64", count: xs.count, offset: data.count)
            data.reserveCapacity(data.count + xs.count * 8)
            for x in xs { withUnsafeBytes(of: x.littleEndian) { data.append(contentsOf: $0) } }
        }
        func put32(_ name: String, _ xs: [Int32]) {
            pad()
            table[name] = ArrayEntry(dtype: "i32", count: xs.count, offset: data.count)
            data.reserveCapacity(data.count + xs.count * 4)
            for x in xs { withUnsafeBytes(of: x.littleEndian) { data.append(contentsOf: $0) } }
        }
        func put8(_ name: String, _ xs: [UInt8]) {
            pad()
            table[name] = ArrayEntry(dtype: "u8", count: xs.count, offset: data.count)
            data.append(contentsOf: xs)
        }
        let visits = c.patients.flatMap(\.visits)
        var pOff: [Int64] = [0]
        for p in c.patients { pOff.append(pOff[pOff.count - 1] + Int64(p.visits.count)) }
        put64("patient_id", c.patients.map(\.id))
        put64("patient_visit_offset", pOff)
        put8("patient_split", d.split.map(\.rawValue))
        put64("visit_id", visits.map(\.id))
        put64("visit_time", visits.map(\.time))
        for kind in CodeKind.allCases {
            var off: [Int64] = [0]
            var vals: [Int32] = []
            for v in visits {
                vals += v.codes(kind)
                off.append(Int64(vals.count))
            }
            put64("\(kind.rawValue)_offset", off)
            put32(kind.rawValue, vals)
        }
        put32("visit_profile", visits.flatMap(\.profile))
        put32("sample_patient", d.samples.map(\.patient))
        put32("sample_target", d.samples.map(\.targetVisit))
        put32("sample_history_start", d.samples.map(\.historyStart))
        pad()
        let meta = Metadata(format: "leader-data", format_version: Int(version), library_version: "\(LeaderVersion.string)",
                            source: c.source, config: d.config, report: c.report, diagnoses: c.diagnoses,
                            procedures: c.procedures, medications: c.medications, profile: c.profile,
                            counts: Counts(patients: c.patients.count, visits: visits.count, samples: d.samples.count),
                            arrays: table)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        var json: [UInt8]
        do { json = Array(try enc.encode(meta)) } catch {
            throw .internalError("ldata: cannot encode metadata")
        }
        while json.count % 8 != 0 { json.append(0x20) }
        var out: [UInt8] = magic
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        u32(version)
        u32(0)
        u64(UInt64(json.count))
        u64(UInt64(data.count))
        var crc = json.withUnsafeBufferPointer { lio_crc32(0, $0.baseAddress, $0.count) }
        crc = data.withUnsafeBufferPointer { lio_crc32(crc, $0.baseAddress, $0.count) }
        u32(crc)
        u32(0)
        out += json
        out += data
        return out
    }

    /// Writes `d` to `path` atomically.
    public static func write(_ d: PreparedDataset, to path: String) throws(LeaderError) {
        let bytes = try encode(d)
        try AtomicFile.replace(path) { (tmp: String) throws(LeaderError) in
            guard let f = fopen(tmp, "wb") else { throw .io("\(path): cannot create: \(SystemError.text(errno))") }
            let n = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, f) }
            let ok = n == bytes.count && fflush(f) == 0
            let code = errno
            fclose(f)
            guard ok else { throw .io("\(path): write failed: \(SystemError.text(code))") }
        }
    }

    // MARK: - Read

    /// Reads and validates `path`.
    public static func read(_ path: String) throws(LeaderError) -> PreparedDataset {
        try decode(try FileBytes.read(path, limit: Int.max), name: path)
    }

    /// Validates and decodes `.ldata` bytes; `name` is used in messages.
    public static func decode(_ b: [UInt8], name: String) throws(LeaderError) -> PreparedDataset {
        func bad(_ m: String) -> LeaderError { .badFile("\(name): \(m)") }
        guard b.count >= headerSize else { throw bad("truncated: \(b.count) bytes, a header needs \(headerSize)") }
        guard Array(b[0..<8]) == magic else { throw bad("not a leader data file (bad magic)") }
        func u32(_ o: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(b[o + $1]) << (8 * $1) } }
        func u64(_ o: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(b[o + $1]) << (8 * $1) } }
        let ver = u32(8)
        guard ver == version else {
            throw .incompatible("\(name): format version \(ver), this library reads version \(version)")
        }
        guard u32(12) == 0 else { throw .incompatible("\(name): unknown header flags \(u32(12))") }
        guard u32(36) == 0 else { throw bad("reserved header bytes are not zero") }
        let metaLen = u64(16), dataLen = u64(24), crcStored = u32(32)
        guard metaLen <= UInt64(maxMetadata), metaLen <= UInt64(b.count) else {
            throw bad("metadata length \(metaLen) exceeds the file (\(b.count) bytes)")
        }
        guard dataLen <= UInt64(b.count) else { throw bad("data length \(dataLen) exceeds the file (\(b.count) bytes)") }
        let end = try Checked.sum(try Checked.sum(headerSize, Int(metaLen), "\(name): metadata end"), Int(dataLen),
                                  "\(name): data end")
        guard end == b.count else {
            throw bad(end > b.count ? "truncated: header says \(end) bytes, file has \(b.count)"
                      : "\(b.count - end) trailing bytes after the data section")
        }
        let dataStart = headerSize + Int(metaLen)
        let crc = b.withUnsafeBufferPointer { lio_crc32(0, $0.baseAddress.map { $0 + headerSize }, end - headerSize) }
        guard crc == crcStored else { throw bad("checksum mismatch (file corrupted)") }
        let meta: Metadata
        do {
            meta = try JSONDecoder().decode(Metadata.self, from: Data(b[headerSize..<dataStart]))
        } catch let e as LeaderError {
            throw bad("metadata: \(e.message)")
        } catch let e as DecodingError {
            throw bad("metadata JSON invalid (\(LDataFile.describe(e)))")
        } catch {
            throw bad("metadata JSON invalid")
        }
        guard meta.format == "leader-data", meta.format_version == Int(version) else {
            throw bad("metadata format '\(meta.format)' version \(meta.format_version) is not leader-data \(version)")
        }
        let dataCount = Int(dataLen)
        // Array table: types, bounds, no overlaps.
        let expected: [(String, String)] = [
            ("patient_id", "i64"), ("patient_visit_offset", "i64"), ("patient_split", "u8"), ("visit_id", "i64"),
            ("visit_time", "i64"), ("diagnosis_offset", "i64"), ("diagnosis", "i32"), ("procedure_offset", "i64"),
            ("procedure", "i32"), ("medication_offset", "i64"), ("medication", "i32"), ("visit_profile", "i32"),
            ("sample_patient", "i32"), ("sample_target", "i32"), ("sample_history_start", "i32"),
        ]
        var spans: [(Int, Int, String)] = []
        for (n, t) in expected {
            guard let e = meta.arrays[n] else { throw bad("array '\(n)' missing") }
            guard e.dtype == t else { throw bad("array '\(n)': dtype \(e.dtype), expected \(t)") }
            guard e.count >= 0, e.offset >= 0 else { throw bad("array '\(n)': negative count or offset") }
            let width = t == "i64" ? 8 : (t == "i32" ? 4 : 1)
            let bytes = try Checked.product(e.count, width, "\(name): array '\(n)' size")
            let stop = try Checked.sum(e.offset, bytes, "\(name): array '\(n)' end")
            guard stop <= dataCount else { throw bad("array '\(n)': offset \(e.offset) + \(bytes) bytes out of range") }
            spans.append((e.offset, stop, n))
        }
        spans.sort { $0.0 < $1.0 }
        for i in 1..<spans.count where spans[i].0 < spans[i - 1].1 {
            throw bad("arrays '\(spans[i - 1].2)' and '\(spans[i].2)' overlap")
        }
        func i64(_ n: String) -> [Int64] {
            let e = meta.arrays[n] ?? ArrayEntry(dtype: "", count: 0, offset: 0)
            return (0..<e.count).map { k in
                let o = dataStart + e.offset + 8 * k
                return Int64(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[o + $1]) << (8 * $1) })
            }
        }
        func i32(_ n: String) -> [Int32] {
            let e = meta.arrays[n] ?? ArrayEntry(dtype: "", count: 0, offset: 0)
            return (0..<e.count).map { k in
                let o = dataStart + e.offset + 4 * k
                return Int32(bitPattern: UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16
                    | UInt32(b[o + 3]) << 24)
            }
        }
        let P = meta.counts.patients, V = meta.counts.visits, S = meta.counts.samples
        func count(_ n: String, _ want: Int) throws(LeaderError) {
            let have = meta.arrays[n]?.count ?? -1
            guard have == want else { throw bad("array '\(n)': \(have) entries, expected \(want)") }
        }
        guard P >= 0, V >= 0, S >= 0 else { throw bad("negative counts") }
        try count("patient_id", P)
        try count("patient_visit_offset", try Checked.sum(P, 1, "\(name): patients"))
        try count("patient_split", P)
        try count("visit_id", V)
        try count("visit_time", V)
        for k in CodeKind.allCases { try count("\(k.rawValue)_offset", try Checked.sum(V, 1, "\(name): visits")) }
        let F = meta.profile.fields.count
        try count("visit_profile", try Checked.product(V, F, "\(name): profile size"))
        for n in ["sample_patient", "sample_target", "sample_history_start"] { try count(n, S) }
        for f in meta.profile.fields where f.values.first != ProfileSchema.unknown {
            throw bad("profile field '\(f.name)': first value must be '\(ProfileSchema.unknown)'")
        }

        func offsets(_ n: String, total: Int) throws(LeaderError) -> [Int] {
            let raw = i64(n)
            guard raw.first == 0, raw.last.map({ Int($0) }) == total else {
                throw bad("array '\(n)': must start at 0 and end at \(total)")
            }
            var out = [Int](repeating: 0, count: raw.count)
            for i in 0..<raw.count {
                guard raw[i] >= 0, raw[i] <= Int64(total), i == 0 || raw[i] >= raw[i - 1] else {
                    throw bad("array '\(n)': entry \(i) out of order or range")
                }
                out[i] = Int(raw[i])
            }
            return out
        }
        let pOff = try offsets("patient_visit_offset", total: V)
        let ids = i64("patient_id"), vids = i64("visit_id"), vtimes = i64("visit_time")
        let prof = i32("visit_profile")
        for (i, x) in prof.enumerated() where x < 0 || Int(x) >= meta.profile.fields[i % max(F, 1)].values.count {
            throw bad("array 'visit_profile': entry \(i) is not a label of field '\(meta.profile.fields[i % max(F, 1)].name)'")
        }
        var codes: [[[Int32]]] = []
        for (kind, vocab) in [(CodeKind.diagnosis, meta.diagnoses), (.procedure, meta.procedures),
                              (.medication, meta.medications)] {
            guard vocab.kind == kind else { throw bad("vocabulary '\(kind.rawValue)' has kind '\(vocab.kind.rawValue)'") }
            let vals = i32(kind.rawValue)
            let off = try offsets("\(kind.rawValue)_offset", total: vals.count)
            for (i, x) in vals.enumerated() where x < 0 || Int(x) >= vocab.count {
                throw bad("array '\(kind.rawValue)': entry \(i) is outside the vocabulary (\(vocab.count) codes)")
            }
            codes.append((0..<V).map { Array(vals[off[$0]..<off[$0 + 1]]) })
        }
        var patients: [Patient] = []
        patients.reserveCapacity(P)
        for p in 0..<P {
            guard pOff[p + 1] > pOff[p] else { throw bad("patient \(p) has no visits") }
            let visits = (pOff[p]..<pOff[p + 1]).map { v in
                Visit(id: vids[v], time: vtimes[v], diagnoses: codes[0][v], procedures: codes[1][v],
                      medications: codes[2][v], profile: Array(prof[(v * F)..<(v * F + F)]))
            }
            patients.append(Patient(id: ids[p], visits: visits))
        }
        let sp = i32("sample_patient"), st = i32("sample_target"), sh = i32("sample_history_start")
        var samples: [Sample] = []
        samples.reserveCapacity(S)
        for i in 0..<S {
            guard sp[i] >= 0, Int(sp[i]) < P else { throw bad("sample \(i): patient index out of range") }
            let nv = patients[Int(sp[i])].visits.count
            guard st[i] >= 0, Int(st[i]) < nv, sh[i] >= 0, sh[i] <= st[i] else {
                throw bad("sample \(i): target or history index out of range")
            }
            samples.append(Sample(patient: sp[i], targetVisit: st[i], historyStart: sh[i]))
        }
        var split: [SplitPart] = []
        split.reserveCapacity(P)
        let e = meta.arrays["patient_split"] ?? ArrayEntry(dtype: "", count: 0, offset: 0)
        for i in 0..<P {
            guard let part = SplitPart(rawValue: b[dataStart + e.offset + i]) else {
                throw bad("array 'patient_split': entry \(i) is not 0, 1 or 2")
            }
            split.append(part)
        }
        let cohort = Cohort(source: meta.source, diagnoses: meta.diagnoses, procedures: meta.procedures,
                            medications: meta.medications, profile: meta.profile, patients: patients, report: meta.report)
        return PreparedDataset(config: meta.config, cohort: cohort, samples: samples, split: split)
    }

    static func describe(_ e: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "top level" : "at \(p)"
        }
        switch e {
        case .keyNotFound(let k, let c): return "missing key '\(k.stringValue)' \(path(c))"
        case .typeMismatch(_, let c): return "wrong type \(path(c))"
        case .valueNotFound(_, let c): return "missing value \(path(c))"
        case .dataCorrupted(let c): return "not JSON \(path(c))"
        @unknown default: return "undecodable"
        }
    }
}

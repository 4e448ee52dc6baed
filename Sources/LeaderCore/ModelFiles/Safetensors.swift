#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FoundationEssentials

/// Element types of the safetensors format, with their sizes in bytes.
public enum SafetensorsDType: String, Sendable, CaseIterable, Codable {
    case bool = "BOOL", u8 = "U8", i8 = "I8", f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3", i16 = "I16", u16 = "U16"
    case f16 = "F16", bf16 = "BF16", i32 = "I32", u32 = "U32", f32 = "F32", f64 = "F64", i64 = "I64", u64 = "U64"

    public var size: Int {
        switch self {
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3: return 1
        case .i16, .u16, .f16, .bf16: return 2
        case .i32, .u32, .f32: return 4
        case .f64, .i64, .u64: return 8
        }
    }

    /// The model-tensor dtype for the floating types the model readers accept (F32, F16, BF16).
    public var tensorDType: TensorDType? {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        default: return nil
        }
    }

    public init?(_ t: TensorDType) {
        switch t {
        case .f32: self = .f32
        case .f16: self = .f16
        case .bf16: self = .bf16
        case .q8_0, .q4_0, .q4_1: return nil
        }
    }
}

/// One tensor of a safetensors header, validated.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: SafetensorsDType
    /// Row-major shape.
    public let shape: [Int]
    /// Byte range inside the data section (`data_offsets`).
    public let offsets: Range<Int>
}

/// A safetensors file, memory-mapped and validated as untrusted input, following the reference
/// implementation's rules: u64 little-endian header length N ≤ 100 MB (`maxHeaderBytes`); N bytes of UTF-8
/// JSON starting with `{`, mapping tensor names to `{dtype, shape, data_offsets}` and the optional
/// `__metadata__` to a string → string map; then the data section. Every tensor's byte size is
/// dtype size × product(shape) with overflow checks and must equal its `data_offsets` span; sorted by offset
/// the tensors must start at 0, follow each other with no gap or overlap, and end exactly at the end of the
/// file (full coverage). Any failure is `LeaderError.badFile` naming the file and the tensor.
public struct SafetensorsFile: Sendable {
    public static let maxHeaderBytes = 100_000_000

    public let file: MappedFile
    /// `__metadata__` (empty when absent).
    public let metadata: [String: String]
    /// Tensors in data order.
    public let tensors: [SafetensorsTensorInfo]
    /// Absolute offset of the data section: 8 + header length.
    public let dataOffset: Int
    private let index: [String: Int]

    public init(path: String) throws(LeaderError) {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws(LeaderError) {
        self.file = file
        let path = file.path
        let (n, header) = try file.withUnsafeBytes { (b) throws(LeaderError) -> (Int, Data) in
            var c = ByteCursor(b, file: path)
            let n = try c.count("header length", limit: SafetensorsFile.maxHeaderBytes)
            guard n <= c.remaining else {
                throw .badFile("\(path): header length \(n) exceeds the \(c.remaining) bytes after it (truncated?)")
            }
            let h = try c.raw(n, "header")
            guard h.first == UInt8(ascii: "{") else { throw .badFile("\(path): header does not start with '{'") }
            guard String(validating: h, as: UTF8.self) != nil else { throw .badFile("\(path): header is not UTF-8") }
            return (n, Data(h))
        }
        let decoded: [String: HeaderEntry]
        do {
            decoded = try JSONDecoder().decode([String: HeaderEntry].self, from: header)
        } catch let e as LeaderError {
            throw e.prefixed(path)
        } catch {
            throw .badFile("\(path): header is not valid safetensors JSON (\(error))")
        }
        dataOffset = 8 + n
        let dataSize = file.count - dataOffset
        var meta: [String: String] = [:]
        var infos: [SafetensorsTensorInfo] = []
        for (name, entry) in decoded {
            switch entry {
            case .metadata(let m): meta = m
            case .tensor(let dtypeName, let shape, let offsets):
                let what = "\(path): tensor '\(name)'"
                guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
                    throw .badFile("\(what): unknown dtype '\(dtypeName)'")
                }
                guard offsets.count == 2 else {
                    throw .badFile("\(what): data_offsets has \(offsets.count) entries, expected 2")
                }
                let (begin, end) = (offsets[0], offsets[1])
                guard begin >= 0, begin <= end else {
                    throw .badFile("\(what): data_offsets [\(begin), \(end)] are not an increasing pair")
                }
                var bytes = dtype.size
                for d in shape {
                    guard d >= 0 else { throw .badFile("\(what): negative dimension \(d) in shape \(shape)") }
                    let (p, o) = bytes.multipliedReportingOverflow(by: d)
                    guard !o else { throw .badFile("\(what): shape \(shape) × \(dtype.size) bytes overflows Int") }
                    bytes = p
                }
                guard end - begin == bytes else {
                    throw .badFile("\(what): \(dtype.rawValue) \(shape) needs \(bytes) bytes but data_offsets "
                        + "[\(begin), \(end)] span \(end - begin)")
                }
                infos.append(SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, offsets: begin..<end))
            }
        }
        infos.sort { ($0.offsets.lowerBound, $0.offsets.upperBound, $0.name) < ($1.offsets.lowerBound, $1.offsets.upperBound, $1.name) }
        var expected = 0
        for t in infos {
            if t.offsets.lowerBound > expected {
                throw .badFile("\(path): tensor '\(t.name)' starts at \(t.offsets.lowerBound): a gap of "
                    + "\(t.offsets.lowerBound - expected) bytes after offset \(expected)")
            }
            if t.offsets.lowerBound < expected {
                throw .badFile("\(path): tensor '\(t.name)' at \(t.offsets.lowerBound) overlaps the tensor "
                    + "before it (which ends at \(expected))")
            }
            expected = t.offsets.upperBound
        }
        if expected > dataSize {
            throw .badFile("\(path): tensors need \(expected) data bytes but the file has \(dataSize) (truncated?)")
        }
        if expected < dataSize {
            throw .badFile("\(path): \(dataSize - expected) bytes after the last tensor are not covered by the header")
        }
        metadata = meta
        tensors = infos
        var idx: [String: Int] = [:]
        for (i, t) in infos.enumerated() { idx[t.name] = i }
        index = idx
    }

    public var tensorNames: [String] { tensors.map(\.name) }

    public func info(_ name: String) -> SafetensorsTensorInfo? { index[name].map { tensors[$0] } }

    /// The raw bytes of tensor `name` (any dtype); `.badFile` when missing.
    public func bytes(_ name: String) throws(LeaderError) -> [UInt8] {
        guard let t = info(name) else { throw .badFile("\(file.path): tensor '\(name)' is missing") }
        return file.bytes(in: (dataOffset + t.offsets.lowerBound)..<(dataOffset + t.offsets.upperBound))
    }

    /// Tensor `name` as model-tensor data; F32, F16 and BF16 only (others are `.incompatible`). Data of other
    /// writers may be unaligned: read it with unaligned loads or copy it.
    public func tensor(_ name: String) throws(LeaderError) -> TensorData {
        guard let t = info(name) else { throw .badFile("\(file.path): tensor '\(name)' is missing") }
        guard let dtype = t.dtype.tensorDType else {
            throw .incompatible("\(file.path): tensor '\(name)' has dtype \(t.dtype.rawValue); F32, F16 and BF16 are supported")
        }
        return TensorData(name: name, dtype: dtype, shape: t.shape, file: file,
                          range: (dataOffset + t.offsets.lowerBound)..<(dataOffset + t.offsets.upperBound))
    }

    private enum HeaderEntry: Decodable {
        case metadata([String: String])
        case tensor(dtype: String, shape: [Int], offsets: [Int])

        enum Keys: String, CodingKey { case dtype, shape, dataOffsets = "data_offsets" }
        struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: Decoder) throws {
            if decoder.codingPath.last?.stringValue == "__metadata__" {
                self = .metadata(try decoder.singleValueContainer().decode([String: String].self))
                return
            }
            let c = try decoder.container(keyedBy: Keys.self)
            guard try decoder.container(keyedBy: AnyKey.self).allKeys.count == 3 else {
                throw LeaderError.badFile("tensor '\(decoder.codingPath.last?.stringValue ?? "?")': expected exactly "
                    + "the keys dtype, shape, data_offsets")
            }
            self = .tensor(dtype: try c.decode(String.self, forKey: .dtype), shape: try c.decode([Int].self, forKey: .shape),
                           offsets: try c.decode([Int].self, forKey: .dataOffsets))
        }
    }
}

/// One tensor to write: name, dtype, shape and exactly dtype size × product(shape) little-endian bytes.
public struct SafetensorsTensor: Sendable {
    public var name: String
    public var dtype: SafetensorsDType
    public var shape: [Int]
    public var bytes: [UInt8]

    public init(name: String, dtype: SafetensorsDType, shape: [Int], bytes: [UInt8]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// An F32 tensor from values (stored little-endian).
    public init(name: String, shape: [Int], floats: [Float]) {
        var b = [UInt8]()
        b.reserveCapacity(floats.count * 4)
        for f in floats { withUnsafeBytes(of: f.bitPattern.littleEndian) { b.append(contentsOf: $0) } }
        self.init(name: name, dtype: .f32, shape: shape, bytes: b)
    }
}

public enum SafetensorsWriter {
    /// Writes `tensors` and `metadata` to `path` atomically: the file is written as `path.tmp-<pid>`,
    /// fsynced, renamed over `path`, and the directory fsynced, so a reader sees the old file or the whole new
    /// one. Tensors are laid out by descending dtype size, then name; the header is padded with spaces to a
    /// multiple of 8 so every tensor is naturally aligned. Bad input (duplicate or empty names, byte counts
    /// that do not match the shape) is `.invalidArgument`; I/O failures are `.io`.
    public static func write(_ tensors: [SafetensorsTensor], metadata: [String: String] = [:],
                             to path: String) throws(LeaderError) {
        var seen = Set<String>()
        for t in tensors {
            guard !t.name.isEmpty, t.name != "__metadata__" else {
                throw .invalidArgument("safetensors writer: invalid tensor name '\(t.name)'")
            }
            guard seen.insert(t.name).inserted else {
                throw .invalidArgument("safetensors writer: tensor '\(t.name)' appears twice")
            }
            var n = t.dtype.size
            for d in t.shape { n = try Checked.product(n, d, "safetensors writer: tensor '\(t.name)' size") }
            guard n == t.bytes.count else {
                throw .invalidArgument("safetensors writer: tensor '\(t.name)' \(t.dtype.rawValue) \(t.shape) needs "
                    + "\(n) bytes, got \(t.bytes.count)")
            }
        }
        let ordered = tensors.sorted { ($0.dtype.size, $1.name) > ($1.dtype.size, $0.name) }
        var json = "{"
        var parts: [String] = []
        if !metadata.isEmpty {
            let m = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0] ?? ""))" }
            parts.append("\"__metadata__\":{\(m.joined(separator: ","))}")
        }
        var offset = 0
        for t in ordered {
            let end = offset + t.bytes.count
            parts.append("\(jsonString(t.name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":["
                + t.shape.map(String.init).joined(separator: ",") + "],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        json += parts.joined(separator: ",") + "}"
        var header = Array(json.utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        guard header.count <= SafetensorsFile.maxHeaderBytes else {
            throw .invalidArgument("safetensors writer: header of \(header.count) bytes exceeds the 100 MB limit")
        }

        var prefix = [UInt8]()
        prefix.reserveCapacity(8 + header.count)
        for i in 0..<8 { prefix.append(UInt8(truncatingIfNeeded: UInt64(header.count) >> (8 * UInt64(i)))) }
        prefix.append(contentsOf: header)
        try AtomicFile.replace(path) { (tmp: String) throws(LeaderError) in
            let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw .io("\(tmp): cannot create: \(SystemError.text(errno))") }
            var closed = false
            defer { if !closed { close(fd) } }
            try writeAll(fd, prefix, tmp)
            for t in ordered { try writeAll(fd, t.bytes, tmp) }
            closed = true
            guard close(fd) == 0 else { throw .io("\(tmp): close failed: \(SystemError.text(errno))") }
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], _ path: String) throws(LeaderError) {
        let failure: Int32? = bytes.withUnsafeBytes { b -> Int32? in
            var done = 0
            while done < b.count {
                let n = Glibc.write(fd, b.baseAddress.map { $0 + done }, b.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                done += n
            }
            return nil
        }
        if let e = failure { throw .io("\(path): write failed: \(SystemError.text(e))") }
    }

    /// A JSON string literal for `s`.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}

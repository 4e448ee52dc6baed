/// One entry of a GGUF tensor table, validated against the file.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// GGUF order: fastest-varying dimension first (`[in, out]` for a linear weight).
    public let dims: [Int]
    public let dtype: TensorDType
    /// Offset of the data from the start of the data section (a multiple of the alignment).
    public let offset: Int
    /// Size of the data in bytes, computed from `dims` and the dtype's block layout.
    public let byteCount: Int

    /// Row-major shape, slowest dimension first (`[out, in]` for a linear weight): `dims` reversed.
    public var shape: [Int] { dims.reversed() }
}

/// A GGUF (v2 or v3) model file, memory-mapped and validated as untrusted input.
///
/// Layout (little-endian): magic `GGUF`, u32 version, u64 tensor count, u64 metadata count; metadata as
/// (string key, u32 type, value); tensor infos as (string name, u32 n_dims, u64 dims[n_dims], u32 ggml type,
/// u64 offset); padding to `general.alignment` (default 32); the data section. Strings are a u64 length and
/// UTF-8 bytes; arrays a u32 element type, a u64 count and the elements.
///
/// Every count is bounded by the bytes left in the file before anything is allocated, every size is computed
/// with overflow checks, every tensor must be aligned, inside the data section and not overlap another. Any
/// failure is `LeaderError.badFile` naming the file and the field; a version or tensor type this library does
/// not read is `LeaderError.incompatible`.
public struct GGUFFile: Sendable {
    public static let defaultAlignment = 32
    /// Longest tensor name accepted (the GGUF spec says 64; some writers are looser).
    public static let maxNameBytes = 255
    /// Longest metadata key or string accepted (a long chat template fits easily).
    public static let maxStringBytes = 1 << 24
    public static let maxDims = 4
    static let maxArrayDepth = 3

    public let file: MappedFile
    public let version: UInt32
    /// Metadata values by key.
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Tensor infos in file order.
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// Absolute offset of the data section in the file.
    public let dataOffset: Int
    private let index: [String: Int]

    /// Maps and validates the GGUF file at `path`.
    public init(path: String) throws(LeaderError) {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws(LeaderError) {
        self.file = file
        let parsed = try file.withUnsafeBytes { (b) throws(LeaderError) -> Parsed in
            try GGUFFile.parse(b, path: file.path)
        }
        version = parsed.version
        metadata = parsed.metadata
        metadataKeys = parsed.keys
        tensors = parsed.tensors
        alignment = parsed.alignment
        dataOffset = parsed.dataOffset
        var index: [String: Int] = [:]
        for (i, t) in parsed.tensors.enumerated() { index[t.name] = i }
        self.index = index
    }

    /// The names of all tensors, in file order.
    public var tensorNames: [String] { tensors.map(\.name) }

    public func info(_ name: String) -> GGUFTensorInfo? { index[name].map { tensors[$0] } }

    /// The data of tensor `name`, or `.badFile` if the file has no such tensor.
    public func tensor(_ name: String) throws(LeaderError) -> TensorData {
        guard let t = info(name) else { throw .badFile("\(file.path): tensor '\(name)' is missing") }
        let start = dataOffset + t.offset  // validated: inside the file
        return TensorData(name: t.name, dtype: t.dtype, shape: t.shape, file: file,
                          range: start..<(start + t.byteCount))
    }

    // MARK: Typed metadata access

    /// Metadata `key` as an integer, or `.badFile` when missing or not an integer.
    public func int(_ key: String) throws(LeaderError) -> Int {
        guard let v = metadata[key] else { throw .badFile("\(file.path): metadata '\(key)' is missing") }
        guard let i = v.int else { throw .badFile("\(file.path): metadata '\(key)' is \(v.type), expected an integer") }
        return i
    }

    public func double(_ key: String) throws(LeaderError) -> Double {
        guard let v = metadata[key] else { throw .badFile("\(file.path): metadata '\(key)' is missing") }
        guard let d = v.double else { throw .badFile("\(file.path): metadata '\(key)' is \(v.type), expected a number") }
        return d
    }

    public func string(_ key: String) throws(LeaderError) -> String {
        guard let v = metadata[key] else { throw .badFile("\(file.path): metadata '\(key)' is missing") }
        guard let s = v.string else { throw .badFile("\(file.path): metadata '\(key)' is \(v.type), expected a string") }
        return s
    }

    public func strings(_ key: String) throws(LeaderError) -> [String] {
        guard let v = metadata[key] else { throw .badFile("\(file.path): metadata '\(key)' is missing") }
        guard let s = v.strings else { throw .badFile("\(file.path): metadata '\(key)' is not an array of strings") }
        return s
    }

    public func ints(_ key: String) throws(LeaderError) -> [Int] {
        guard let v = metadata[key] else { throw .badFile("\(file.path): metadata '\(key)' is missing") }
        guard let s = v.ints else { throw .badFile("\(file.path): metadata '\(key)' is not an array of integers") }
        return s
    }

    // MARK: Parsing

    private struct Parsed {
        var version: UInt32
        var metadata: [String: GGUFValue]
        var keys: [String]
        var tensors: [GGUFTensorInfo]
        var alignment: Int
        var dataOffset: Int
    }

    private static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws(LeaderError) -> Parsed {
        var c = ByteCursor(bytes, file: path)
        let magic = try c.raw(4, "magic")
        guard magic.elementsEqual("GGUF".utf8) else {
            throw .badFile("\(path): not a GGUF file (magic is \(Array(magic)), expected \"GGUF\")")
        }
        let version = try c.u32("version")
        guard version == 2 || version == 3 else {
            throw .incompatible("\(path): GGUF version \(version) is not supported (2 and 3 are)")
        }
        // Each tensor info takes at least 32 bytes, each key/value pair at least 13.
        let nTensors = try c.count("tensor count", limit: c.remaining / 32)
        let nKV = try c.count("metadata count", limit: c.remaining / 13)

        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        keys.reserveCapacity(nKV)
        for i in 0..<nKV {
            let key = try readString(&c, "metadata key #\(i)", max: maxNameBytes * 4)
            guard metadata[key] == nil else { throw .badFile("\(path): metadata '\(key)' appears twice") }
            let rawType = try c.u32("metadata '\(key)': type")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw .badFile("\(path): metadata '\(key)': unknown value type \(rawType)")
            }
            metadata[key] = try readValue(&c, type, "metadata '\(key)'", depth: 0)
            keys.append(key)
        }

        var alignment = defaultAlignment
        if let a = metadata["general.alignment"] {
            guard case .uint32(let v) = a else {
                throw .badFile("\(path): metadata 'general.alignment' is \(a.type), expected uint32")
            }
            guard v > 0, v & (v - 1) == 0 else {
                throw .badFile("\(path): metadata 'general.alignment' is \(v), expected a power of two")
            }
            alignment = Int(v)
        }

        var infos: [GGUFTensorInfo] = []
        infos.reserveCapacity(nTensors)
        var seen = Set<String>()
        for i in 0..<nTensors {
            let name = try readString(&c, "tensor #\(i): name", max: maxNameBytes)
            let what = "tensor '\(name)'"
            guard seen.insert(name).inserted else { throw .badFile("\(path): \(what) appears twice") }
            let nDims = try c.u32("\(what): n_dims")
            guard nDims >= 1, nDims <= UInt32(maxDims) else {
                throw .badFile("\(path): \(what): n_dims is \(nDims), expected 1...\(maxDims)")
            }
            var dims: [Int] = []
            var elements = 1
            for d in 0..<Int(nDims) {
                let raw = try c.u64("\(what): dim \(d)")
                guard raw <= UInt64(Int.max) else {
                    throw .badFile("\(path): \(what): dim \(d) is \(raw), which does not fit in Int")
                }
                dims.append(Int(raw))
                let (p, o) = elements.multipliedReportingOverflow(by: Int(raw))
                guard !o else { throw .badFile("\(path): \(what): dims \(dims)... overflow Int") }
                elements = p
            }
            let typeID = try c.u32("\(what): type")
            guard let dtype = TensorDType(ggufType: typeID) else {
                throw .incompatible("\(path): \(what): ggml type \(typeID) (\(TensorDType.ggmlTypeName(typeID))) "
                    + "is not supported (F32, F16, BF16, Q8_0, Q4_0, Q4_1 are)")
            }
            let offset64 = try c.u64("\(what): offset")
            guard offset64 <= UInt64(Int.max) else { throw .badFile("\(path): \(what): offset \(offset64) too large") }
            let offset = Int(offset64)
            guard offset % alignment == 0 else {
                throw .badFile("\(path): \(what): offset \(offset) is not a multiple of the alignment \(alignment)")
            }
            // Row bytes from the fastest dimension, then the remaining rows.
            let rowBytes = try dtype.rowBytes(dims[0], "\(path): \(what)")
            let rows = elements == 0 ? 0 : elements / max(dims[0], 1)
            let byteCount: Int
            do { byteCount = try Checked.product(rows, rowBytes, "\(path): \(what): byte size") }
            catch { throw .badFile(error.message) }
            infos.append(GGUFTensorInfo(name: name, dims: dims, dtype: dtype, offset: offset, byteCount: byteCount))
        }

        // The data section starts at the next multiple of the alignment.
        let headerEnd = c.offset
        let (padded, o) = headerEnd.addingReportingOverflow(alignment - 1)
        guard !o else { throw .badFile("\(path): header size overflows") }
        let dataOffset = padded / alignment * alignment
        if nTensors > 0 && dataOffset > bytes.count {
            throw .badFile("\(path): data section would start at \(dataOffset), past the end of the file "
                + "(\(bytes.count) bytes; truncated?)")
        }
        let dataSize = max(0, bytes.count - dataOffset)
        for t in infos {
            let (end, o) = t.offset.addingReportingOverflow(t.byteCount)
            guard !o, end <= dataSize else {
                throw .badFile("\(path): tensor '\(t.name)': bytes \(t.offset)..<\(t.offset &+ t.byteCount) of the "
                    + "data section lie outside it (\(dataSize) bytes; truncated?)")
            }
        }
        let byOffset = infos.sorted { ($0.offset, $0.byteCount) < ($1.offset, $1.byteCount) }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) where a.offset + a.byteCount > b.offset {
            throw .badFile("\(path): tensor '\(b.name)' (offset \(b.offset)) overlaps tensor '\(a.name)' "
                + "(offset \(a.offset), \(a.byteCount) bytes)")
        }
        return Parsed(version: version, metadata: metadata, keys: keys, tensors: infos, alignment: alignment,
                      dataOffset: dataOffset)
    }

    private static func readString(_ c: inout ByteCursor, _ what: @autoclosure () -> String,
                                   max: Int) throws(LeaderError) -> String {
        let n = try c.count("\(what()): length", limit: Swift.min(max, c.remaining))
        return try c.utf8(n, what())
    }

    private static func readValue(_ c: inout ByteCursor, _ type: GGUFValueType, _ what: @autoclosure () -> String,
                                  depth: Int) throws(LeaderError) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try c.u8(what()))
        case .int8: return .int8(Int8(bitPattern: try c.u8(what())))
        case .uint16: return .uint16(try c.load(UInt16.self, what()))
        case .int16: return .int16(Int16(bitPattern: try c.load(UInt16.self, what())))
        case .uint32: return .uint32(try c.u32(what()))
        case .int32: return .int32(Int32(bitPattern: try c.u32(what())))
        case .uint64: return .uint64(try c.u64(what()))
        case .int64: return .int64(Int64(bitPattern: try c.u64(what())))
        case .float32: return .float32(Float(bitPattern: try c.u32(what())))
        case .float64: return .float64(Double(bitPattern: try c.u64(what())))
        case .bool:
            let b = try c.u8(what())
            guard b <= 1 else { throw .badFile("\(c.file): \(what()): bool byte is \(b), expected 0 or 1") }
            return .bool(b == 1)
        case .string:
            return .string(try readString(&c, what(), max: maxStringBytes))
        case .array:
            guard depth < maxArrayDepth else {
                throw .badFile("\(c.file): \(what()): arrays nested deeper than \(maxArrayDepth)")
            }
            let rawType = try c.u32("\(what()): element type")
            guard let elementType = GGUFValueType(rawValue: rawType) else {
                throw .badFile("\(c.file): \(what()): unknown array element type \(rawType)")
            }
            let n = try c.count("\(what()): array count", limit: c.remaining / elementType.minimumBytes)
            var out: [GGUFValue] = []
            out.reserveCapacity(n)
            for i in 0..<n {
                out.append(try readValue(&c, elementType, "\(what())[\(i)]", depth: depth + 1))
            }
            return .array(elementType, out)
        }
    }
}

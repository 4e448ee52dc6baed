import CLeaderKernels

/// The element types a model tensor may have, with their block layouts (see `lk_quant.h`). Floating types
/// have one value per block; the GGUF quantised types pack 32 values per block.
public enum TensorDType: String, Sendable, CaseIterable, Codable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    case q8_0 = "Q8_0"
    case q4_0 = "Q4_0"
    case q4_1 = "Q4_1"

    /// Values per block.
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q8_0, .q4_0, .q4_1: return 32
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q8_0: return 34  // f16 d, int8 q[32]
        case .q4_0: return 18  // f16 d, uint8 qs[16]
        case .q4_1: return 20  // f16 d, f16 m, uint8 qs[16]
        }
    }

    /// The matching `LK_DTYPE_*` constant of `lk_quant.h`, for the kernels.
    public var kernelDType: Int32 {
        switch self {
        case .f32: return Int32(LK_DTYPE_F32)
        case .f16: return Int32(LK_DTYPE_F16)
        case .bf16: return Int32(LK_DTYPE_BF16)
        case .q8_0: return Int32(LK_DTYPE_Q8_0)
        case .q4_0: return Int32(LK_DTYPE_Q4_0)
        case .q4_1: return Int32(LK_DTYPE_Q4_1)
        }
    }

    /// The GGUF (`ggml_type`) id of this type.
    public var ggufType: UInt32 {
        switch self {
        case .f32: return 0
        case .f16: return 1
        case .q4_0: return 2
        case .q4_1: return 3
        case .q8_0: return 8
        case .bf16: return 30
        }
    }

    /// The type with GGUF id `id`, or nil for the types this library does not read.
    public init?(ggufType id: UInt32) {
        switch id {
        case 0: self = .f32
        case 1: self = .f16
        case 2: self = .q4_0
        case 3: self = .q4_1
        case 8: self = .q8_0
        case 30: self = .bf16
        default: return nil
        }
    }

    /// Names of ggml types this library knows but does not read, for error messages.
    static func ggmlTypeName(_ id: UInt32) -> String {
        let names: [UInt32: String] = [6: "Q5_0", 7: "Q5_1", 9: "Q8_1", 10: "Q2_K", 11: "Q3_K", 12: "Q4_K",
                                       13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS",
                                       18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S",
                                       23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64",
                                       29: "IQ1_M"]
        return names[id] ?? "unknown"
    }

    /// Bytes taken by one row of `n` values: `n` must be a multiple of the block size. Checked arithmetic.
    public func rowBytes(_ n: Int, _ what: @autoclosure () -> String) throws(LeaderError) -> Int {
        guard n >= 0 else { throw .badFile("\(what()): negative row length \(n)") }
        guard n % blockSize == 0 else {
            throw .badFile("\(what()): row length \(n) is not a multiple of the \(rawValue) block size \(blockSize)")
        }
        do { return try Checked.product(n / blockSize, blockBytes, what()) } catch { throw .badFile(error.message) }
    }
}

/// A tensor stored in a mapped model file: its dtype, its shape (row-major, slowest dimension first: a
/// linear layer's weight is `[out, in]`) and the byte range of its data inside `file`. The bytes are exactly
/// `dtype`'s encoding of `shape.product` values; nothing has been converted.
public struct TensorData: Sendable {
    public let name: String
    public let dtype: TensorDType
    public let shape: [Int]
    public let file: MappedFile
    public let range: Range<Int>

    /// Number of values (product of `shape`; validated when the file was read).
    public var elementCount: Int { shape.reduce(1, *) }

    /// The raw bytes. Valid only inside `body`.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try file.withUnsafeBytes(in: range, body)
    }

    /// A copy of the raw bytes.
    public var bytes: [UInt8] { file.bytes(in: range) }
}

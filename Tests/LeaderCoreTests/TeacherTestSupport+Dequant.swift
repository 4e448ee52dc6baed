@testable import LeaderCore

/// A test-only oracle that turns the raw bytes a reader hands out into floats (the library's own
/// dequantisation lives in the C kernels). Layouts as in lk_quant.h.
enum TestDequant {
    static func f16(_ b: UnsafeRawBufferPointer, _ at: Int) -> Float {
        Float(Float16(bitPattern: UInt16(b[at]) | UInt16(b[at + 1]) << 8))
    }

    static func values(_ t: TensorData) -> [Float] {
        t.withUnsafeBytes { b in
            var out: [Float] = []
            switch t.dtype {
            case .f32:
                for i in 0..<(b.count / 4) { out.append(Float(bitPattern: UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))) }
            case .f16:
                for i in 0..<(b.count / 2) { out.append(f16(b, 2 * i)) }
            case .bf16:
                for i in 0..<(b.count / 2) { out.append(Float(bitPattern: (UInt32(b[2 * i]) | UInt32(b[2 * i + 1]) << 8) << 16)) }
            case .q8_0:
                for blk in 0..<(b.count / 34) {
                    let d = f16(b, 34 * blk)
                    for j in 0..<32 { out.append(d * Float(Int8(bitPattern: b[34 * blk + 2 + j]))) }
                }
            case .q4_0, .q4_1:
                let size = t.dtype == .q4_0 ? 18 : 20
                let qs = t.dtype == .q4_0 ? 2 : 4
                for blk in 0..<(b.count / size) {
                    let base = size * blk
                    let d = f16(b, base)
                    let m: Float = t.dtype == .q4_1 ? f16(b, base + 2) : 0
                    var lo: [Float] = [], hi: [Float] = []
                    for j in 0..<16 {
                        let q = b[base + qs + j]
                        if t.dtype == .q4_0 {
                            lo.append(d * Float(Int(q & 0xF) - 8)); hi.append(d * Float(Int(q >> 4) - 8))
                        } else {
                            lo.append(d * Float(q & 0xF) + m); hi.append(d * Float(q >> 4) + m)
                        }
                    }
                    out += lo + hi
                }
            }
            return out
        }
    }
}

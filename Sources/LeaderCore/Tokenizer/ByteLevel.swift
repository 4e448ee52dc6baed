/// GPT-2's reversible map between bytes and printable Unicode scalars, used by byte-level BPE so that every
/// byte string is a string of visible characters: the 188 printable Latin-1 bytes map to themselves and the
/// other 68 (controls, space, 0x7F-0xA0, 0xAD) to U+0100 upward in byte order (so a space is `Ġ`, U+0120,
/// and a newline `Ċ`, U+010A).
enum ByteLevel {
    /// `scalar[b]` is the scalar standing for byte `b`.
    static let scalarForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            let value = printable ? UInt32(b) : next
            if !printable { next += 1 }
            table[b] = Unicode.Scalar(value) ?? " "  // all values are < 0x200, always valid
        }
        return table
    }()

    /// The inverse map: scalar value -> byte, for scalars below 0x144 (the largest is U+0143); -1 elsewhere.
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (b, s) in scalarForByte.enumerated() { table[Int(s.value)] = Int16(b) }
        return table
    }()

    /// The byte-level string of `bytes` (what a vocabulary entry looks like).
    static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(scalarForByte[Int(b)]) }
        return String(s)
    }

    /// Appends the bytes a byte-level token string stands for; scalars outside the map (which a well-formed
    /// vocabulary never has) are appended as their own UTF-8.
    static func decode(_ token: String, into out: inout [UInt8]) {
        for s in token.unicodeScalars {
            let v = Int(s.value)
            if v < byteForScalar.count, byteForScalar[v] >= 0 {
                out.append(UInt8(byteForScalar[v]))
            } else {
                out.append(contentsOf: String(s).utf8)
            }
        }
    }
}

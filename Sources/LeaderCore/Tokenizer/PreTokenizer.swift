/// How text is cut into words before BPE, as the `tokenizers` package does it for byte-level BPE models:
/// optionally every numeric scalar on its own (`Digits(individual_digits: true)`, SmolLM2 / StarCoder), or
/// runs of numerics (`individual_digits: false`), then GPT-2's split
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// implemented by hand over Unicode scalars (letters: general categories L*, numbers: N*, whitespace: the
/// White_Space property). Contractions are case-sensitive, as in the regex.
public struct PreTokenizer: Sendable, Equatable {
    public enum DigitSplit: String, Sendable, Codable { case none, individual, runs }

    public var digits: DigitSplit
    /// Apply the GPT-2 split (ByteLevel `use_regex`); false keeps each piece whole.
    public var gpt2Split: Bool
    /// Prepend a space to each piece that does not start with one (ByteLevel `add_prefix_space`).
    public var addPrefixSpace: Bool

    public init(digits: DigitSplit, gpt2Split: Bool = true, addPrefixSpace: Bool = false) {
        self.digits = digits
        self.gpt2Split = gpt2Split
        self.addPrefixSpace = addPrefixSpace
    }

    /// SmolLM2 / StarCoder: individual digits, then GPT-2.
    public static let smolLM = PreTokenizer(digits: .individual)
    /// Plain GPT-2.
    public static let gpt2 = PreTokenizer(digits: .none)

    enum Class: UInt8 { case letter, number, space, other }

    static let asciiClass: [Class] = (0..<128).map { b -> Class in
        switch b {
        case 0x09...0x0D, 0x20: return .space
        case 0x30...0x39: return .number
        case 0x41...0x5A, 0x61...0x7A: return .letter
        default: return .other
        }
    }

    static func classify(_ s: Unicode.Scalar) -> Class {
        if s.value < 128 { return asciiClass[Int(s.value)] }
        let p = s.properties
        if p.isWhitespace { return .space }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// Calls `word` with the UTF-8 byte range of each word of `utf8[range]`, in order. The range must start
    /// and end on scalar boundaries of valid UTF-8 (it comes from a `String`). With `addPrefixSpace`, `word`
    /// receives `true` when a space must be prepended.
    func split(_ utf8: UnsafeBufferPointer<UInt8>, _ range: Range<Int>,
               _ word: (Range<Int>, _ prefixSpace: Bool) -> Void) {
        // Decode scalars once: value, class and byte offset (one extra offset marks the end).
        var values: [UInt32] = []
        var classes: [Class] = []
        var starts: [Int] = []
        values.reserveCapacity(range.count)
        classes.reserveCapacity(range.count)
        starts.reserveCapacity(range.count + 1)
        var i = range.lowerBound
        while i < range.upperBound {
            let b0 = utf8[i]
            let len: Int
            var v: UInt32
            if b0 < 0x80 { len = 1; v = UInt32(b0) }
            else if b0 < 0xE0 { len = 2; v = UInt32(b0 & 0x1F) }
            else if b0 < 0xF0 { len = 3; v = UInt32(b0 & 0x0F) }
            else { len = 4; v = UInt32(b0 & 0x07) }
            let end = min(i + len, range.upperBound)
            var j = i + 1
            while j < end { v = (v << 6) | UInt32(utf8[j] & 0x3F); j += 1 }
            starts.append(i)
            values.append(v)
            classes.append(v < 128 ? PreTokenizer.asciiClass[Int(v)]
                           : PreTokenizer.classify(Unicode.Scalar(v) ?? "\u{FFFD}"))
            i = end
        }
        starts.append(range.upperBound)
        let n = values.count

        /// GPT-2's regex over scalars lo..<hi, emitting matches as scalar index ranges.
        func gpt2(_ lo: Int, _ hi: Int, _ emit: (Int, Int) -> Void) {
            var i = lo
            while i < hi {
                let c = values[i]
                if c == 0x27, i + 1 < hi {  // 's 't 're 've 'm 'll 'd
                    let a = values[i + 1]
                    if a == 0x73 || a == 0x74 || a == 0x6D || a == 0x64 { emit(i, i + 2); i += 2; continue }
                    if i + 2 < hi {
                        let b = values[i + 2]
                        if (a == 0x72 && b == 0x65) || (a == 0x76 && b == 0x65) || (a == 0x6C && b == 0x6C) {
                            emit(i, i + 3); i += 3; continue
                        }
                    }
                }
                // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
                var j = i
                if c == 0x20, i + 1 < hi, classes[i + 1] != .space { j = i + 1 }
                let k = classes[j]
                if k != .space {
                    var e = j + 1
                    while e < hi && classes[e] == k { e += 1 }
                    emit(i, e); i = e; continue
                }
                // `\s+(?!\S)` then `\s+`
                var e = i + 1
                while e < hi && classes[e] == .space { e += 1 }
                if e < hi && e - i >= 2 { e -= 1 }  // leave the last space to prefix the next word
                emit(i, e); i = e
            }
        }

        func emitPiece(_ lo: Int, _ hi: Int) {
            guard lo < hi else { return }
            let prefix = addPrefixSpace && values[lo] != 0x20
            if gpt2Split {
                gpt2(lo, hi) { a, b in word(starts[a]..<starts[b], prefix && a == lo) }
            } else {
                word(starts[lo]..<starts[hi], prefix)
            }
        }

        switch digits {
        case .none:
            emitPiece(0, n)
        case .individual, .runs:
            var lo = 0
            var k = 0
            while k < n {
                if classes[k] == .number {
                    emitPiece(lo, k)
                    var e = k + 1
                    if digits == .runs { while e < n && classes[e] == .number { e += 1 } }
                    emitPiece(k, e)
                    lo = e
                    k = e
                } else {
                    k += 1
                }
            }
            emitPiece(lo, n)
        }

    }
}

import FoundationEssentials

extension BPETokenizer {
    /// Reads a Hugging Face `tokenizer.json` with a byte-level BPE model: `model.vocab`, `model.merges` (as
    /// `"a b"` strings or `["a", "b"]` pairs), `model.ignore_merges`, `added_tokens`, and a pre-tokenizer
    /// made of `ByteLevel` and `Digits` (alone or in a `Sequence`). Anything else that changes ids (a
    /// normalizer, another pre-tokenizer or model type, byte fallback, dropout, stripping added tokens) is
    /// `.incompatible`; malformed JSON is `.badFile`. The post-processor is ignored: `encode` never adds
    /// BOS/EOS. `bos`/`eos`/`pad` ids are given by the caller (they live in other files, e.g. config.json).
    public init(tokenizerJSON path: String, bosID: Int32? = nil, eosID: Int32? = nil,
                padID: Int32? = nil) throws(LeaderError) {
        let file = try MappedFile(path: path)
        guard file.count <= 1 << 30 else { throw .badFile("\(path): \(file.count) bytes is too large for tokenizer.json") }
        let data = file.withUnsafeBytes { Data($0) }
        let doc: TokenizerFile
        do {
            doc = try JSONDecoder().decode(TokenizerFile.self, from: data)
        } catch let e as LeaderError {
            throw e.prefixed(path)
        } catch {
            throw .badFile("\(path): not a valid tokenizer.json: \(describe(error))")
        }
        let m = doc.model
        guard m.type == nil || m.type == "BPE" else {
            throw .incompatible("\(path): model.type '\(m.type ?? "")' is not supported (only BPE)")
        }
        guard m.byteFallback != true, m.dropout == nil, m.continuingSubwordPrefix?.isEmpty ?? true,
              m.endOfWordSuffix?.isEmpty ?? true else {
            throw .incompatible("\(path): BPE options byte_fallback / dropout / continuing_subword_prefix / "
                + "end_of_word_suffix are not supported")
        }
        // Dense ids: vocab plus added tokens must cover 0..<n exactly once.
        var byID: [Int: String] = [:]
        for (t, i) in m.vocab {
            guard i >= 0 else { throw .badFile("\(path): vocab entry '\(t)' has negative id \(i)") }
            if let other = byID[i] { throw .badFile("\(path): id \(i) is both '\(other)' and '\(t)'") }
            byID[i] = t
        }
        var added: [Int32] = []
        for a in doc.addedTokens ?? [] {
            guard a.id >= 0, a.id <= Int(Int32.max) else { throw .badFile("\(path): added token '\(a.content)' has id \(a.id)") }
            guard !(a.lstrip ?? false), !(a.rstrip ?? false), !(a.singleWord ?? false) else {
                throw .incompatible("\(path): added token '\(a.content)': lstrip/rstrip/single_word are not supported")
            }
            if let t = byID[a.id], t != a.content {
                throw .badFile("\(path): added token '\(a.content)' has id \(a.id), which the vocab gives to '\(t)'")
            }
            byID[a.id] = a.content
            added.append(Int32(a.id))
        }
        let n = byID.count
        var tokens = [String](repeating: "", count: n)
        for (i, t) in byID {
            guard i < n else { throw .badFile("\(path): ids are not dense: id \(i) with \(n) tokens") }
            tokens[i] = t
        }
        let merges = try m.merges.enumerated().map { (i, merge) throws(LeaderError) -> (String, String) in
            switch merge {
            case .pair(let a, let b): return (a, b)
            case .joined(let s):
                let parts = s.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw .badFile("\(path): model.merges[\(i)] '\(s)' is not two tokens separated by one space")
                }
                return (String(parts[0]), String(parts[1]))
            }
        }
        func lookup(_ token: String?) -> Int32? { token.flatMap { t in byID.first { $0.value == t }.map { Int32($0.key) } } }
        try self.init(tokens: tokens, merges: merges, added: added,
                      preTokenizer: try doc.preTokenizer?.resolve(path) ?? PreTokenizer(digits: .none, gpt2Split: false),
                      bosID: bosID, eosID: eosID, padID: padID, unknownID: lookup(m.unkToken),
                      ignoreMerges: m.ignoreMerges ?? false, source: path)
    }
}

private func describe(_ error: Error) -> String {
    switch error {
    case DecodingError.dataCorrupted(let c): return "corrupted data at \(pathText(c.codingPath)): \(c.debugDescription)"
    case DecodingError.keyNotFound(let k, let c): return "missing key '\(k.stringValue)' at \(pathText(c.codingPath))"
    case DecodingError.typeMismatch(_, let c): return "wrong type at \(pathText(c.codingPath)): \(c.debugDescription)"
    case DecodingError.valueNotFound(_, let c): return "missing value at \(pathText(c.codingPath))"
    default: return "\(error)"
    }
}

private func pathText(_ path: [CodingKey]) -> String {
    path.isEmpty ? "top level" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
}

extension LeaderError {
    func prefixed(_ path: String) -> LeaderError {
        switch self {
        case .badFile(let m): return .badFile("\(path): \(m)")
        case .incompatible(let m): return .incompatible("\(path): \(m)")
        default: return self
        }
    }
}

private struct TokenizerFile: Decodable {
    var addedTokens: [AddedToken]?
    var preTokenizer: PreTokenizerJSON?
    var model: ModelJSON

    enum CodingKeys: String, CodingKey {
        case addedTokens = "added_tokens", normalizer, preTokenizer = "pre_tokenizer", model, decoder
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        addedTokens = try c.decodeIfPresent([AddedToken].self, forKey: .addedTokens)
        if c.contains(.normalizer), try !c.decodeNil(forKey: .normalizer) {
            let n = try c.decode(TypeOnly.self, forKey: .normalizer)
            throw LeaderError.incompatible("normalizer '\(n.type)' is not supported (only null)")
        }
        if c.contains(.preTokenizer), try !c.decodeNil(forKey: .preTokenizer) {
            preTokenizer = try c.decode(PreTokenizerJSON.self, forKey: .preTokenizer)
        }
        if c.contains(.decoder), try !c.decodeNil(forKey: .decoder) {
            let d = try c.decode(TypeOnly.self, forKey: .decoder)
            guard d.type == "ByteLevel" else {
                throw LeaderError.incompatible("decoder '\(d.type)' is not supported (only ByteLevel)")
            }
        }
        model = try c.decode(ModelJSON.self, forKey: .model)
    }
}

private struct TypeOnly: Decodable { var type: String }

private struct AddedToken: Decodable {
    var id: Int
    var content: String
    var singleWord: Bool?
    var lstrip: Bool?
    var rstrip: Bool?
    enum CodingKeys: String, CodingKey { case id, content, singleWord = "single_word", lstrip, rstrip }
}

private enum MergeJSON: Decodable {
    case joined(String)
    case pair(String, String)
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { self = .joined(s); return }
        let a = try c.decode([String].self)
        guard a.count == 2 else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "a merge pair has \(a.count) elements")
        }
        self = .pair(a[0], a[1])
    }
}

private struct ModelJSON: Decodable {
    var type: String?
    var vocab: [String: Int]
    var merges: [MergeJSON]
    var ignoreMerges: Bool?
    var byteFallback: Bool?
    var dropout: Double?
    var unkToken: String?
    var continuingSubwordPrefix: String?
    var endOfWordSuffix: String?
    enum CodingKeys: String, CodingKey {
        case type, vocab, merges, dropout
        case ignoreMerges = "ignore_merges", byteFallback = "byte_fallback", unkToken = "unk_token"
        case continuingSubwordPrefix = "continuing_subword_prefix", endOfWordSuffix = "end_of_word_suffix"
    }
}

private indirect enum PreTokenizerJSON: Decodable {
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    case digits(individual: Bool)
    case sequence([PreTokenizerJSON])

    enum CodingKeys: String, CodingKey {
        case type, pretokenizers, addPrefixSpace = "add_prefix_space", useRegex = "use_regex"
        case individualDigits = "individual_digits"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "ByteLevel":
            self = .byteLevel(addPrefixSpace: try c.decodeIfPresent(Bool.self, forKey: .addPrefixSpace) ?? true,
                              useRegex: try c.decodeIfPresent(Bool.self, forKey: .useRegex) ?? true)
        case "Digits":
            self = .digits(individual: try c.decodeIfPresent(Bool.self, forKey: .individualDigits) ?? false)
        case "Sequence":
            self = .sequence(try c.decode([PreTokenizerJSON].self, forKey: .pretokenizers))
        default:
            throw LeaderError.incompatible("pre_tokenizer '\(type)' is not supported (ByteLevel, Digits, Sequence)")
        }
    }

    /// The supported shapes: [Digits] then ByteLevel, or ByteLevel alone.
    func resolve(_ path: String) throws(LeaderError) -> PreTokenizer {
        var steps: [PreTokenizerJSON] = []
        func flatten(_ p: PreTokenizerJSON) {
            if case .sequence(let s) = p { s.forEach(flatten) } else { steps.append(p) }
        }
        flatten(self)
        var digits = PreTokenizer.DigitSplit.none
        if case .digits(let individual)? = steps.first, steps.count == 2 {
            digits = individual ? .individual : .runs
            steps.removeFirst()
        }
        guard steps.count == 1, case .byteLevel(let prefix, let regex) = steps[0] else {
            throw .incompatible("\(path): pre_tokenizer must be ByteLevel, optionally after Digits")
        }
        return PreTokenizer(digits: digits, gpt2Split: regex, addPrefixSpace: prefix)
    }
}

import Synchronization

/// A byte-level BPE tokenizer (GPT-2 / LLaMA-3 / SmolLM2 family): text -> UTF-8 bytes -> words
/// (`PreTokenizer`) -> each word's bytes as byte-level symbols -> ranked merges, lowest rank first, leftmost
/// first among equal ranks -> ids. Added ("special") tokens such as `<|im_start|>` are matched as whole
/// tokens, leftmost-longest, when `encode` is asked to; otherwise they are ordinary text.
///
/// Immutable and thread-safe: the only state is a bounded per-word cache behind a mutex.
public struct BPETokenizer: Sendable {
    /// Token strings by id (byte-level form for ordinary tokens, plain text for added tokens).
    public let tokens: [String]
    /// Added tokens (content -> id), matched whole by `encode(_:parseSpecialTokens: true)`.
    public let addedTokens: [String: Int32]
    public let preTokenizer: PreTokenizer
    public let bosID: Int32?
    public let eosID: Int32?
    public let padID: Int32?
    public let unknownID: Int32?
    /// Whether prompts should start with `bosID` (GGUF `tokenizer.ggml.add_bos_token`); `encode` never adds
    /// it by itself.
    public let addBOS: Bool

    let vocab: [String: Int32]
    /// Merge rules keyed by `left << 32 | right` (ids), valued `(rank, merged id)`.
    let merges: [UInt64: Merge]
    /// Id of the one-byte symbol of each byte, or -1 when the vocabulary lacks it.
    let byteIDs: [Int32]
    let isAdded: [Bool]
    /// Added tokens grouped by their first UTF-8 byte, longest first.
    let addedByFirstByte: [UInt8: [(bytes: [UInt8], id: Int32)]]
    let ignoreMerges: Bool
    let cache: WordCache

    struct Merge: Sendable { var rank: Int32; var id: Int32 }

    /// Builds a tokenizer from its parts. `merges` are `(left, right)` token strings in rank order; each
    /// must be in `tokens` together with its concatenation. `added` ids must be valid token ids. Throws
    /// `.badFile` naming `source` on any inconsistency.
    public init(tokens: [String], merges: [(String, String)], added: [Int32], preTokenizer: PreTokenizer,
                bosID: Int32? = nil, eosID: Int32? = nil, padID: Int32? = nil, unknownID: Int32? = nil,
                addBOS: Bool = false, ignoreMerges: Bool = false, source: String) throws(LeaderError) {
        guard !tokens.isEmpty, tokens.count <= Int(Int32.max) else {
            throw .badFile("\(source): vocabulary size \(tokens.count) is out of range")
        }
        guard merges.count <= Int(Int32.max) else { throw .badFile("\(source): \(merges.count) merges are too many") }
        var vocab: [String: Int32] = [:]
        vocab.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where vocab[t] == nil { vocab[t] = Int32(i) }
        var table: [UInt64: Merge] = [:]
        table.reserveCapacity(merges.count)
        for (rank, (a, b)) in merges.enumerated() {
            guard let ia = vocab[a], let ib = vocab[b] else {
                throw .badFile("\(source): merge #\(rank) '\(a) \(b)': a part is not in the vocabulary")
            }
            guard let im = vocab[a + b] else {
                throw .badFile("\(source): merge #\(rank) '\(a) \(b)': the merged token is not in the vocabulary")
            }
            let key = UInt64(UInt32(bitPattern: ia)) << 32 | UInt64(UInt32(bitPattern: ib))
            if table[key] == nil { table[key] = Merge(rank: Int32(rank), id: im) }  // first rank wins
        }
        for (what, id) in [("bos", bosID), ("eos", eosID), ("pad", padID), ("unknown", unknownID)] {
            if let id, !(0..<Int32(tokens.count)).contains(id) {
                throw .badFile("\(source): \(what) token id \(id) is outside the vocabulary (\(tokens.count))")
            }
        }
        var isAdded = [Bool](repeating: false, count: tokens.count)
        var addedTokens: [String: Int32] = [:]
        var byFirst: [UInt8: [(bytes: [UInt8], id: Int32)]] = [:]
        for id in added {
            guard (0..<Int32(tokens.count)).contains(id) else {
                throw .badFile("\(source): added token id \(id) is outside the vocabulary (\(tokens.count))")
            }
            let content = tokens[Int(id)]
            guard let first = content.utf8.first else { throw .badFile("\(source): added token \(id) is empty") }
            isAdded[Int(id)] = true
            addedTokens[content] = id
            byFirst[first, default: []].append((Array(content.utf8), id))
        }
        for k in byFirst.keys { byFirst[k]?.sort { $0.bytes.count > $1.bytes.count } }
        self.tokens = tokens
        self.vocab = vocab
        self.merges = table
        self.byteIDs = ByteLevel.scalarForByte.map { vocab[String($0)] ?? -1 }
        self.isAdded = isAdded
        self.addedTokens = addedTokens
        self.addedByFirstByte = byFirst
        self.preTokenizer = preTokenizer
        self.bosID = bosID
        self.eosID = eosID
        self.padID = padID
        self.unknownID = unknownID
        self.addBOS = addBOS
        self.ignoreMerges = ignoreMerges
        self.cache = WordCache()
    }

    public var vocabularySize: Int { tokens.count }

    /// The id of token string `token` (byte-level form), if any.
    public func id(of token: String) -> Int32? { vocab[token] }

    // MARK: Encoding

    /// Token ids of `text`. With `parseSpecialTokens`, occurrences of added tokens (`<|im_start|>` …) become
    /// their ids; without, they are tokenized as ordinary text. Never adds BOS/EOS.
    public func encode(_ text: String, parseSpecialTokens: Bool = false) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(text.utf8.count / 3 + 1)
        var text = text
        text.withUTF8 { utf8 in
            let n = utf8.count
            if !parseSpecialTokens || addedByFirstByte.isEmpty {
                encodeOrdinary(utf8, 0..<n, into: &out)
                return
            }
            var plainStart = 0
            var i = 0
            scan: while i < n {
                if let candidates = addedByFirstByte[utf8[i]] {
                    for (bytes, id) in candidates where bytes.count <= n - i {
                        var match = true
                        for k in 1..<bytes.count where utf8[i + k] != bytes[k] { match = false; break }
                        if match {
                            encodeOrdinary(utf8, plainStart..<i, into: &out)
                            out.append(id)
                            i += bytes.count
                            plainStart = i
                            continue scan
                        }
                    }
                }
                i += 1
            }
            encodeOrdinary(utf8, plainStart..<n, into: &out)
        }
        return out
    }

    private func encodeOrdinary(_ utf8: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [Int32]) {
        guard !range.isEmpty else { return }
        preTokenizer.split(utf8, range) { word, prefixSpace in
            var bytes = [UInt8]()
            bytes.reserveCapacity(word.count + 1)
            if prefixSpace { bytes.append(0x20) }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[word]))
            if let hit = cache.get(bytes) {
                out.append(contentsOf: hit)
                return
            }
            let ids = bpe(bytes)
            cache.put(bytes, ids)
            out.append(contentsOf: ids)
        }
    }

    /// BPE over one word's bytes.
    func bpe(_ bytes: [UInt8]) -> [Int32] {
        if ignoreMerges, let whole = vocab[ByteLevel.encode(bytes)] { return [whole] }
        var syms: [Int32] = []
        syms.reserveCapacity(bytes.count)
        for b in bytes {
            let id = byteIDs[Int(b)]
            if id >= 0 { syms.append(id) } else if let unk = unknownID { syms.append(unk) }
        }
        guard syms.count > 1 else { return syms }
        @inline(__always) func rank(_ a: Int32, _ b: Int32) -> Int32 {
            merges[UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))]?.rank ?? .max
        }
        var ranks = (0..<(syms.count - 1)).map { rank(syms[$0], syms[$0 + 1]) }
        while true {
            var best = Int32.max
            var at = -1
            for (i, r) in ranks.enumerated() where r < best { best = r; at = i }
            guard at >= 0,
                  let m = merges[UInt64(UInt32(bitPattern: syms[at])) << 32 | UInt64(UInt32(bitPattern: syms[at + 1]))]
            else { break }
            syms[at] = m.id
            syms.remove(at: at + 1)
            ranks.remove(at: at)
            if at > 0 { ranks[at - 1] = rank(syms[at - 1], syms[at]) }
            if at < ranks.count { ranks[at] = rank(syms[at], syms[at + 1]) }
        }
        return syms
    }

    // MARK: Decoding

    /// The text of `ids`: byte-level tokens back to bytes, added tokens as their text (or dropped with
    /// `skipSpecialTokens`), invalid UTF-8 replaced by U+FFFD. An id outside the vocabulary is
    /// `.invalidArgument`.
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool = false) throws(LeaderError) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids {
            guard id >= 0, Int(id) < tokens.count else {
                throw .invalidArgument("token id \(id) is outside the vocabulary (\(tokens.count))")
            }
            let t = tokens[Int(id)]
            if isAdded[Int(id)] {
                if !skipSpecialTokens { bytes.append(contentsOf: t.utf8) }
            } else {
                ByteLevel.decode(t, into: &bytes)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A bounded word -> ids cache shared by copies of one tokenizer. Cleared when full (simple and enough for
/// prompt vocabularies, which repeat a few thousand words).
final class WordCache: Sendable {
    static let capacity = 1 << 16
    private let table = Mutex<[[UInt8]: [Int32]]>([:])

    func get(_ key: [UInt8]) -> [Int32]? { table.withLock { $0[key] } }

    func put(_ key: [UInt8], _ value: [Int32]) {
        table.withLock { t in
            if t.count >= WordCache.capacity { t.removeAll(keepingCapacity: true) }
            t[key] = value
        }
    }
}

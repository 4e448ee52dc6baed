extension BPETokenizer {
    /// GGUF `tokenizer.ggml.pre` values whose pre-tokenizer is `Digits(individual) + GPT-2` (llama.cpp runs
    /// `\p{N}` then the GPT-2 regex for all of them).
    static let ggufDigitPre: Set<String> = ["smollm", "starcoder", "refact", "codeshell", "command-r", "exaone",
                                            "minerva"]
    /// Values whose pre-tokenizer is plain GPT-2.
    static let ggufGPT2Pre: Set<String> = ["gpt-2", "gpt2", "phi-2", "jina-es", "jina-de", "jina-v2-es",
                                           "jina-v2-de"]

    /// The tokenizer stored in a GGUF file's metadata: `tokenizer.ggml.model` must be `gpt2` (byte-level
    /// BPE); `tokens`, `merges` (`"a b"` strings in rank order) and `pre` are required; `token_type` marks
    /// added tokens (3 control, 4 user-defined); `bos/eos/padding/unknown_token_id` and `add_bos_token` are
    /// optional.
    public init(gguf: GGUFFile) throws(LeaderError) {
        let path = gguf.file.path
        let model = try gguf.string("tokenizer.ggml.model")
        guard model == "gpt2" else {
            throw .incompatible("\(path): tokenizer.ggml.model is '\(model)'; only byte-level BPE ('gpt2') is supported")
        }
        let pre = gguf.metadata["tokenizer.ggml.pre"]?.string ?? "default"
        let preTokenizer: PreTokenizer
        if Self.ggufDigitPre.contains(pre) { preTokenizer = .smolLM }
        else if Self.ggufGPT2Pre.contains(pre) { preTokenizer = .gpt2 }
        else {
            throw .incompatible("\(path): tokenizer.ggml.pre '\(pre)' is not supported (supported: "
                + (Self.ggufDigitPre.union(Self.ggufGPT2Pre)).sorted().joined(separator: ", ") + ")")
        }
        let tokens = try gguf.strings("tokenizer.ggml.tokens")
        guard tokens.count <= Int(Int32.max) else { throw .badFile("\(path): \(tokens.count) tokens are too many") }
        let rawMerges = try gguf.strings("tokenizer.ggml.merges")
        var merges: [(String, String)] = []
        merges.reserveCapacity(rawMerges.count)
        for (i, m) in rawMerges.enumerated() {
            let parts = m.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw .badFile("\(path): tokenizer.ggml.merges[\(i)] is not two tokens separated by one space")
            }
            merges.append((String(parts[0]), String(parts[1])))
        }
        var added: [Int32] = []
        if gguf.metadata["tokenizer.ggml.token_type"] != nil {
            let types = try gguf.ints("tokenizer.ggml.token_type")
            guard types.count == tokens.count else {
                throw .badFile("\(path): tokenizer.ggml.token_type has \(types.count) entries for \(tokens.count) tokens")
            }
            for (i, t) in types.enumerated() where t == 3 || t == 4 { added.append(Int32(i)) }
        }
        func optionalID(_ key: String) throws(LeaderError) -> Int32? {
            guard gguf.metadata[key] != nil else { return nil }
            let v = try gguf.int(key)
            guard let id = Int32(exactly: v) else { throw .badFile("\(path): \(key) = \(v) is out of range") }
            return id
        }
        try self.init(tokens: tokens, merges: merges, added: added, preTokenizer: preTokenizer,
                      bosID: optionalID("tokenizer.ggml.bos_token_id"),
                      eosID: optionalID("tokenizer.ggml.eos_token_id"),
                      padID: optionalID("tokenizer.ggml.padding_token_id"),
                      unknownID: optionalID("tokenizer.ggml.unknown_token_id"),
                      addBOS: gguf.metadata["tokenizer.ggml.add_bos_token"]?.bool ?? false,
                      source: path)
    }
}

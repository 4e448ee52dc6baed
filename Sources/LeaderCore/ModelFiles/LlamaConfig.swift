import FoundationEssentials

/// How rotary position embedding pairs the dimensions of a query/key head.
public enum RopeLayout: String, Codable, Sendable {
    /// Rotate adjacent pairs `(x[2i], x[2i+1])` (ggml "NORM" mode). GGUF llama files need this: the
    /// converter pre-permutes the Q and K rows of each head so that HF's halves become adjacent pairs.
    case adjacentPairs
    /// Rotate `(x[i], x[i + d/2])` (Hugging Face `rotate_half`, ggml "NEOX" mode), for HF checkpoints.
    case halves

    /// For a Q/K weight row `row` of a GGUF llama file, the row of the Hugging Face weight it came from:
    /// `convert_hf_to_gguf.py` maps HF row `h*d + j*d/2 + i` (head h, half j, index i) to GGUF row
    /// `h*d + 2i + j`. `headDim` must be even.
    public static func huggingFaceRow(forGGUFRow row: Int, headDim: Int) -> Int {
        let h = row / headDim, r = row % headDim
        return h * headDim + (r % 2) * (headDim / 2) + r / 2
    }
}

/// The shape of a LLaMA-family decoder (RMSNorm, RoPE, SwiGLU, grouped-query attention, no biases), read
/// from GGUF metadata or a Hugging Face `config.json`.
public struct LlamaConfig: Codable, Equatable, Sendable {
    public var layers: Int
    public var dModel: Int
    public var ffnDim: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var vocabSize: Int
    public var contextLength: Int
    public var ropeTheta: Double
    public var rmsEps: Double
    /// True when the LM head is the token embedding (no separate `output.weight` / `lm_head.weight`).
    public var tiedEmbeddings: Bool
    public var ropeLayout: RopeLayout

    public init(layers: Int, dModel: Int, ffnDim: Int, heads: Int, kvHeads: Int, headDim: Int, vocabSize: Int,
                contextLength: Int, ropeTheta: Double, rmsEps: Double, tiedEmbeddings: Bool,
                ropeLayout: RopeLayout) {
        self.layers = layers
        self.dModel = dModel
        self.ffnDim = ffnDim
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.vocabSize = vocabSize
        self.contextLength = contextLength
        self.ropeTheta = ropeTheta
        self.rmsEps = rmsEps
        self.tiedEmbeddings = tiedEmbeddings
        self.ropeLayout = ropeLayout
    }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case layers, dModel = "d_model", ffnDim = "ffn_dim", heads, kvHeads = "kv_heads", headDim = "head_dim"
        case vocabSize = "vocab_size", contextLength = "context_length", ropeTheta = "rope_theta"
        case rmsEps = "rms_eps", tiedEmbeddings = "tied_embeddings", ropeLayout = "rope_layout"
    }

    /// Decodes our own JSON form (snake_case keys, as stored in checkpoints); unknown keys are an error.
    public init(from decoder: Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self, "LlamaConfig")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(layers: try c.decode(Int.self, forKey: .layers), dModel: try c.decode(Int.self, forKey: .dModel),
                  ffnDim: try c.decode(Int.self, forKey: .ffnDim), heads: try c.decode(Int.self, forKey: .heads),
                  kvHeads: try c.decode(Int.self, forKey: .kvHeads), headDim: try c.decode(Int.self, forKey: .headDim),
                  vocabSize: try c.decode(Int.self, forKey: .vocabSize),
                  contextLength: try c.decode(Int.self, forKey: .contextLength),
                  ropeTheta: try c.decode(Double.self, forKey: .ropeTheta), rmsEps: try c.decode(Double.self, forKey: .rmsEps),
                  tiedEmbeddings: try c.decode(Bool.self, forKey: .tiedEmbeddings),
                  ropeLayout: try c.decode(RopeLayout.self, forKey: .ropeLayout))
    }

    /// Checks that the numbers describe a buildable model; `.badFile` naming `source` otherwise.
    public func validate(_ source: String) throws(LeaderError) {
        func need(_ ok: Bool, _ what: String) throws(LeaderError) {
            if !ok { throw .badFile("\(source): \(what)") }
        }
        let limit = 1 << 24
        try need((1...4096).contains(layers), "layer count \(layers) is out of range")
        try need((1...limit).contains(dModel), "embedding length \(dModel) is out of range")
        try need((1...limit).contains(ffnDim), "feed-forward length \(ffnDim) is out of range")
        try need((1...4096).contains(heads), "head count \(heads) is out of range")
        try need((1...heads).contains(kvHeads) && heads % kvHeads == 0,
                 "KV head count \(kvHeads) must divide the head count \(heads)")
        try need((2...4096).contains(headDim) && headDim % 2 == 0, "head dimension \(headDim) must be even")
        try need(heads * headDim <= limit, "heads × head dimension is too large")
        try need((1...(1 << 31)).contains(vocabSize), "vocabulary size \(vocabSize) is out of range")
        try need((1...(1 << 31)).contains(contextLength), "context length \(contextLength) is out of range")
        try need(ropeTheta.isFinite && ropeTheta > 0, "RoPE base \(ropeTheta) must be positive")
        try need(rmsEps.isFinite && rmsEps > 0 && rmsEps < 1, "RMSNorm epsilon \(rmsEps) is out of range")
    }

    /// From GGUF metadata (`general.architecture` must be `llama`). The vocabulary size is
    /// `llama.vocab_size`, else the token count; the head dimension `llama.attention.key_length`, else
    /// `llama.rope.dimension_count`, else d/heads; the embeddings are tied when `output.weight` is absent.
    public init(gguf: GGUFFile) throws(LeaderError) {
        let path = gguf.file.path
        let arch = try gguf.string("general.architecture")
        guard arch == "llama" else {
            throw .incompatible("\(path): architecture '\(arch)' is not supported (only 'llama')")
        }
        if let scaling = gguf.metadata["llama.rope.scaling.type"]?.string, scaling != "none" {
            throw .incompatible("\(path): RoPE scaling '\(scaling)' is not supported")
        }
        let d = try gguf.int("llama.embedding_length")
        let heads = try gguf.int("llama.attention.head_count")
        let kv = gguf.metadata["llama.attention.head_count_kv"] != nil ? try gguf.int("llama.attention.head_count_kv") : heads
        let headDim: Int
        if gguf.metadata["llama.attention.key_length"] != nil { headDim = try gguf.int("llama.attention.key_length") }
        else { headDim = heads > 0 ? d / heads : 0 }
        if gguf.metadata["llama.rope.dimension_count"] != nil {
            let rot = try gguf.int("llama.rope.dimension_count")
            guard rot == headDim else {
                throw .incompatible("\(path): llama.rope.dimension_count \(rot) ≠ head dimension \(headDim) "
                    + "(partial rotary embeddings are not supported)")
            }
        }
        let vocab: Int
        if gguf.metadata["llama.vocab_size"] != nil { vocab = try gguf.int("llama.vocab_size") }
        else if let tokens = gguf.metadata["tokenizer.ggml.tokens"], case .array(_, let a) = tokens { vocab = a.count }
        else if let e = gguf.info("token_embd.weight") { vocab = e.shape[0] }
        else { throw .badFile("\(path): no vocabulary size (llama.vocab_size, tokens or token_embd.weight)") }
        self.init(layers: try gguf.int("llama.block_count"), dModel: d,
                  ffnDim: try gguf.int("llama.feed_forward_length"), heads: heads, kvHeads: kv, headDim: headDim,
                  vocabSize: vocab, contextLength: try gguf.int("llama.context_length"),
                  ropeTheta: gguf.metadata["llama.rope.freq_base"] != nil ? try gguf.double("llama.rope.freq_base") : 10000,
                  rmsEps: try gguf.double("llama.attention.layer_norm_rms_epsilon"),
                  tiedEmbeddings: gguf.info("output.weight") == nil, ropeLayout: .adjacentPairs)
        try validate(path)
    }

    /// From a Hugging Face `config.json` (LlamaConfig fields; unknown keys are ignored because HF configs
    /// carry many unrelated ones). Features the decoder does not implement — biases, an activation other
    /// than SiLU, RoPE scaling — are `.incompatible`.
    public init(huggingFaceConfig path: String) throws(LeaderError) {
        let file = try MappedFile(path: path)
        guard file.count <= 1 << 24 else { throw .badFile("\(path): \(file.count) bytes is too large for config.json") }
        let c: HFConfig
        do { c = try JSONDecoder().decode(HFConfig.self, from: file.withUnsafeBytes { Data($0) }) }
        catch { throw .badFile("\(path): not a valid LlamaConfig JSON (\(error))") }
        if let t = c.model_type, !["llama", "mistral"].contains(t) {
            throw .incompatible("\(path): model_type '\(t)' is not supported (llama)")
        }
        guard c.hidden_act ?? "silu" == "silu" else {
            throw .incompatible("\(path): hidden_act '\(c.hidden_act ?? "")' is not supported (silu)")
        }
        guard !(c.attention_bias ?? false), !(c.mlp_bias ?? false) else {
            throw .incompatible("\(path): attention_bias / mlp_bias are not supported")
        }
        if let s = c.rope_scaling, let t = s.rope_type ?? s.type, t != "default" {
            throw .incompatible("\(path): rope_scaling '\(t)' is not supported")
        }
        if let t = c.rope_parameters?.rope_type, t != "default" {
            throw .incompatible("\(path): rope_parameters.rope_type '\(t)' is not supported")
        }
        guard let d = c.hidden_size, let heads = c.num_attention_heads, let layers = c.num_hidden_layers,
              let ffn = c.intermediate_size, let vocab = c.vocab_size else {
            throw .badFile("\(path): hidden_size, num_attention_heads, num_hidden_layers, intermediate_size and "
                + "vocab_size are required")
        }
        self.init(layers: layers, dModel: d, ffnDim: ffn, heads: heads, kvHeads: c.num_key_value_heads ?? heads,
                  headDim: c.head_dim ?? (heads > 0 ? d / heads : 0), vocabSize: vocab,
                  contextLength: c.max_position_embeddings ?? 2048,
                  ropeTheta: c.rope_parameters?.rope_theta ?? c.rope_theta ?? 10000, rmsEps: c.rms_norm_eps ?? 1e-6,
                  tiedEmbeddings: c.tie_word_embeddings ?? false, ropeLayout: .halves)
        try validate(path)
    }

    private struct HFConfig: Decodable {
        struct Rope: Decodable { var rope_theta: Double?; var rope_type: String?; var type: String? }
        var model_type: String?
        var hidden_size: Int?
        var intermediate_size: Int?
        var num_hidden_layers: Int?
        var num_attention_heads: Int?
        var num_key_value_heads: Int?
        var head_dim: Int?
        var vocab_size: Int?
        var max_position_embeddings: Int?
        var rms_norm_eps: Double?
        var rope_theta: Double?
        var rope_scaling: Rope?
        var rope_parameters: Rope?
        var tie_word_embeddings: Bool?
        var hidden_act: String?
        var attention_bias: Bool?
        var mlp_bias: Bool?
    }
}

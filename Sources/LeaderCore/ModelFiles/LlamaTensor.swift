/// One weight of a LLaMA decoder, independent of the file format. `canonicalName` is the name used inside
/// this library (and in our checkpoints); `ggufName` and `huggingFaceName` are the names in the two file
/// formats. Shapes are row-major, linear weights `[out, in]`.
public enum LlamaTensor: Hashable, Sendable {
    case tokenEmbedding, outputNorm, lmHead
    case attnNorm(Int), q(Int), k(Int), v(Int), o(Int), ffnNorm(Int), gate(Int), up(Int), down(Int)

    /// Every weight of a model with `config`, the LM head only when it is not tied.
    public static func all(_ config: LlamaConfig) -> [LlamaTensor] {
        var out: [LlamaTensor] = [.tokenEmbedding]
        for l in 0..<config.layers {
            out += [.attnNorm(l), .q(l), .k(l), .v(l), .o(l), .ffnNorm(l), .gate(l), .up(l), .down(l)]
        }
        out.append(.outputNorm)
        if !config.tiedEmbeddings { out.append(.lmHead) }
        return out
    }

    public var canonicalName: String {
        switch self {
        case .tokenEmbedding: return "embed.weight"
        case .outputNorm: return "norm.weight"
        case .lmHead: return "lm_head.weight"
        case .attnNorm(let l): return "layers.\(l).attn_norm.weight"
        case .q(let l): return "layers.\(l).attn.q.weight"
        case .k(let l): return "layers.\(l).attn.k.weight"
        case .v(let l): return "layers.\(l).attn.v.weight"
        case .o(let l): return "layers.\(l).attn.o.weight"
        case .ffnNorm(let l): return "layers.\(l).ffn_norm.weight"
        case .gate(let l): return "layers.\(l).ffn.gate.weight"
        case .up(let l): return "layers.\(l).ffn.up.weight"
        case .down(let l): return "layers.\(l).ffn.down.weight"
        }
    }

    public var ggufName: String {
        switch self {
        case .tokenEmbedding: return "token_embd.weight"
        case .outputNorm: return "output_norm.weight"
        case .lmHead: return "output.weight"
        case .attnNorm(let l): return "blk.\(l).attn_norm.weight"
        case .q(let l): return "blk.\(l).attn_q.weight"
        case .k(let l): return "blk.\(l).attn_k.weight"
        case .v(let l): return "blk.\(l).attn_v.weight"
        case .o(let l): return "blk.\(l).attn_output.weight"
        case .ffnNorm(let l): return "blk.\(l).ffn_norm.weight"
        case .gate(let l): return "blk.\(l).ffn_gate.weight"
        case .up(let l): return "blk.\(l).ffn_up.weight"
        case .down(let l): return "blk.\(l).ffn_down.weight"
        }
    }

    public var huggingFaceName: String {
        switch self {
        case .tokenEmbedding: return "model.embed_tokens.weight"
        case .outputNorm: return "model.norm.weight"
        case .lmHead: return "lm_head.weight"
        case .attnNorm(let l): return "model.layers.\(l).input_layernorm.weight"
        case .q(let l): return "model.layers.\(l).self_attn.q_proj.weight"
        case .k(let l): return "model.layers.\(l).self_attn.k_proj.weight"
        case .v(let l): return "model.layers.\(l).self_attn.v_proj.weight"
        case .o(let l): return "model.layers.\(l).self_attn.o_proj.weight"
        case .ffnNorm(let l): return "model.layers.\(l).post_attention_layernorm.weight"
        case .gate(let l): return "model.layers.\(l).mlp.gate_proj.weight"
        case .up(let l): return "model.layers.\(l).mlp.up_proj.weight"
        case .down(let l): return "model.layers.\(l).mlp.down_proj.weight"
        }
    }

    /// The shape this weight must have under `config`.
    public func expectedShape(_ c: LlamaConfig) -> [Int] {
        switch self {
        case .tokenEmbedding, .lmHead: return [c.vocabSize, c.dModel]
        case .outputNorm, .attnNorm, .ffnNorm: return [c.dModel]
        case .q: return [c.heads * c.headDim, c.dModel]
        case .k, .v: return [c.kvHeads * c.headDim, c.dModel]
        case .o: return [c.dModel, c.heads * c.headDim]
        case .gate, .up: return [c.ffnDim, c.dModel]
        case .down: return [c.dModel, c.ffnDim]
        }
    }
}

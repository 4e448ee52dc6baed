#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// A LLaMA model on disk, format-independent: its config, every weight as raw bytes + dtype + shape (by
/// `LlamaTensor`), and its tokenizer when the files carry one. Weights stay in the mapped file(s) and in
/// their stored dtype (quantised GGUF weights are not dequantised here).
public struct LlamaModelFile: Sendable {
    public enum Format: String, Sendable { case gguf, huggingFace }

    public let format: Format
    public let config: LlamaConfig
    public let tensors: [LlamaTensor: TensorData]
    public let tokenizer: BPETokenizer?

    /// The weight `t` (present for every `LlamaTensor.all(config)`).
    public subscript(_ t: LlamaTensor) -> TensorData? { tensors[t] }

    /// Reads a GGUF llama file: config from metadata, tensors by their GGUF names, the tokenizer from
    /// `tokenizer.ggml.*` when present. Every expected tensor must be there with the expected shape; any
    /// other tensor is `.incompatible` (it would be a feature this decoder lacks).
    public init(gguf path: String) throws(LeaderError) {
        let g = try GGUFFile(path: path)
        let config = try LlamaConfig(gguf: g)
        var map: [LlamaTensor: TensorData] = [:]
        var used = Set<String>()
        for t in LlamaTensor.all(config) {
            guard g.info(t.ggufName) != nil else { throw .badFile("\(path): tensor '\(t.ggufName)' is missing") }
            let data = try g.tensor(t.ggufName)
            try Self.checkShape(data, t, config, path, t.ggufName)
            map[t] = data
            used.insert(t.ggufName)
        }
        if let extra = g.tensorNames.first(where: { !used.contains($0) }) {
            throw .incompatible("\(path): tensor '\(extra)' is not part of a llama decoder this library runs")
        }
        format = .gguf
        self.config = config
        tensors = map
        tokenizer = g.metadata["tokenizer.ggml.tokens"] != nil ? try BPETokenizer(gguf: g) : nil
    }

    /// Reads a Hugging Face model folder: `config.json`, the weights from `model.safetensors` or from the
    /// shards listed in `model.safetensors.index.json`, and `tokenizer.json` when present (bos/eos/pad ids
    /// from `config.json`). F32, F16 and BF16 weights are accepted.
    public init(huggingFaceFolder dir: String) throws(LeaderError) {
        let config = try LlamaConfig(huggingFaceConfig: "\(dir)/config.json")
        let indexPath = "\(dir)/model.safetensors.index.json"
        var files: [String: SafetensorsFile] = [:]
        var location: [String: String] = [:]  // tensor name -> shard file name
        if Self.exists(indexPath) {
            for (name, shard) in try Self.readIndex(indexPath) {
                guard !shard.contains("/"), !shard.hasPrefix(".") else {
                    throw .badFile("\(indexPath): tensor '\(name)': shard '\(shard)' is not a file name in the folder")
                }
                location[name] = shard
                if files[shard] == nil { files[shard] = try SafetensorsFile(path: "\(dir)/\(shard)") }
            }
            for (shard, f) in files {
                for name in f.tensorNames where location[name] != shard {
                    throw .badFile("\(dir)/\(shard): tensor '\(name)' is not listed for this shard in the index")
                }
            }
        } else {
            let f = try SafetensorsFile(path: "\(dir)/model.safetensors")
            files["model.safetensors"] = f
            for name in f.tensorNames { location[name] = "model.safetensors" }
        }
        var map: [LlamaTensor: TensorData] = [:]
        var used = Set<String>()
        for t in LlamaTensor.all(config) {
            let name = t.huggingFaceName
            guard let shard = location[name], let f = files[shard] else {
                throw .badFile("\(dir): tensor '\(name)' is missing")
            }
            guard f.info(name) != nil else { throw .badFile("\(dir)/\(shard): tensor '\(name)' is missing (the index lists it here)") }
            let data = try f.tensor(name)
            try Self.checkShape(data, t, config, "\(dir)/\(shard)", name)
            map[t] = data
            used.insert(name)
        }
        // Tied checkpoints may still store lm_head.weight; rotary inv_freq buffers are derived data.
        for name in location.keys.sorted() where !used.contains(name) {
            if name.hasSuffix("rotary_emb.inv_freq") || (config.tiedEmbeddings && name == "lm_head.weight") { continue }
            throw .incompatible("\(dir): tensor '\(name)' is not part of a llama decoder this library runs")
        }
        format = .huggingFace
        self.config = config
        tensors = map
        let tj = "\(dir)/tokenizer.json"
        if Self.exists(tj) {
            let ids = try Self.specialIDs("\(dir)/config.json")
            tokenizer = try BPETokenizer(tokenizerJSON: tj, bosID: ids.bos, eosID: ids.eos, padID: ids.pad)
        } else {
            tokenizer = nil
        }
    }

    private static func checkShape(_ d: TensorData, _ t: LlamaTensor, _ c: LlamaConfig, _ file: String,
                                   _ name: String) throws(LeaderError) {
        let want = t.expectedShape(c)
        guard d.shape == want else {
            throw .badFile("\(file): tensor '\(name)' has shape \(d.shape), expected \(want) from the config")
        }
    }

    private static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    private static func readIndex(_ path: String) throws(LeaderError) -> [String: String] {
        struct Index: Decodable { var weight_map: [String: String] }
        let f = try MappedFile(path: path)
        guard f.count <= 1 << 26 else { throw .badFile("\(path): \(f.count) bytes is too large for an index") }
        do { return try JSONDecoder().decode(Index.self, from: f.withUnsafeBytes { Data($0) }).weight_map }
        catch { throw .badFile("\(path): not a valid safetensors index (\(error))") }
    }

    private static func specialIDs(_ path: String) throws(LeaderError) -> (bos: Int32?, eos: Int32?, pad: Int32?) {
        // eos_token_id may be an integer or a list (the first is used).
        struct IDs: Decodable {
            var bos_token_id: OneOrMany?
            var eos_token_id: OneOrMany?
            var pad_token_id: OneOrMany?
        }
        enum OneOrMany: Decodable {
            case one(Int32), many([Int32])
            init(from decoder: Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let v = try? c.decode(Int32.self) { self = .one(v) } else { self = .many(try c.decode([Int32].self)) }
            }
            var first: Int32? { switch self { case .one(let v): return v; case .many(let a): return a.first } }
        }
        let f = try MappedFile(path: path)
        do {
            let ids = try JSONDecoder().decode(IDs.self, from: f.withUnsafeBytes { Data($0) })
            return (ids.bos_token_id?.first, ids.eos_token_id?.first, ids.pad_token_id?.first)
        } catch { throw .badFile("\(path): bad bos/eos/pad token ids (\(error))") }
    }
}

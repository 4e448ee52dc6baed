import FoundationEssentials

/// `teacher.safetensors`: the LoRA adapters and the medication head (F32, our parameter names:
/// `layers.<l>.attn.q.lora_A.weight`, ..., `cls_head.weight`) — never the base weights. `__metadata__`:
/// `format` = `leader-teacher`, `format_version` = `1`, `base_model` (file or folder name),
/// `base_model_sha256` (of the GGUF file, or of `config.json` for a folder), `llama_config`, `lora`,
/// `train_config` (JSON), `medications` (JSON array of the vocabulary keys, index = head row), `max_tokens`.
public struct TeacherCheckpoint {
    public static let format = "leader-teacher"
    public static let formatVersion = "1"

    public var baseModel: String
    public var baseModelSHA256: String
    public var llama: LlamaConfig
    public var lora: LoRAConfig
    public var train: TeacherTrainConfig
    public var medications: [String]

    public init(baseModel: String, baseModelSHA256: String, llama: LlamaConfig, lora: LoRAConfig,
                train: TeacherTrainConfig, medications: [String]) {
        self.baseModel = baseModel
        self.baseModelSHA256 = baseModelSHA256
        self.llama = llama
        self.lora = lora
        self.train = train
        self.medications = medications
    }

    /// The digest recorded for a model path: the GGUF file's, or a folder's `config.json` + safetensors index.
    public static func digest(ofModel path: String) throws(LeaderError) -> String {
        if path.hasSuffix(".gguf") { return try SHA256.hex(file: path) }
        return try SHA256.hex(file: "\(path)/config.json")
    }

    static func json<T: Encodable>(_ v: T) throws(LeaderError) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        do { return String(decoding: try e.encode(v), as: UTF8.self) } catch { throw .internalError("JSON: \(error)") }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ s: String?, _ key: String, _ path: String) throws(LeaderError) -> T {
        guard let s else { throw .badFile("\(path): metadata '\(key)' is missing") }
        do { return try JSONDecoder().decode(T.self, from: Data(s.utf8)) } catch {
            throw .badFile("\(path): metadata '\(key)' is not valid (\(error))")
        }
    }

    /// Writes the trainable parameters of `model` (adapters + head) atomically.
    public func write(_ model: TeacherModel, to path: String) throws(LeaderError) {
        let store = model.decoder.adapters
        let tensors = store.parameters.map { SafetensorsTensor(name: $0.name, shape: $0.shape, floats: store.value($0).toArray()) }
        let meta = ["format": Self.format, "format_version": Self.formatVersion, "kind": "teacher",
                    "base_model": baseModel, "base_model_sha256": baseModelSHA256,
                    "llama_config": try Self.json(llama), "lora": try Self.json(lora), "train_config": try Self.json(train),
                    "medications": try Self.json(medications), "max_tokens": String(train.maxTokens)]
        try SafetensorsWriter.write(tensors, metadata: meta, to: path)
    }

    /// Reads a checkpoint's metadata and builds the model on `modelFile`, whose config (and digest, unless
    /// `checkDigest` is false) must match the checkpoint's. Every parameter must be present with its shape.
    public static func load(_ path: String, modelFile: LlamaModelFile, modelPath: String, checkDigest: Bool = true,
                            threads: Int) throws(LeaderError) -> (TeacherCheckpoint, TeacherModel) {
        let f = try SafetensorsFile(path: path)
        let m = f.metadata
        guard m["format"] == format else { throw .badFile("\(path): not a teacher checkpoint (format '\(m["format"] ?? "")')") }
        guard m["format_version"] == formatVersion else {
            throw .incompatible("\(path): teacher checkpoint version '\(m["format_version"] ?? "")' (this library reads \(formatVersion))")
        }
        let ck = TeacherCheckpoint(
            baseModel: m["base_model"] ?? "", baseModelSHA256: m["base_model_sha256"] ?? "",
            llama: try decode(LlamaConfig.self, m["llama_config"], "llama_config", path),
            lora: try decode(LoRAConfig.self, m["lora"], "lora", path),
            train: try decode(TeacherTrainConfig.self, m["train_config"], "train_config", path),
            medications: try decode([String].self, m["medications"], "medications", path))
        guard ck.llama == modelFile.config else {
            throw .incompatible("\(path): trained on a model with another config than \(modelPath)")
        }
        if checkDigest {
            let d = try digest(ofModel: modelPath)
            guard d == ck.baseModelSHA256 else {
                throw .incompatible("\(path): trained on base model \(ck.baseModel) (sha256 \(ck.baseModelSHA256)), "
                    + "but \(modelPath) has sha256 \(d)")
            }
        }
        let dec = try LlamaDecoder(modelFile, lora: ck.lora, threads: threads)
        let model = try TeacherModel(decoder: dec, medications: ck.medications.count)
        for p in dec.adapters.parameters {
            guard let info = f.info(p.name) else { throw .badFile("\(path): tensor '\(p.name)' is missing") }
            guard info.shape == p.shape, info.dtype == .f32 else {
                throw .badFile("\(path): tensor '\(p.name)' is \(info.dtype) \(info.shape), expected F32 \(p.shape)")
            }
            let t = try f.tensor(p.name)
            t.withUnsafeBytes { b in
                let dst = dec.adapters.value(p)
                b.copyBytes(to: UnsafeMutableRawBufferPointer(start: dst.pointer, count: dst.count * 4))
            }
        }
        guard f.tensorNames.count == dec.adapters.parameters.count else {
            throw .badFile("\(path): \(f.tensorNames.count) tensors, expected \(dec.adapters.parameters.count)")
        }
        return (ck, model)
    }
}

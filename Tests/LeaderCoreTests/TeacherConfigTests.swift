import Foundation
import Testing
@testable import LeaderCore

/// The teacher's JSON configs (LoRAConfig, TeacherTrainConfig; LlamaConfig has its own tests) decode strictly:
/// an unknown key or a wrong type is an error naming it, a missing key takes its default, and what the
/// checkpoint writes reads back equal.
@Suite struct TeacherConfigTests {
    func message(_ body: () throws -> Void) -> String {
        do { try body() } catch let e as LeaderError { return "\(e)" } catch { return "other error \(error)" }
        return "no error"
    }

    @Test func loraRejectsUnknownKeys() {
        let m = message { _ = try LoRAConfig.decode(json: #"{"rank": 4, "alpah": 16}"#) }
        #expect(m.contains("LoRA config") && m.contains("unknown key 'alpah'") && m.contains("top_layers"), "\(m)")
        // Through JSONDecoder too (the checkpoint path), the LeaderError comes out as is.
        expectError(.invalidArgument, "LoRA config: unknown key 'r'") { _ = try JSONDecoder().decode(LoRAConfig.self, from: Data(#"{"r": 8}"#.utf8)) }
    }

    @Test func loraRejectsWrongTypes() {
        let m = message { _ = try LoRAConfig.decode(json: #"{"rank": "8"}"#) }
        #expect(m.contains("LoRA config") && m.contains("wrong type") && m.contains("rank"), "\(m)")
        let m2 = message { _ = try LoRAConfig.decode(json: #"{"top_layers": "all"}"#) }
        #expect(m2.contains("wrong type") && m2.contains("top_layers"), "\(m2)")
        expectError(.invalidArgument, "LoRA config: invalid JSON") { _ = try LoRAConfig.decode(json: #"{"top_layers": 2.5}"#) }
    }

    @Test func loraDefaultsForMissingKeys() throws {
        #expect(try LoRAConfig.decode(json: "{}") == LoRAConfig())
        let c = try LoRAConfig.decode(json: #"{"top_layers": 2, "dropout": 0}"#)
        #expect(c == LoRAConfig(rank: 8, alpha: 32, dropout: 0, topLayers: 2))
        #expect(try LoRAConfig.decode(json: #"{"top_layers": null}"#).topLayers == nil)
        let round = try LoRAConfig.decode(json: TeacherCheckpoint.json(c))
        #expect(round == c)
    }

    @Test func trainConfigRejectsUnknownKeys() {
        let m = message { _ = try TeacherTrainConfig.decode(json: #"{"epochs": 2, "recomputation": "on"}"#) }
        #expect(m.contains("teacher train config") && m.contains("unknown key 'recomputation'") && m.contains("recompute"),
                "\(m)")
        // A nested LoRA config is strict as well.
        let m2 = message { _ = try TeacherTrainConfig.decode(json: #"{"lora": {"rank": 4, "layers": 2}}"#) }
        #expect(m2.contains("unknown key 'layers'"), "\(m2)")
    }

    @Test func trainConfigRejectsWrongTypesAndValues() {
        let m = message { _ = try TeacherTrainConfig.decode(json: #"{"batch_size": "8"}"#) }
        #expect(m.contains("wrong type") && m.contains("batch_size"), "\(m)")
        let m2 = message { _ = try TeacherTrainConfig.decode(json: #"{"recompute": "sometimes"}"#) }
        #expect(m2.contains("recompute"), "\(m2)")
        let m3 = message { _ = try TeacherTrainConfig.decode(json: #"{"batch_size": 0}"#) }
        #expect(m3.contains("batch size"), "\(m3)")
        let m4 = message { _ = try TeacherTrainConfig.decode(json: #"[1, 2]"#) }
        #expect(m4.contains("teacher train config"), "\(m4)")
    }

    @Test func trainConfigDefaultsForMissingKeys() throws {
        #expect(try TeacherTrainConfig.decode(json: "{}") == TeacherTrainConfig())
        // A train_config written before `recompute` existed still loads (as auto).
        let old = #"{"batch_size":4,"cache_prefix":true,"clip_norm":1,"epochs":2,"grad_accumulation":1,"#
            + #""learning_rate":0.001,"lora":{"alpha":32,"dropout":0.1,"rank":8,"top_layers":2},"max_tokens":256,"#
            + #""seed":1,"weight_decay":0}"#
        let c = try TeacherTrainConfig.decode(json: old)
        #expect(c.recompute == .auto && c.batchSize == 4 && c.epochs == 2 && c.lora.topLayers == 2 && c.maxSteps == nil)
        var d = TeacherTrainConfig()
        d.recompute = .on
        d.maxSteps = 7
        d.lora = LoRAConfig(rank: 4, topLayers: 3)
        let json = try TeacherCheckpoint.json(d)
        #expect(json.contains(#""recompute":"on""#))
        #expect(try TeacherTrainConfig.decode(json: json) == d)
    }

    @Test func recomputeModes() throws {
        #expect(RecomputeMode.auto.enabled(adaptedLayers: RecomputeMode.autoLayers) == false)
        #expect(RecomputeMode.auto.enabled(adaptedLayers: RecomputeMode.autoLayers + 1))
        #expect(RecomputeMode.on.enabled(adaptedLayers: 1) && !RecomputeMode.on.enabled(adaptedLayers: 0))
        #expect(!RecomputeMode.off.enabled(adaptedLayers: 30))
        #expect(try RecomputeMode(parsing: "on") == .on)
        expectError(.invalidArgument, "recompute must be on, off or auto, got 'yes'") { _ = try RecomputeMode(parsing: "yes") }
    }
}

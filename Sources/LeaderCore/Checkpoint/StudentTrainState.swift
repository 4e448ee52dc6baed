import FoundationEssentials

/// The file a student training run resumes from (`kind` "student-train-state", a safetensors file written
/// atomically): the weights, the best weights, Adam's moments and step, the epoch, the dropout stream position,
/// the early-stopping state and the epoch history, for one config and one dataset. `StudentTrainer.saveState` /
/// `loadState` (below) fill and apply it.
public struct StudentTrainState {
    public var values: [Float], best: [Float]
    public var adamM: [Float], adamV: [Float]
    public var step: Int, epoch: Int, dropoutKeys: Int
    public var bestPRAUC: Double, bestEpoch: Int, badEpochs: Int, stopped: Bool
    public var history: [StudentEpochSummary]

    /// Writes the state of a run of `config` on the dataset of `dataFingerprint`.
    public func write(to path: String, config: StudentConfig, dataFingerprint: String) throws(LeaderError) {
        let n = values.count
        let tensors = [
            SafetensorsTensor(name: "values", shape: [n], floats: values),
            SafetensorsTensor(name: "best", shape: [n], floats: best),
            SafetensorsTensor(name: "adam.m", shape: [n], floats: adamM),
            SafetensorsTensor(name: "adam.v", shape: [n], floats: adamV),
        ]
        let meta: [String: String] = [
            "format": "leader", "format_version": "1", "kind": "student-train-state",
            "config": try config.json(), "data_fingerprint": dataFingerprint,
            "step": String(step), "epoch": String(epoch), "dropout_keys": String(dropoutKeys),
            "best_prauc": String(bestPRAUC), "best_epoch": String(bestEpoch), "bad_epochs": String(badEpochs),
            "stopped": stopped ? "1" : "0", "history": try Self.historyJSON(history),
        ]
        try SafetensorsWriter.write(tensors, metadata: meta, to: path)
    }

    /// Reads a state written for `config` and the dataset of `dataFingerprint`, with `count` parameters.
    public static func read(from path: String, config: StudentConfig, dataFingerprint: String,
                            count n: Int) throws(LeaderError) -> StudentTrainState {
        let f = try SafetensorsFile(path: path)
        let m = f.metadata
        guard m["format"] == "leader", m["kind"] == "student-train-state" else {
            throw .badFile("\(path): not a student train-state file")
        }
        guard m["format_version"] == "1" else { throw .incompatible("\(path): unknown train-state format_version") }
        guard let cj = m["config"], let c = try? StudentConfig.decode(json: cj), c == config else {
            throw .incompatible("\(path): the train state was written for another student config")
        }
        guard m["data_fingerprint"] == dataFingerprint else {
            throw .incompatible("\(path): the train state was written for another dataset")
        }
        func int(_ k: String) throws(LeaderError) -> Int {
            guard let s = m[k], let v = Int(s), v >= 0 else { throw .badFile("\(path): metadata '\(k)' missing or invalid") }
            return v
        }
        guard let bp = m["best_prauc"].flatMap(Double.init) else { throw .badFile("\(path): metadata 'best_prauc' invalid") }
        func floats(_ name: String) throws(LeaderError) -> [Float] {
            guard let info = f.info(name), info.dtype == .f32, info.shape == [n] else {
                throw .badFile("\(path): tensor '\(name)' missing or not F32 [\(n)]")
            }
            let b = try f.bytes(name)
            var v = [Float](repeating: 0, count: n)
            guard b.count == n * 4 else { throw .badFile("\(path): tensor '\(name)' has a wrong byte count") }
            v.withUnsafeMutableBytes { d in b.withUnsafeBytes { d.copyMemory(from: $0) } }
            return v
        }
        let values = try floats("values"), best = try floats("best")
        let adamM = try floats("adam.m"), adamV = try floats("adam.v")
        let step = try int("step"), epoch = try int("epoch"), keys = try int("dropout_keys")
        let bestEpoch = try int("best_epoch"), bad = try int("bad_epochs")
        // States written before the history was kept have none: the plot then starts at the resumed epoch.
        var history: [StudentEpochSummary] = []
        if let h = m["history"] {
            guard let v = try? JSONDecoder().decode([StudentEpochSummary].self, from: Data(h.utf8)), v.count == epoch else {
                throw .badFile("\(path): metadata 'history' is not \(epoch) epoch summaries")
            }
            history = v
        }
        return StudentTrainState(values: values, best: best, adamM: adamM, adamV: adamV, step: step, epoch: epoch,
                                 dropoutKeys: keys, bestPRAUC: bp, bestEpoch: bestEpoch, badEpochs: bad,
                                 stopped: m["stopped"] == "1", history: history)
    }

    static func historyJSON(_ h: [StudentEpochSummary]) throws(LeaderError) -> String {
        do { return String(decoding: try JSONEncoder().encode(h), as: UTF8.self) } catch {
            throw .internalError("student train state: cannot encode the history (\(error))")
        }
    }
}

extension StudentTrainer {
    /// Writes everything needed to continue (`StudentTrainState`, atomic).
    public func saveState(to path: String, dataFingerprint: String) throws(LeaderError) {
        let state = StudentTrainState(
            values: model.store.flatValues.toArray(), best: best, adamM: adam.m.toArray(), adamV: adam.v.toArray(),
            step: adam.step, epoch: epoch, dropoutKeys: Int(clamping: ctx.dropoutKeysDrawn), bestPRAUC: bestPRAUC,
            bestEpoch: bestEpoch, badEpochs: badEpochs, stopped: stopped, history: history)
        try state.write(to: path, config: config, dataFingerprint: dataFingerprint)
    }

    /// Restores a state written by `saveState` for the same config and data.
    public func loadState(from path: String, dataFingerprint: String) throws(LeaderError) {
        let s = try StudentTrainState.read(from: path, config: config, dataFingerprint: dataFingerprint,
                                           count: model.store.count)
        try model.store.flatValues.copy(from: s.values)
        try adam.restore(step: s.step, m: s.adamM, v: s.adamV)
        best = s.best
        epoch = s.epoch
        ctx.setDropoutKeysDrawn(UInt64(s.dropoutKeys))
        bestPRAUC = s.bestPRAUC
        bestEpoch = s.bestEpoch
        badEpochs = s.badEpochs
        stopped = s.stopped
        history = s.history
    }
}

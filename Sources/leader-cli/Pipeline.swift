import ArgumentParser
import Foundation
import LeaderCore

struct Pipeline: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the whole LEADER method: prepare, teacher, features, students (with and without KD, ablations, "
            + "several seeds), evaluation, report.",
        discussion: """
            --config takes a JSON object (or @FILE) with the keys of docs/pipeline.md; unknown keys are errors. \
            Everything lands in the output folder (report.md, report.json, plots/). Re-running resumes: finished \
            steps whose inputs did not change are reused. Progress with elapsed time and an estimate of what is \
            left on stderr; --json prints the result as one JSON object and no progress.
            """)

    @Option(help: "JSON config object or @FILE (docs/pipeline.md).") var config: String
    @Option(help: "Output folder (overrides the config's \"out\").") var out: String?
    @Option(help: "Threads (overrides the config's \"threads\"; 0 = all CPUs).") var threads: Int?
    @Flag(help: "One JSON object, no progress.") var json = false

    func run() throws {
        var text = try readTextArgument(config)
        if out != nil || threads != nil { text = try overriding(text) }
        let job = PipelineJob(config: try PipelineConfig.parse(json: text))
        let r = try job.run(progress: json ? nil : PipelineProgress().event)
        if json { try printJSON(r); return }
        print(r.summary.table())
        print("\nwrote \(r.reportMarkdown) and \(r.report) (\(String(format: "%.0f", r.seconds)) s); plots: "
            + r.summary.plots.joined(separator: ", "))
    }

    /// The config text with "out" / "threads" replaced by the flags.
    private func overriding(_ text: String) throws -> String {
        guard var obj = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw LeaderError.invalidArgument("pipeline config: not a JSON object")
        }
        if let out { obj["out"] = out }
        if let threads { obj["threads"] = threads }
        return String(decoding: try JSONSerialization.data(withJSONObject: obj), as: UTF8.self)
    }
}

/// The pipeline's progress on stderr: one line per step started or reused, a redrawn status line inside a
/// step (its stage and figures), elapsed time and the estimate of what is left.
final class PipelineProgress {
    private var current = "", lastDraw = ContinuousClock.now - .seconds(1)

    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%dh%02dm", t / 3600, t / 60 % 60) : String(format: "%dm%02ds", t / 60, t % 60)
    }

    func event(_ ev: JobEvent) -> Bool {
        let parts = ev.stage.split(separator: "/", maxSplits: 1).map(String.init)
        let step = parts.first ?? ev.stage, stage = parts.count > 1 ? parts[1] : ""
        let v = ev.values
        let elapsed = Self.clock(v["elapsed"] ?? 0)
        if stage == "reused" {
            stderr("[\(ev.done)/\(ev.total)] \(step): reused from an earlier run\n")
            return true
        }
        if step != current {
            if !current.isEmpty { stderr("\n") }
            current = step
            stderr("[\(ev.done + 1)/\(ev.total)] \(step) (elapsed \(elapsed))\n")
        }
        let now = ContinuousClock.now
        guard now - lastDraw > .milliseconds(250) else { return true }
        lastDraw = now
        var figures = ""
        if let l = v["loss"] { figures += String(format: " loss %.4f", l) }
        if let p = v["validationPRAUC"] { figures += String(format: " val PRAUC %.4f", p) }
        if let t = v["tokensPerSecond"] { figures += String(format: " %.0f tok/s", t) }
        let pct = v["stepFraction"].map { String(format: " %3.0f%%", $0 * 100) } ?? ""
        let left = v["remaining"].map { ", about \(Self.clock($0)) left" } ?? ""
        stderr("\r  \(stage)\(pct)\(figures) | elapsed \(elapsed)\(left)          ")
        return true
    }
}

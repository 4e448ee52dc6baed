import Foundation

/// Scores of a recommender trained outside leader (the PyHealth peers of `bench/peers/`, any other tool), so that
/// the same metric code scores it on the same patients: a JSON-lines file, one line per sample,
/// `{"id": "<patient id>:<target visit id>", "scores": {"<medication code>": probability, ...}}` — the ids and
/// codes `SampleExport` writes. A medication the line leaves out scores 0 (a model that never saw it in
/// training cannot rank it). Lines of samples outside the requested split are skipped.
public struct ExternalScores: Sendable {
    /// Score rows by sample id, each in the dataset's medication order.
    let rows: [String: [Float]]
    let path: String

    /// Reads `path`, checking every code against `medicationKeys` (the dataset's vocabulary).
    public init(path: String, medicationKeys: [String]) throws(LeaderError) {
        let bytes = try FileBytes.read(path)
        var column: [String: Int] = [:]
        for (i, k) in medicationKeys.enumerated() { column[k] = i }
        struct Line: Decodable { var id: String; var scores: [String: Double] }
        let dec = JSONDecoder()
        var rows: [String: [Float]] = [:]
        var lineNo = 0
        for raw in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNo += 1
            if raw.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
            let line: Line
            do { line = try dec.decode(Line.self, from: Data(raw)) } catch {
                throw .badFile("\(path): line \(lineNo): not an object {\"id\": string, \"scores\": {code: number}}")
            }
            var row = [Float](repeating: 0, count: medicationKeys.count)
            for (code, p) in line.scores {
                guard let j = column[code] else {
                    throw .badFile("\(path): line \(lineNo): field scores: a medication code that is not in the dataset's "
                        + "vocabulary (the codes are the dataset's ATC3 keys)")
                }
                guard p.isFinite, p >= 0, p <= 1 else {
                    throw .badFile("\(path): line \(lineNo): field scores: a score outside 0...1 (probabilities expected)")
                }
                row[j] = Float(p)
            }
            guard rows.updateValue(row, forKey: line.id) == nil else {
                throw .badFile("\(path): line \(lineNo): field id: a sample given twice")
            }
        }
        self.rows = rows
        self.path = path
    }

    /// The scores of the samples `ids` (in that order) with their truths and visit counts from `examples`.
    public func scored(ids: [String], examples: [StudentExample], medications: Int) throws(LeaderError) -> ScoredSamples {
        guard ids.count == examples.count else {
            throw .internalError("external scores: \(ids.count) ids for \(examples.count) examples")
        }
        var scores: [Float] = []
        scores.reserveCapacity(try Checked.product(ids.count, medications, "external scores"))
        var missing = 0
        for id in ids {
            if let r = rows[id], r.count == medications { scores += r } else { missing += 1 }
        }
        guard missing == 0 else {
            throw .incompatible("\(path): \(missing) of the \(ids.count) samples asked for have no line (was the file "
                + "written for this dataset?)")
        }
        return try ScoredSamples(medications: medications, scores: scores, truths: examples.map(\.targetMedications),
                                 visitCounts: examples.map(\.visitCount))
    }
}

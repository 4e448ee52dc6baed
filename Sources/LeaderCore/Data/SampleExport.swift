import Foundation

/// The samples of a prepared dataset as JSON lines with code keys, for tools outside leader (the PyHealth peers
/// of `bench/peers/`): one line per sample,
/// `{"id", "split", "visits": [{"diagnoses": [...], "procedures": [...], "medications": [...]}, ...]}`,
/// the visits `historyStart ... target` oldest first; the LAST visit is the target and its medications are the
/// labels. `id` is `PreparedDataset.sampleID` (the key `ExternalScores` reads back).
public enum SampleExport {
    struct Visit: Encodable { var diagnoses: [String], procedures: [String], medications: [String] }
    struct Line: Encodable { var id: String, split: String, visits: [Visit] }

    /// The lines of every sample of `part` (nil: all), in file order.
    public static func jsonLines(_ d: PreparedDataset, part: SplitPart?) throws(LeaderError) -> [UInt8] {
        let c = d.cohort
        func keys(_ v: Vocabulary, _ ids: [Int32], _ what: String) throws(LeaderError) -> [String] {
            try ids.map { (i) throws(LeaderError) -> String in
                guard v.keys.indices.contains(Int(i)) else { throw .badFile("dataset: \(what) id \(i) outside its vocabulary") }
                return v.keys[Int(i)]
            }
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out: [UInt8] = []
        for s in d.samples {
            let window = try d.visits(of: s), p = Int(s.patient)
            if let part, d.split[p] != part { continue }
            var rows: [Visit] = []
            for v in window {
                rows.append(Visit(diagnoses: try keys(c.diagnoses, v.diagnoses, "diagnosis"),
                                  procedures: try keys(c.procedures, v.procedures, "procedure"),
                                  medications: try keys(c.medications, v.medications, "medication")))
            }
            let line = Line(id: try d.sampleID(s), split: d.split[p].name, visits: rows)
            do { out += try enc.encode(line) } catch { throw .internalError("sample export: \(error)") }
            out.append(0x0A)
        }
        return out
    }
}

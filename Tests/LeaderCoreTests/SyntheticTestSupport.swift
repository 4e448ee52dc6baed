import Foundation
@testable import LeaderCore

/// Helpers for the synthetic-cohort tests: a temp folder, a strict RFC 4180 parser, and the written tables.
enum SyntheticTestSupport {
    static func tempDir(_ tag: String) -> String {
        let dir = NSTemporaryDirectory() + "leader-synth-\(tag)-\(UUID().uuidString)"
        return dir
    }

    /// Parses CSV text (quoted fields with doubled quotes, LF rows); nil if malformed (e.g. an unclosed quote or
    /// text after a closing quote).
    static func parseCSV(_ text: String) -> [[String]]? {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var afterQuote = false
        var it = Array(text.unicodeScalars)[...]
        while let c = it.popFirst() {
            if quoted {
                if c == "\"" {
                    if it.first == "\"" { field.unicodeScalars.append("\""); it.removeFirst() } else { quoted = false; afterQuote = true }
                } else {
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case ",":
                row.append(field); field = ""; afterQuote = false
            case "\n":
                row.append(field); field = ""; afterQuote = false
                rows.append(row); row = []
            case "\"":
                guard field.isEmpty, !afterQuote else { return nil }
                quoted = true
            case "\r":
                return nil
            default:
                guard !afterQuote else { return nil }
                field.unicodeScalars.append(c)
            }
        }
        guard !quoted, field.isEmpty, row.isEmpty else { return nil }
        return rows
    }

    /// A written table: header and rows, every row checked to have the header's column count.
    struct Table {
        let header: [String]
        let rows: [[String]]
        func column(_ name: String) -> Int { header.firstIndex(of: name) ?? -1 }
    }

    enum TableError: Error { case unreadable(String), malformed(String), ragged(String, row: Int) }

    static func readTable(_ path: String) throws -> Table {
        guard let data = FileManager.default.contents(atPath: path) else { throw TableError.unreadable(path) }
        guard let all = parseCSV(String(decoding: data, as: UTF8.self)), let header = all.first else {
            throw TableError.malformed(path)
        }
        let rows = Array(all.dropFirst())
        if let bad = rows.firstIndex(where: { $0.count != header.count }) { throw TableError.ragged(path, row: bad + 1) }
        return Table(header: header, rows: rows)
    }

    /// Writes `patients` patients with `seed` into a fresh temp folder.
    static func write(patients: Int, seed: UInt64, tag: String) throws -> (String, SyntheticSummary) {
        let dir = tempDir(tag)
        let summary = try SyntheticCohort.write(SyntheticConfig(patients: patients, seed: seed), to: dir)
        return (dir, summary)
    }

    static func allFiles(_ dir: String) -> [String] {
        let f = SyntheticFormat.mimic3
        return f.tableFiles + f.dictionaryFiles + f.mapFiles
    }

    static func remove(_ dir: String) { try? FileManager.default.removeItem(atPath: dir) }
}

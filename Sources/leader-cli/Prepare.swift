import ArgumentParser
import Foundation
import LeaderCore

struct Prepare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load MIMIC-III, MIMIC-IV or OMOP CSV tables and write a prepared dataset (.ldata).",
        discussion: """
            Applies LEADER's filtering (top 300 medications, top 2000 diagnoses, all procedures or top 1000 on \
            MIMIC-IV; visits need all three code sets), builds one sample per patient (target = last visit, \
            history = up to 10 most recent earlier visits) and a seeded 80/10/10 patient split. \
            --config takes a JSON object with any of: topMedications, topDiagnoses, topProcedures (null = all), \
            requireAllCodeSets, minVisits, maxHistory, samplePerVisit, split ("shuffle"|"sequential"), seed, \
            trainFraction, validationFraction, profileGender, profileAge, profileVisit ("target"|"first"). \
            Progress goes to stderr; the report (text, or JSON with --json) to stdout.
            """)

    @Option(help: "mimic3, mimic4 or omop") var source: String
    @Option(help: "Folder with the source tables (.csv or .csv.gz, any header case); OMOP also a postgresql:// URI (credentials from the URI, PGPASSWORD or ~/.pgpass).")
    var input: String
    @Option(help: "PostgreSQL input: the schema of the CDM tables (default public).") var schema: String?
    @Option(help: "PostgreSQL input: the schema of concept, concept_ancestor, concept_relationship (default: --schema).")
    var vocabularySchema: String?
    @Option(help: "Folder with medication maps (ndc2atc3.csv, gsn_atc_ndc_mapping.csv.gz, mimic_drug_to_atc.csv.gz, optionally the WHO ATC file); MIMIC only. Default: the maps the project ships in data/.")
    var maps: String?
    @Option(help: "Output .ldata file.") var out: String
    @Option(help: "JSON config object, or @FILE to read it from a file.") var config: String?
    @Flag(help: "Print the report as JSON and no progress.") var json = false

    func run() throws {
        guard let src = DataSource(rawValue: source.lowercased()) else {
            throw ValidationError("--source must be mimic3, mimic4 or omop")
        }
        var cfg = PrepareConfig.defaults(for: src)
        if let config { cfg = try PrepareConfig.parse(json: try readTextArgument(config), base: cfg) }
        var job = PrepareJob(source: src.rawValue, input: input, maps: maps, out: out, config: cfg)
        job.schema = schema
        job.vocabularySchema = vocabularySchema
        let r = try job.run(progress: json ? nil : { ev in
            stderr("leader prepare: \(ev.stage == "write" ? "writing \(out)" : ev.stage)\n")
            return true
        })
        if json {
            struct Out: Encodable {
                var output: String
                var seconds: Double
                var peakRSSBytes: Int?
                var statistics: DataStatistics
                var report: PreparationReport
            }
            try printJSON(Out(output: out, seconds: r.seconds, peakRSSBytes: peakRSS(), statistics: r.statistics,
                              report: r.report))
        } else {
            print(StatsText.render(r.statistics, report: r.report))
            print(String(format: "wrote %@ in %.2f s", out, r.seconds))
        }
    }
}

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print statistics of a prepared dataset (.ldata): patients, visits, codes, profile, coverage.")

    @Argument(help: "A .ldata file written by `leader prepare`.") var file: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let data = try LDataFile.read(file)
        let stats = DataStatistics(data)
        if json {
            struct Out: Encodable {
                var statistics: DataStatistics
                var report: PreparationReport
            }
            try printJSON(Out(statistics: stats, report: data.cohort.report))
        } else {
            print(StatsText.render(stats, report: data.cohort.report))
        }
    }
}

func printJSON<T: Encodable>(_ v: T) throws {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try enc.encode(v), as: UTF8.self))
}

/// Peak resident set size of this process (Linux `VmHWM`), in bytes.
func peakRSS() -> Int? {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let parts = line.split(separator: " ", omittingEmptySubsequences: true)
        if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
    }
    return nil
}

enum StatsText {
    static func render(_ s: DataStatistics, report: PreparationReport) -> String {
        var lines: [String] = report.notes.map { "NOTE: \($0)" }   // first, where a reader looks
        func pct(_ x: Double) -> String { String(format: "%.1f %%", x * 100) }
        lines.append("source: \(s.source)")
        lines.append("patients: \(s.patients)  visits: \(s.visits)  visits/patient: "
            + String(format: "%.3f", s.averageVisitsPerPatient) + " (max \(s.maxVisitsPerPatient))")
        lines.append("single-visit patients: \(s.singleVisitPatients) (\(pct(s.singleVisitShare)))")
        for k in CodeKind.allCases {
            if let c = s.codes[k.rawValue] {
                lines.append("\(k.rawValue): \(c.vocabulary) codes, " + String(format: "%.2f", c.averagePerVisit)
                    + " per visit (max \(c.maxPerVisit))")
            }
        }
        lines.append("profile cardinality (incl. unknown): "
            + s.profileCardinality.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        lines.append("samples: " + ["all", "train", "validation", "test"].map { "\($0) \(s.samples[$0] ?? 0)" }
            .joined(separator: ", "))
        lines.append("medication rows: " + s.medicationRows.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            .joined(separator: ", ") + " (coverage \(pct(s.medicationCoverage)))")
        lines.append("rows read: " + report.rowsRead.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            .joined(separator: ", "))
        lines.append("codes seen → kept: " + CodeKind.allCases.map {
            "\($0.rawValue) \(report.codesSeen[$0.rawValue] ?? 0) → \(report.codesKept[$0.rawValue] ?? 0)"
        }.joined(separator: ", "))
        lines.append("codes without title: " + CodeKind.allCases.map {
            "\($0.rawValue) \(report.codesWithoutTitle[$0.rawValue] ?? 0)"
        }.joined(separator: ", "))
        if !s.dropped.isEmpty {
            lines.append("dropped:")
            for (k, v) in s.dropped.sorted(by: { $0.key < $1.key }) { lines.append("  \(k): \(v)") }
        }
        return lines.joined(separator: "\n")
    }
}

struct Samples: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the samples of a prepared dataset as JSON lines with code keys "
            + "({id, split, visits: [{diagnoses, procedures, medications}]}, the last visit the target) for tools "
            + "outside leader; bench/peers/ trains the PyHealth models on them.")

    @Option(help: "Prepared dataset (.ldata).") var data: String
    @Option(help: "Output .jsonl file.") var out: String
    @Option(help: "train, validation, test or all.") var split = "all"

    func run() throws {
        let d = try LDataFile.read(data)
        let bytes = try SampleExport.jsonLines(d, part: try parseSplit(split))
        try FileWriting.write(bytes, to: out)
        print("wrote \(out): \(bytes.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }) samples")
    }
}

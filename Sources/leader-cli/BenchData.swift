import ArgumentParser
import Foundation
import LeaderCore

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (not tests): figures go to docs/benchmarks-data.md.",
        subcommands: [BenchCSV.self, BenchReplicate.self, BenchStudent.self])
}

/// Generates a PRESCRIPTIONS-like CSV and measures the tokenizer (rows/s, MB/s), plain and gzip.
struct BenchCSV: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csv",
        abstract: "Generate a PRESCRIPTIONS-like CSV (plain and .gz) and measure CSV reading rows/s.")

    @Option(help: "Rows to generate.") var rows = 5_000_000
    @Option(help: "Folder for the generated files (kept; default: a temporary folder, removed after).") var dir: String?
    @Option(help: "Timed repetitions per file (best is reported).") var repeats = 3

    func validate() throws { try requireAtLeast([("--rows", rows, 1), ("--repeats", repeats, 1)]) }
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let folder = dir ?? NSTemporaryDirectory() + "leader-bench-csv-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { if dir == nil { try? FileManager.default.removeItem(atPath: folder) } }
        let plain = folder + "/PRESCRIPTIONS.csv", gz = folder + "/PRESCRIPTIONS.csv.gz"
        let clock = ContinuousClock()
        var t0 = clock.now
        let bytes = Self.generate(rows: rows)
        let genSeconds = (clock.now - t0) / .seconds(1)
        t0 = clock.now
        try FileWriting.write(bytes, to: plain)
        try FileWriting.write(bytes, to: gz, gzipLevel: 1)
        let writeSeconds = (clock.now - t0) / .seconds(1)
        let mb = Double(bytes.count) / 1e6
        var results: [[String: Double]] = []
        for (name, path) in [("plain", plain), ("gzip", gz)] {
            for mode in ["tokenize", "tokenize+parse"] {
                var best = Double.infinity, bestCPU = Double.infinity
                var n = 0
                for _ in 0..<max(1, repeats) {
                    let start = clock.now
                    let cpu0 = cpuSeconds()
                    let r = try CSVReader(path: path)
                    let hadm = try r.column("hadm_id"), ndc = try r.column("ndc")
                    var count = 0, check = 0
                    if mode == "tokenize" {
                        try r.forEachRow { (row: CSVRow) throws(LeaderError) in
                            count += 1
                            check &+= row.bytes(ndc).count
                        }
                    } else {
                        try r.forEachRow { (row: CSVRow) throws(LeaderError) in
                            count += 1
                            check &+= Int(CSVFieldBench.int(row.bytes(hadm)))
                        }
                    }
                    best = min(best, (clock.now - start) / .seconds(1))
                    bestCPU = min(bestCPU, cpuSeconds() - cpu0)
                    n = count + (check == Int.min ? 1 : 0)
                }
                results.append(["gzip": name == "gzip" ? 1 : 0, "parse": mode == "tokenize" ? 0 : 1,
                                "rows": Double(n), "seconds": best, "rowsPerSecond": Double(n) / best,
                                "MBPerSecond": mb / best, "cpuSeconds": bestCPU,
                                "rowsPerCPUSecond": Double(n) / bestCPU])
                if !json {
                    print(String(format: "%-6@ %-15@ %d rows in %.3f s wall (%.3f s CPU): %.2f M rows/s wall, "
                                 + "%.2f M rows per CPU-second, %.0f MB/s (uncompressed)",
                                 name, mode, n, best, bestCPU, Double(n) / best / 1e6, Double(n) / bestCPU / 1e6,
                                 mb / best))
                }
            }
        }
        let gzSize = (try? FileManager.default.attributesOfItem(atPath: gz)[.size] as? Int) ?? 0
        if json {
            struct Out: Encodable {
                var rows: Int
                var bytes: Int
                var gzipBytes: Int
                var generateSeconds: Double
                var writeSeconds: Double
                var results: [[String: Double]]
            }
            try printJSON(Out(rows: rows, bytes: bytes.count, gzipBytes: gzSize, generateSeconds: genSeconds,
                              writeSeconds: writeSeconds, results: results))
        } else {
            print(String(format: "file: %.1f MB plain, %.1f MB gzip (level 1); generated in %.1f s, written in %.1f s",
                         mb, Double(gzSize) / 1e6, genSeconds, writeSeconds))
        }
    }

    /// Deterministic PRESCRIPTIONS-like rows (MIMIC-III v1.4 columns, ~150 bytes a row, some quoted fields).
    static func generate(rows: Int) -> [UInt8] {
        let header = "row_id,subject_id,hadm_id,icustay_id,startdate,enddate,drug_type,drug,drug_name_poe,"
            + "drug_name_generic,formulary_drug_cd,gsn,ndc,prod_strength,dose_val_rx,dose_unit_rx,form_val_disp,"
            + "form_unit_disp,route\n"
        let drugs = ["Acetaminophen", "Furosemide", "Heparin", "Insulin", "Metoprolol Tartrate", "Potassium Chloride",
                     "\"Sodium Chloride 0.9%, Flush\"", "Docusate Sodium", "Senna", "Pantoprazole", "Vancomycin",
                     "\"Magnesium Sulfate (Premix), IV\"", "Aspirin", "Lorazepam", "Morphine Sulfate"]
        let units = ["mg", "mL", "UNIT", "mEq", "g"]
        let routes = ["PO", "IV", "SC", "IV DRIP", "PO/NG"]
        var out = Array(header.utf8)
        out.reserveCapacity(rows * 160)
        var rng = SplitMix64(seed: 2024)
        for i in 0..<rows {
            let r = rng.next()
            let subject = 10_000 + i / 100, hadm = 100_000 + i / 25
            let d = drugs[Int(r % UInt64(drugs.count))]
            let day = 1 + Int((r >> 8) % 28)
            let ndc = 10_000_000 + Int((r >> 16) % 90_000_000)
            let line = "\(i + 1),\(subject),\(hadm),\((r >> 40) % 2 == 0 ? "" : String(200_000 + i / 40)),"
                + "2150-03-\(day < 10 ? "0" : "")\(day) 00:00:00,2150-03-\(day < 10 ? "0" : "")\(day) 00:00:00,MAIN,"
                + "\(d),\(d),\(d),FORM\(r % 997),\(r % 100_000),000\(ndc),\((r >> 24) % 500) mg Tab,"
                + "\((r >> 28) % 100),\(units[Int((r >> 32) % 5)]),1,TAB,\(routes[Int((r >> 36) % 5)])\n"
            out.append(contentsOf: line.utf8)
        }
        return out
    }
}

/// CPU time of this process (user + system), seconds.
func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// CPU time of the calling thread (unaffected by waiting for a core on a loaded machine).
func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

enum CSVFieldBench {
    @inline(__always)
    static func int(_ b: UnsafeBufferPointer<UInt8>) -> Int64 {
        var v: Int64 = 0
        for c in b where c >= 0x30 && c <= 0x39 { v = v &* 10 &+ Int64(c &- 0x30) }
        return v
    }
}

/// Writes the MIMIC-III demo replicated K times (ids shifted per copy) as a big cohort for `leader prepare`.
struct BenchReplicate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replicate-mimic3",
        abstract: "Write the MIMIC-III demo replicated K times (shifted subject/hadm ids) into a folder.")

    @Option(help: "MIMIC-III demo folder.") var input: String
    @Option(help: "Copies.") var copies = 100

    func validate() throws { try requireAtLeast([("--copies", copies, 1)]) }
    @Option(help: "Output folder.") var out: String
    @Flag(help: "Write .csv.gz instead of .csv.") var gzip = false

    func run() throws {
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for table in ["PATIENTS", "ADMISSIONS", "DIAGNOSES_ICD", "PROCEDURES_ICD", "PRESCRIPTIONS"] {
            let r = try CSVReader(path: input + "/\(table).csv")
            var rows: [[String]] = []
            try r.forEachRow { (row: CSVRow) throws(LeaderError) in rows.append((0..<row.count).map { row.string($0) }) }
            let sid = r.optionalColumn("subject_id"), hid = r.optionalColumn("hadm_id")
            var bytes: [UInt8] = []
            for (i, h) in r.header.enumerated() {
                if i > 0 { bytes.append(0x2C) }
                FileWriting.appendCSVField(h, to: &bytes)
            }
            bytes.append(0x0A)
            for k in 0..<copies {
                for row in rows {
                    for (i, f) in row.enumerated() {
                        if i > 0 { bytes.append(0x2C) }
                        if i == sid, let v = Int(f) {
                            bytes.append(contentsOf: String(v + k * 1_000_000).utf8)
                        } else if i == hid, let v = Int(f) {
                            bytes.append(contentsOf: String(v + k * 10_000_000).utf8)
                        } else {
                            FileWriting.appendCSVField(f, to: &bytes)
                        }
                    }
                    bytes.append(0x0A)
                }
            }
            try FileWriting.write(bytes, to: out + "/\(table).csv" + (gzip ? ".gz" : ""), gzipLevel: gzip ? 1 : 0)
            FileHandle.standardError.write(Data("wrote \(table): \(rows.count * copies) rows\n".utf8))
        }
        for table in ["D_ICD_DIAGNOSES", "D_ICD_PROCEDURES"] {
            let src = input + "/\(table).csv", dst = out + "/\(table).csv"
            try? FileManager.default.removeItem(atPath: dst)
            try FileManager.default.copyItem(atPath: src, toPath: dst)
        }
    }
}

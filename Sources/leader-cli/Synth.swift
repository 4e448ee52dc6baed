import ArgumentParser
import Foundation
import LeaderCore

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the built-in synthetic cohort as a MIMIC-III, MIMIC-IV or OMOP folder.",
        discussion: """
            Deterministic: the same seed and patient count give byte-identical files, and patient i is the same for
            any count and in every format. Read it back with
            `leader prepare --source mimic3 --input DIR --maps DIR/maps` (mimic4: the same with --source mimic4;
            omop: `leader prepare --source omop --input DIR`). Rules: docs/synthetic-cohort.md.
            """)

    @Option(help: "Number of patients (1...10000000).") var patients = 1000
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Output folder (created if missing; files in it are overwritten).") var out: String
    @Option(help: "Table layout: mimic3 (MIMIC-III v1.4), mimic4 (MIMIC-IV hosp/) or omop (OMOP CDM v5.4).")
    var format: SyntheticFormat = .mimic3
    @Option(help: "OMOP: share of the visits written to visit_occurrence (0...1); the others are referenced by their events only.")
    var visitTableShare: Double = 1
    @Flag(help: "Print one JSON object instead of the table; no progress on stderr.") var json = false

    func run() throws {
        let config = SyntheticConfig(patients: patients, seed: seed)
        do { try config.validate() } catch { throw ValidationError(error.message) }
        guard visitTableShare >= 0, visitTableShare <= 1 else {
            throw ValidationError("--visit-table-share must be in 0...1 (got \(visitTableShare))")
        }
        guard visitTableShare == 1 || format == .omop else {
            throw ValidationError("--visit-table-share is an OMOP setting (use it with --format omop)")
        }
        let start = Date()
        let json = self.json
        let total = patients
        var lastPercent = -1
        let summary: SyntheticSummary
        do {
            summary = try SyntheticCohort.write(config, to: out, format: format, visitTableShare: visitTableShare) { done in
                if !json {
                    let percent = done * 100 / max(total, 1)
                    if percent != lastPercent {
                        lastPercent = percent
                        FileHandle.standardError.write(Data("\rsynth: \(done)/\(total) patients (\(percent) %)".utf8))
                    }
                }
                return true
            }
        } catch {
            FileHandle.standardError.write(Data("\(json ? "" : "\n")error: \(error.message)\n".utf8))
            throw ExitCode.failure
        }
        let seconds = Date().timeIntervalSince(start)
        let tables = format.tableFiles.map { String($0.split(separator: "/").last ?? "").replacingOccurrences(of: ".csv", with: "") }
        let counts = [summary.patientsRows, summary.admissionsRows, summary.diagnosesRows, summary.proceduresRows,
                      summary.prescriptionsRows]
        if json {
            var object: [String: Any] = [
                "out": out, "seed": seed, "seconds": (seconds * 1000).rounded() / 1000,
                "patients": summary.patients, "admissions": summary.admissions,
                "single_visit_patients": summary.singleVisitPatients,
                "single_visit_share": (summary.singleVisitShare * 10000).rounded() / 10000,
                "max_visits": summary.maxVisits,
                "format": format.rawValue,
                "rows": Dictionary(uniqueKeysWithValues: zip(tables, counts)),
                "visits_missing_from_visit_table": summary.visitsMissingFromVisitTable,
                "prescriptions_unmapped_ndc": summary.prescriptionsUnmappedNDC,
                "codes_used": ["diagnoses": summary.diagnosisCodes, "procedures": summary.procedureCodes,
                               "atc3_classes": summary.drugClasses, "drug_products": summary.drugProducts],
                "bytes": summary.bytes,
            ]
            object["files"] = format.tableFiles + format.dictionaryFiles + format.mapFiles
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            FileHandle.standardError.write(Data("\n".utf8))
            let rate = Double(summary.patients) / max(seconds, 1e-9)
            print("synthetic cohort (seed \(seed), \(format.rawValue)) written to \(out) in \(String(format: "%.2f", seconds)) s "
                  + "(\(Int(rate)) patients/s, \(summary.bytes / 1_048_576) MiB)")
            print("  patients            \(summary.patients)")
            print("  admissions          \(summary.admissions) (max \(summary.maxVisits) per patient)")
            print("  single-visit share  \(String(format: "%.1f", summary.singleVisitShare * 100)) % "
                  + "(\(summary.singleVisitPatients) patients)")
            print("  rows                " + zip(tables, counts).map { "\($0) \($1)" }.joined(separator: ", "))
            if format == .omop {
                print("  visit table         \(summary.visitsMissingFromVisitTable) of \(summary.admissions) visits left out "
                      + "(referenced by their events only)")
            }
            print("  per admission       \(perAdmission(summary.diagnosesRows, summary)) diagnoses, "
                  + "\(perAdmission(summary.proceduresRows, summary)) procedures, "
                  + "\(perAdmission(summary.prescriptionsRows, summary)) prescriptions")
            if format != .omop { print("  unmapped NDC rows   \(summary.prescriptionsUnmappedNDC) "
                  + "(\(String(format: "%.1f", 100 * Double(summary.prescriptionsUnmappedNDC) / Double(max(1, summary.prescriptionsRows)))) %, "
                  + "resolved by maps/drug_to_atc.csv)") }
            print("  codes used          \(summary.diagnosisCodes) diagnoses, \(summary.procedureCodes) procedures, "
                  + "\(summary.drugClasses) ATC3 classes, \(summary.drugProducts) drug products")
        }
    }

    private func perAdmission(_ rows: Int, _ s: SyntheticSummary) -> String {
        String(format: "%.1f", Double(rows) / Double(max(1, s.admissions)))
    }
}

extension SyntheticFormat: ExpressibleByArgument {}

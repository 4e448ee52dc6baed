import Foundation
@testable import LeaderCore

/// Shared helpers for the Data*Tests files.
enum DataTestSupport {
    /// Whether tests that need `../shared/data` run: when it is present, and always under CI (`CI` set), where
    /// its absence is a failure (`#require(sharedData)`), not a skip. Elsewhere they are skipped by name.
    static var runsSharedDataTests: Bool { sharedData != nil || ProcessInfo.processInfo.environment["CI"] != nil }

    /// `../shared/data` relative to the package root, or nil when absent.
    static var sharedData: String? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let p = root.deletingLastPathComponent().appendingPathComponent("shared/data").path
        return FileManager.default.fileExists(atPath: p + "/mimic3-demo/ADMISSIONS.csv") ? p : nil
    }

    /// The test resource folder (`Bundle.module`), or the source folder when the bundle lacks it.
    static var fixtures: String {
        if let r = Bundle.module.resourcePath, FileManager.default.fileExists(atPath: r + "/Fixtures/omop/person.csv") {
            return r + "/Fixtures"
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    }

    /// A fresh temporary folder.
    static func tempDir(_ tag: String = "data") -> String {
        let p = NSTemporaryDirectory() + "leader-\(tag)-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }

    static func write(_ text: String, to path: String) {
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    }

    /// All rows of a CSV text as strings (header excluded), via the real reader.
    static func rows(_ text: String) throws -> (header: [String], rows: [[String]], lines: [Int]) {
        let r = try CSVReader(data: Array(text.utf8), name: "mem.csv")
        var out: [[String]] = []
        var lines: [Int] = []
        try r.forEachRow { (row: CSVRow) throws(LeaderError) in
            out.append((0..<row.count).map { row.string($0) })
            lines.append(row.line)
        }
        return (r.header, out, lines)
    }

    /// A small MIMIC-III-format cohort: patients (id, visits), each visit (diagnoses, procedures, drug names).
    /// Drug names map through `mimic_drug_to_atc.csv` in the maps folder written next to it.
    struct MiniVisit {
        var dx: [String]
        var px: [String]
        var drugs: [String]
        var insurance = "Medicare"
    }

    /// Writes MIMIC-III tables + a maps folder; returns (input dir, maps dir).
    static func writeMIMIC3(_ patients: [(Int, [MiniVisit])], upper: Bool = false) -> (String, String) {
        let dir = tempDir("m3")
        let maps = dir + "/maps"
        try? FileManager.default.createDirectory(atPath: maps, withIntermediateDirectories: true)
        func h(_ s: String) -> String { upper ? s.uppercased() : s }
        var pat = h("row_id,subject_id,gender,dob") + "\n"
        var adm = h("row_id,subject_id,hadm_id,admittime,insurance,language,religion,marital_status,ethnicity") + "\n"
        var dx = h("row_id,subject_id,hadm_id,seq_num,icd9_code") + "\n"
        var px = dx
        var rx = h("row_id,subject_id,hadm_id,startdate,drug,ndc") + "\n"
        var dxT = h("row_id,icd9_code,short_title,long_title") + "\n"
        var pxT = dxT
        var drugMap = "drug,atc_code\n"
        var seenDx = Set<String>(), seenPx = Set<String>(), seenDrug = Set<String>()
        var hadm = 100
        for (pid, visits) in patients {
            pat += "\(pid),\(pid),\(pid % 2 == 0 ? "F" : "M"),2100-01-01 00:00:00\n"
            for (i, v) in visits.enumerated() {
                hadm += 1
                let day = String(format: "%02d", i + 1)
                adm += "\(hadm),\(pid),\(hadm),2150-01-\(day) 10:00:00,\(v.insurance),ENGL,CATHOLIC,MARRIED,WHITE\n"
                for c in v.dx {
                    dx += "1,\(pid),\(hadm),1,\(c)\n"
                    if seenDx.insert(c).inserted { dxT += "1,\(c),title \(c),\"long, \(c)\"\n" }
                }
                for c in v.px {
                    px += "1,\(pid),\(hadm),1,\(c)\n"
                    if seenPx.insert(c).inserted { pxT += "1,\(c),title \(c),long\n" }
                }
                for d in v.drugs {
                    rx += "1,\(pid),\(hadm),2150-01-\(day) 00:00:00,\(d),0\n"
                    if seenDrug.insert(d).inserted { drugMap += "\(d),\(d)01\n" }
                }
            }
        }
        write(pat, to: dir + "/PATIENTS.csv")
        write(adm, to: dir + "/ADMISSIONS.csv")
        write(dx, to: dir + "/DIAGNOSES_ICD.csv")
        write(px, to: dir + "/PROCEDURES_ICD.csv")
        write(rx, to: dir + "/PRESCRIPTIONS.csv")
        write(dxT, to: dir + "/D_ICD_DIAGNOSES.csv")
        write(pxT, to: dir + "/D_ICD_PROCEDURES.csv")
        write(drugMap, to: maps + "/mimic_drug_to_atc.csv")
        return (dir, maps)
    }
}

import Foundation
import Testing
@testable import LeaderCore

/// The embedded catalog against the real reference files in `../shared/data` (skipped when that folder is absent):
/// codes, titles, WHO names and NDC → ATC3 pairs are real, not invented.
@Suite struct SyntheticCatalogTests {
    static let shared: String? = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data").path
        return FileManager.default.fileExists(atPath: root + "/mimic3-demo/D_ICD_DIAGNOSES.csv") ? root : nil
    }()

    /// A reference file (these use CRLF line ends; the synthetic output uses LF and is parsed strictly).
    static func table(_ path: String) throws -> SyntheticTestSupport.Table {
        let data = try #require(FileManager.default.contents(atPath: path), "cannot read \(path)")
        let text = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        let rows = try #require(SyntheticTestSupport.parseCSV(text), "\(path) does not parse")
        let header = try #require(rows.first)
        return SyntheticTestSupport.Table(header: header, rows: Array(rows.dropFirst()))
    }

    @Test(.enabled(if: DataTestSupport.runsSharedDataTests, "needs ../shared/data"))
    func titlesAreTheMIMICIIITitles() throws {
        let root = try #require(Self.shared)
        let catalog = try SyntheticCatalog.shared()
        for (file, codes) in [("D_ICD_DIAGNOSES.csv", catalog.diagnoses), ("D_ICD_PROCEDURES.csv", catalog.procedures)] {
            let real = try Self.table(root + "/mimic3-demo/" + file)
            var byCode: [String: (String, String)] = [:]
            for r in real.rows { byCode[r[1]] = (r[2], r[3]) }
            for c in codes {
                let t = try #require(byCode[c.code], "\(c.code) is not in MIMIC-III \(file)")
                #expect(t.0 == c.shortTitle && t.1 == c.longTitle, "\(c.code) titles differ from \(file)")
            }
        }
    }

    @Test(.enabled(if: DataTestSupport.runsSharedDataTests, "needs ../shared/data"))
    func atcNamesAndNDCMapsAreReal() throws {
        let root = try #require(Self.shared)
        let catalog = try SyntheticCatalog.shared()
        let who = try Self.table(root + "/medmaps/WHO_ATC-DDD_2021-12-03.csv")
        var names: [String: String] = [:]
        for r in who.rows where names[r[0]] == nil { names[r[0]] = r[1] }
        for c in catalog.classes { #expect(names[c.atc3] == c.whoName, "\(c.atc3)") }
        for p in catalog.products where !p.ingredient.isEmpty {
            #expect(names[p.atc5]?.lowercased() == p.ingredient, "\(p.atc5)")
        }
        let ndc = try Self.table(root + "/medmaps/ndc2atc3.csv")
        var map: [String: String] = [:]
        for r in ndc.rows { map[r[0]] = r[1] }
        for p in catalog.products {
            if p.mapped {
                #expect(map[p.ndc] == catalog.classes[p.classIndex].atc3, "\(p.drug) \(p.ndc)")
            } else {
                #expect(map[p.ndc] == nil, "\(p.drug) \(p.ndc) is mapped in the real ndc2atc3")
            }
        }
    }
}

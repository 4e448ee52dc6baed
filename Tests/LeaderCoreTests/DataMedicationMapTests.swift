import Foundation
import Testing
@testable import LeaderCore

@Suite struct DataMedicationMapTests {
    @Test func ndcNormalisation() {
        #expect(MedicationMap.normalizeNDC("00904770418") == "00904770418")
        #expect(MedicationMap.normalizeNDC("904770418") == "00904770418")
        #expect(MedicationMap.normalizeNDC("904770418.0") == "00904770418")
        #expect(MedicationMap.normalizeNDC("0") == nil)
        #expect(MedicationMap.normalizeNDC("") == nil)
        #expect(MedicationMap.normalizeNDC("12-34") == nil)
    }

    @Test func gsnNormalisation() {
        #expect(MedicationMap.normalizeGSN("004489") == "004489")
        #expect(MedicationMap.normalizeGSN("4489") == "004489")
        #expect(MedicationMap.normalizeGSN("000000") == nil)
        #expect(MedicationMap.normalizeGSN("") == nil)
        #expect(MedicationMap.normalizeGSN("1234567") == nil)
        #expect(MedicationMap.normalizeGSN("12a4") == nil)
    }

    @Test func routesInOrderNDCThenRxcuiPairThenGSNThenName() throws {
        let dir = DataTestSupport.tempDir("maps")
        DataTestSupport.write("ndc,atc3\n00000000001,A01A\n00000000001,Z99Z\n", to: dir + "/ndc2atc3.csv")
        DataTestSupport.write("{'00000000002': u'111', '00000000003': u'222'}", to: dir + "/ndc2rxnorm_mapping.txt")
        DataTestSupport.write("RXCUI,ATC4\n111,B01AC\n222,C07AB\n", to: dir + "/RXCUI2atc4.csv")
        DataTestSupport.write("drug,atc_code\nAspirin,N02BA01\naspirin,X00XX00\n", to: dir + "/mimic_drug_to_atc.csv")
        DataTestSupport.write("gsn,atc,ndc\n004489,C03CA01,1\n004489,X00XX00,2\n016571,A12BA01,3\n",
                              to: dir + "/gsn_atc_ndc_mapping.csv")
        DataTestSupport.write("atc_code,atc_name\nN02B,OTHER ANALGESICS AND ANTIPYRETICS\nN02BA,SALICYLIC ACID\n",
                              to: dir + "/WHO_ATC-DDD_2021-12-03.csv")
        let m = try MedicationMap.load(directory: dir)
        #expect(m.map(ndc: "1", drug: "Aspirin").0 == "A01A")        // NDC first; first row per NDC wins
        #expect(m.map(ndc: "00000000002", drug: "Aspirin").0 == "B01A")   // NDC -> RxCUI -> ATC4 -> 4 characters
        #expect(m.map(ndc: "1", gsn: "004489", drug: "Aspirin") == ("A01A", .ndc))   // NDC before GSN
        #expect(m.map(ndc: "9", gsn: "4489", drug: "Aspirin") == ("C03C", .gsn))     // GSN before name; padded; first row wins
        #expect(m.map(ndc: "", gsn: "999999 016571", drug: "") == ("A12B", .gsn))   // the first of several that maps
        #expect(m.map(ndc: "0", gsn: "999999", drug: "ASPIRIN") == ("N02B", .name))  // name, case-insensitive, first row wins
        #expect(m.map(ndc: "0", drug: "Unknown").1 == .unmapped)
        #expect(m.hasGSNRoute)
        // titles: the WHO file's where given, the project's own catalogue for the other classes
        #expect(m.atc3Titles["N02B"] == "other analgesics and antipyretics")
        #expect(m.atc3Titles["C03C"] == "high-ceiling diuretics")
        #expect(m.atc3Titles.count == ATC3Names.all.count)
    }

    @Test(.enabled(if: DataTestSupport.runsSharedDataTests, "needs ../shared/data"))
    func realGAMENetDictionaryParses() throws {
        let data = try #require(DataTestSupport.sharedData, "../shared/data is missing (required when CI is set)")
        let pairs = try MedicationMap.parsePythonDict(data + "/medmaps/ndc2rxnorm_mapping.txt")
        #expect(pairs.count == 4204)
        #expect(pairs.first.map { $0.0 == "00338500341" && $0.1 == "1665046" } == true)
    }

    /// Broken map files are errors naming the file (and line, column or key) — never a map that silently maps less.
    @Test(arguments: [
        ("ndc2atc3.csv", "ndc,atc_level\n00000000001,A01A\n", "ndc2atc3.csv: missing column 'atc3' or 'atc' in the header (line 1)"),
        ("ndc2atc3.csv", "ndc,atc3\n00000000001,\"A01A\n", "ndc2atc3.csv: line 2, column 2: quoted field not closed before end of file"),
        ("ndc2atc3.csv", "", "ndc2atc3.csv: empty file, no header line"),
        ("drug_to_atc.csv", "name,atc_code\nAspirin,N02BA01\n", "drug_to_atc.csv: missing column 'drug' in the header (line 1)"),
    ])
    func brokenMapFilesAreErrorsNamingTheFile(file: String, text: String, message: String) throws {
        let dir = DataTestSupport.tempDir("maps")
        DataTestSupport.write(text, to: dir + "/" + file)
        let e = expectError(.badFile, message) { try MedicationMap.load(directory: dir) }
        #expect(e?.message.hasPrefix(dir + "/") == true)
    }

    @Test func brokenPythonDictionaryIsAnError() throws {
        for (text, message) in [("{'00000000002': u'111", "ndc2rxnorm_mapping.txt: unterminated string at byte 17"),
                                ("{'00000000002': u'111', '3'}", "ndc2rxnorm_mapping.txt: not a dictionary of key: value pairs")] {
            let dir = DataTestSupport.tempDir("maps")
            DataTestSupport.write("RXCUI,ATC4\n111,B01AC\n", to: dir + "/RXCUI2atc4.csv")
            DataTestSupport.write(text, to: dir + "/ndc2rxnorm_mapping.txt")
            expectError(.badFile, message) { try MedicationMap.load(directory: dir) }
        }
        expectError(.io, "/nonexistent-maps: medication map folder not found") {
            try MedicationMap.load(directory: "/nonexistent-maps")
        }
    }

    @Test func noMapAtAllIsAnError() throws {
        let dir = DataTestSupport.tempDir("maps")
        expectError(.io, "no medication map found (expected ndc2atc3.csv, RXCUI2atc4.csv + ndc2rxcui.csv, gsn_atc_ndc_mapping.csv.gz, mimic_drug_to_atc.csv.gz or drug_to_atc.csv)") { try MedicationMap.load(directory: dir) }
    }

    /// The ATC3 names cover the synthetic catalogue's classes, with the same (lower-cased) names.
    @Test func atc3NamesCoverTheSyntheticCatalogue() throws {
        let catalog = try SyntheticCatalog.shared()
        for c in catalog.classes { #expect(ATC3Names.all[c.atc3] == c.whoName.lowercased(), "\(c.atc3)") }
        #expect(ATC3Names.all.count == 201)
    }

    /// The maps shipped in data/ are the openly licensed files of ../shared/data/medmaps, byte for byte, with
    /// their licences; the WHO ATC file (non-commercial) is not among them.
    @Test(.enabled(if: DataTestSupport.runsSharedDataTests, "needs ../shared/data"))
    func shippedMapsAreTheOpenlyLicensedFiles() throws {
        let data = try #require(DataTestSupport.sharedData, "../shared/data is missing (required when CI is set)")
        let shipped = try #require(ProjectFiles.medicationMapsFolder(), "data/ not found")
        for name in ["ndc2atc3.csv", "ndc2rxcui.csv", "gsn_atc_ndc_mapping.csv.gz", "mimic_drug_to_atc.csv.gz",
                     "ddi_atc3_pairs.csv", "LICENSE-GAMENet", "LICENSE-MoleRec", "LICENSE-ethos"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: shipped + "/" + name))
            let b = try Data(contentsOf: URL(fileURLWithPath: data + "/medmaps/" + name))
            #expect(a == b, "\(name)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: shipped)
        #expect(!files.contains { $0.hasPrefix("WHO") })
        let m = try MedicationMap.load(directory: shipped)
        #expect(m.hasCodeRoute && m.hasGSNRoute)
        #expect(m.sources.sorted() == ["gsn_atc_ndc_mapping", "mimic_drug_to_atc", "ndc2atc3"])
    }
}

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

    @Test func routesInOrderNDCThenRxcuiPairThenName() throws {
        let dir = DataTestSupport.tempDir("maps")
        DataTestSupport.write("ndc,atc3\n00000000001,A01A\n00000000001,Z99Z\n", to: dir + "/ndc2atc3.csv")
        DataTestSupport.write("{'00000000002': u'111', '00000000003': u'222'}", to: dir + "/ndc2rxnorm_mapping.txt")
        DataTestSupport.write("RXCUI,ATC4\n111,B01AC\n222,C07AB\n", to: dir + "/RXCUI2atc4.csv")
        DataTestSupport.write("drug,atc_code\nAspirin,N02BA01\naspirin,X00XX00\n", to: dir + "/mimic_drug_to_atc.csv")
        DataTestSupport.write("atc_code,atc_name\nN02B,OTHER ANALGESICS AND ANTIPYRETICS\nN02BA,SALICYLIC ACID\n",
                              to: dir + "/WHO_ATC-DDD_2021-12-03.csv")
        let m = try MedicationMap.load(directory: dir)
        #expect(m.map(ndc: "1", drug: "Aspirin").0 == "A01A")        // NDC first; first row per NDC wins
        #expect(m.map(ndc: "00000000002", drug: "Aspirin").0 == "B01A")   // NDC -> RxCUI -> ATC4 -> 4 characters
        #expect(m.map(ndc: "0", drug: "ASPIRIN").0 == "N02B")      // name, case-insensitive, first row wins
        #expect(m.map(ndc: "0", drug: "Unknown").1 == .none)
        #expect(m.atc3Titles == ["N02B": "other analgesics and antipyretics"])
    }

    @Test(.enabled(if: DataTestSupport.runsSharedDataTests, "needs ../shared/data"))
    func realGAMENetDictionaryParses() throws {
        let data = try #require(DataTestSupport.sharedData, "../shared/data is missing (required when CI is set)")
        let pairs = try MedicationMap.parsePythonDict(data + "/medmaps/ndc2rxnorm_mapping.txt")
        #expect(pairs.count == 4204)
        #expect(pairs.first.map { $0.0 == "00338500341" && $0.1 == "1665046" } == true)
    }

    @Test func noMapAtAllIsAnError() throws {
        let dir = DataTestSupport.tempDir("maps")
        expectError(.io, "no medication map found (expected ndc2atc3.csv, RXCUI2atc4.csv + ndc2rxcui.csv, mimic_drug_to_atc.csv.gz or drug_to_atc.csv)") { try MedicationMap.load(directory: dir) }
    }
}

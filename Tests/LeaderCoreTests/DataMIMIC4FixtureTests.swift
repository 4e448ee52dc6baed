import Foundation
import Testing
@testable import LeaderCore

/// The MIMIC-IV loader on a small hand-made `hosp/` folder (no `../shared` needed): versioned ICD keys, titles
/// per version, age from the anchor, MIMIC-IV's profile columns, gzip and plain tables mixed, and its errors.
@Suite struct DataMIMIC4FixtureTests {
    /// Patients 1 (two visits: ICD-9 then ICD-10), 2 (one visit) and 3 (one visit, no procedure: dropped by
    /// LEADER's all-three-sets rule); "4019" exists as an ICD-9 code and, to test the keys, as an ICD-10 one.
    static func writeHosp() throws -> (dir: String, maps: String) {
        let root = DataTestSupport.tempDir("m4")
        let dir = root + "/hosp", maps = root + "/maps"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: maps, withIntermediateDirectories: true)
        DataTestSupport.write("""
            subject_id,gender,anchor_age,anchor_year,anchor_year_group,dod
            1,F,60,2150,2008 - 2010,
            2,M,35,2140,2011 - 2013,
            3,M,80,2160,2014 - 2016,

            """, to: dir + "/patients.csv")
        DataTestSupport.write("""
            subject_id,hadm_id,admittime,dischtime,admission_type,insurance,language,marital_status,race
            1,11,2150-03-01 10:00:00,2150-03-05 10:00:00,URGENT,Medicare,ENGLISH,MARRIED,WHITE
            1,12,2155-07-01 08:00:00,2155-07-03 10:00:00,EW EMER.,Medicare,ENGLISH,WIDOWED,WHITE
            2,21,2141-01-10 09:00:00,2141-01-12 09:00:00,ELECTIVE,Private,?,SINGLE,"BLACK/AFRICAN AMERICAN"
            3,31,2161-02-02 02:00:00,2161-02-03 02:00:00,URGENT,Other,ENGLISH,,ASIAN

            """, to: dir + "/admissions.csv")
        DataTestSupport.write("""
            subject_id,hadm_id,seq_num,icd_code,icd_version
            1,11,1,4019,9
            1,11,2,25000,9
            1,12,1,I10,10
            1,12,2,4019,10
            2,21,1,4019,9
            3,31,1,I10,10
            2,99,1,4019,9

            """, to: dir + "/diagnoses_icd.csv")
        try FileWriting.write(Array("""
            subject_id,hadm_id,seq_num,chartdate,icd_code,icd_version
            1,11,1,2150-03-02,3893,9
            1,12,1,2155-07-02,02HV33Z,10
            2,21,1,2141-01-11,3893,9

            """.utf8), to: dir + "/procedures_icd.csv.gz", gzipLevel: 6)
        DataTestSupport.write("""
            subject_id,hadm_id,pharmacy_id,starttime,stoptime,drug,ndc
            1,11,1,2150-03-01 12:00:00,,Aspirin,0
            1,12,2,2155-07-01 12:00:00,,Lisinopril,0
            2,21,3,2141-01-10 12:00:00,,Aspirin,0
            2,21,4,2141-01-10 13:00:00,,Unmapped drug,0
            3,31,5,2161-02-02 04:00:00,,Aspirin,0

            """, to: dir + "/prescriptions.csv")
        DataTestSupport.write("""
            icd_code,icd_version,long_title
            4019,9,Unspecified essential hypertension
            25000,9,"Diabetes mellitus without mention of complication, type II"
            I10,10,Essential (primary) hypertension

            """, to: dir + "/d_icd_diagnoses.csv")
        DataTestSupport.write("""
            icd_code,icd_version,long_title
            3893,9,Venous catheterization
            02HV33Z,10,"Insertion of infusion device into superior vena cava, percutaneous approach"

            """, to: dir + "/d_icd_procedures.csv")
        DataTestSupport.write("drug,atc_code\nAspirin,B01AC06\nLisinopril,C09AA03\n", to: maps + "/mimic_drug_to_atc.csv")
        return (root, maps)
    }

    @Test func loadsVersionedCodesTitlesAgeAndProfile() throws {
        let (root, maps) = try Self.writeHosp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let d = try DataPreparation.prepare(source: .mimic4, input: root, maps: maps,   // the parent of hosp/ works
                                            config: PrepareConfig.defaults(for: .mimic4))
        let c = d.cohort
        #expect(c.source == "mimic4")
        #expect(c.patients.count == 2)   // patient 3's visit has no procedure
        #expect(c.patients.map(\.visits.count).sorted() == [1, 2])
        #expect(Set(c.diagnoses.keys) == ["9:4019", "9:25000", "10:I10", "10:4019"])
        #expect(Set(c.procedures.keys) == ["9:3893", "10:02HV33Z"])
        #expect(Set(c.medications.keys) == ["B01A", "C09A"])
        func title(_ key: String) -> String? { c.diagnoses.id(key).map { c.diagnoses.titles[Int($0)] } }
        #expect(title("9:4019") == "Unspecified essential hypertension")
        #expect(title("10:I10") == "Essential (primary) hypertension")
        #expect(title("10:4019") == "")   // no ICD-10 title for it: not borrowed from the ICD-9 code
        let fields = c.profile.fields.map(\.name)
        for f in MIMIC4Loader.profileColumns { #expect(fields.contains(f), "\(f) in \(fields)") }
        let race = try #require(c.profile.fields.first { $0.name == "race" })
        #expect(race.values.contains("BLACK/AFRICAN AMERICAN") && race.values.contains("WHITE"))
        let admission = try #require(c.profile.fields.first { $0.name == "admission_type" })
        #expect(admission.values.contains("EW EMER.") && admission.values.contains("ELECTIVE"))
        // age = anchor_age + (admission year - anchor_year): patient 1 at 2155 is 65, patient 2 at 2141 is 36
        let age = try #require(c.profile.fields.first { $0.name == "age" })
        #expect(age.values.contains(AgeBucket.label(years: 65)) && age.values.contains(AgeBucket.label(years: 36)))
        // the counted drops: one diagnosis row of an unknown admission, one unmapped prescription
        #expect(c.report.rowsRead["diagnoses_icd"] == 7 && c.report.rowsRead["procedures_icd"] == 3)
        #expect(c.report.medicationRows["unmapped"] == 1)
        #expect(c.report.dropped.contains { $0.key.contains("hadm_id not in admissions") && $0.value == 1 })
    }

    @Test func errorsNameFileLineAndColumn() throws {
        let (root, maps) = try Self.writeHosp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        func prepare() throws(LeaderError) {
            _ = try DataPreparation.prepare(source: .mimic4, input: root + "/hosp", maps: maps,
                                            config: PrepareConfig.defaults(for: .mimic4))
        }
        let dx = root + "/hosp/diagnoses_icd.csv"
        let good = try String(contentsOfFile: dx, encoding: .utf8)
        DataTestSupport.write(good.replacingOccurrences(of: "1,12,1,I10,10", with: "1,12,1,I10,11"), to: dx)
        #expect(throws: LeaderError.badFile("\(dx): line 4, column 5 ('icd_version'): not 9 or 10")) { try prepare() }
        DataTestSupport.write(good.replacingOccurrences(of: "icd_version", with: "version"), to: dx)
        do { try prepare(); Issue.record("no error") } catch {
            #expect(error.kind == .badFile && error.message.contains("icd_version") && error.message.contains(dx))
        }
        DataTestSupport.write(good, to: dx)
        let pat = root + "/hosp/patients.csv"
        let p = try String(contentsOfFile: pat, encoding: .utf8)
        DataTestSupport.write(p.replacingOccurrences(of: "2,M,35,2140", with: "2,M,SECRET-AGE,2140"), to: pat)
        do { try prepare(); Issue.record("no error") } catch {
            #expect(error.kind == .badFile && error.message.contains("anchor_age") && error.message.contains("line 3"))
            #expect(!error.message.contains("SECRET-AGE"))   // the cell value is never echoed
        }
        try FileManager.default.removeItem(atPath: pat)
        do { try prepare(); Issue.record("no error") } catch {
            #expect(error.kind == .io && error.message.contains("patients"))
        }
    }
}

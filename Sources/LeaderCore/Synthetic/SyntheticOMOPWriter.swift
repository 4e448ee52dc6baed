/// Writes the synthetic cohort as an OMOP CDM v5.4 export: person, visit_occurrence, condition_occurrence,
/// procedure_occurrence, drug_exposure, and the vocabulary the loader needs (concept, concept_ancestor). The same
/// patients, admissions and rows as the MIMIC layouts.
///
/// Concepts: gender, race, ethnicity and visit concepts are real OMOP ids (8507 MALE, 8532 FEMALE, 8527 White,
/// 8516 Black or African American, 8515 Asian, 8522 Other Race, 38003563/38003564 Hispanic or Latino / Not;
/// 9201 Inpatient Visit, 262 Emergency Room and Inpatient Visit; 32817 EHR as the type). Code concepts get ids of
/// our own, above the real vocabulary's range: ICD9CM diagnoses (codes with their dot, `401.9`), ICD9Proc
/// procedures (`38.93`), ATC 3rd classes, and one RxNorm "Clinical Drug" per drug product (concept code `SYN<n>`)
/// with its ATC class as ancestor in concept_ancestor.
enum SyntheticOMOPWriter {
    static let diagnosisBase = 2_100_000_000, procedureBase = 2_110_000_000
    static let classBase = 2_120_000_000, productBase = 2_130_000_000

    static func write(_ generator: PatientGenerator, _ config: SyntheticConfig, to directory: String,
                      visitTableShare: Double, progress: ((Int) -> Bool)?) throws(LeaderError) -> SyntheticSummary {
        let catalog = generator.catalog
        let dir = directory + "/"
        // a visit's row is written when a hash of (seed, visit id) falls below the share: the same visits for any
        // patient count
        let threshold = visitTableShare >= 1 ? UInt64.max : UInt64(visitTableShare * 0x1p64)
        var hadm = 100_000
        // the sinks in OMOP terms: patients = person, admissions = visit_occurrence, diagnoses = condition_occurrence,
        // procedures = procedure_occurrence, prescriptions = drug_exposure
        var summary = try SyntheticTables.write(.omop, generator, config, in: directory, progress: progress) {
            (t: inout SyntheticTables) in
            t.patients.text("person_id,gender_concept_id,year_of_birth,month_of_birth,day_of_birth,race_concept_id,"
                + "ethnicity_concept_id,person_source_value\n")
            t.admissions.text("visit_occurrence_id,person_id,visit_concept_id,visit_start_date,visit_start_datetime,"
                + "visit_end_date,visit_end_datetime,visit_type_concept_id,visit_source_value\n")
            t.diagnoses.text("condition_occurrence_id,person_id,condition_concept_id,condition_start_date,"
                + "condition_type_concept_id,visit_occurrence_id,condition_source_value\n")
            t.procedures.text("procedure_occurrence_id,person_id,procedure_concept_id,procedure_date,"
                + "procedure_type_concept_id,visit_occurrence_id,procedure_source_value\n")
            t.prescriptions.text("drug_exposure_id,person_id,drug_concept_id,drug_exposure_start_date,drug_exposure_end_date,"
                + "drug_type_concept_id,visit_occurrence_id,drug_source_value\n")
        } patient: { (t: inout SyntheticTables, p: SyntheticPatient, index: Int, summary: inout SyntheticSummary)
            throws(LeaderError) in
            let personID = 10_000 + index

            summary.patientsRows += 1
            let birth = CivilTime.civil(days: p.dobDay)
            let (race, ethnicity) = raceAndEthnicity(p.profile.ethnic)
            t.patients.int(personID); t.patients.comma()
            t.patients.int(p.profile.gender == .female ? 8532 : 8507); t.patients.comma()
            t.patients.int(birth.year); t.patients.comma()
            t.patients.int(birth.month); t.patients.comma()
            t.patients.int(birth.day); t.patients.comma()
            t.patients.int(race); t.patients.comma()
            t.patients.int(ethnicity); t.patients.comma()
            t.patients.int(personID); t.patients.newline()

            for a in p.admissions {
                hadm += 1
                let admitDay = a.admitMinute / 1440
                if threshold == UInt64.max || splitmix(config.seed ^ UInt64(hadm)) < threshold {
                    summary.admissionsRows += 1
                    t.admissions.int(hadm); t.admissions.comma()
                    t.admissions.int(personID); t.admissions.comma()
                    t.admissions.int(a.admissionType == SyntheticAdmissionValues.emergency ? 262 : 9201); t.admissions.comma()
                    t.admissions.date(day: admitDay); t.admissions.comma()
                    t.admissions.dateTime(minute: a.admitMinute); t.admissions.comma()
                    t.admissions.date(day: a.dischargeMinute / 1440); t.admissions.comma()
                    t.admissions.dateTime(minute: a.dischargeMinute); t.admissions.comma()
                    t.admissions.text("32817,"); t.admissions.int(hadm); t.admissions.newline()
                } else {
                    summary.visitsMissingFromVisitTable += 1
                }
                for code in a.diagnoses {
                    summary.diagnosesRows += 1
                    eventRow(&t.diagnoses, id: summary.diagnosesRows, person: personID, concept: diagnosisBase + code,
                             day: admitDay, visit: hadm, source: catalog.diagnoses[code].csv)
                }
                for code in a.procedures {
                    summary.proceduresRows += 1
                    eventRow(&t.procedures, id: summary.proceduresRows, person: personID, concept: procedureBase + code,
                             day: admitDay, visit: hadm, source: catalog.procedures[code].csv)
                }
                for rx in a.prescriptions {
                    summary.prescriptionsRows += 1
                    t.prescriptions.int(summary.prescriptionsRows); t.prescriptions.comma()
                    t.prescriptions.int(personID); t.prescriptions.comma()
                    t.prescriptions.int(productBase + rx.product); t.prescriptions.comma()
                    t.prescriptions.date(day: rx.startDay); t.prescriptions.comma()
                    t.prescriptions.date(day: rx.endDay); t.prescriptions.text(",32817,")
                    t.prescriptions.int(hadm); t.prescriptions.comma()
                    t.prescriptions.field(catalog.products[rx.product].ndc); t.prescriptions.newline()
                }
            }
        }
        summary.bytes += try writeVocabulary(catalog, to: dir)
        return summary
    }

    /// OMOP race and ethnicity concepts of a profile group.
    /// One condition_occurrence / procedure_occurrence row: id, person, concept, date, type 32817 (EHR), visit,
    /// source value.
    private static func eventRow(_ sink: inout ByteSink, id: Int, person: Int, concept: Int, day: Int, visit: Int,
                                 source: [UInt8]) {
        sink.int(id); sink.comma()
        sink.int(person); sink.comma()
        sink.int(concept); sink.comma()
        sink.date(day: day); sink.text(",32817,")
        sink.int(visit); sink.comma()
        sink.bytes(source); sink.newline()
    }

    static func raceAndEthnicity(_ e: SyntheticProfile.Ethnic) -> (Int, Int) {
        switch e {
        case .white: return (8527, 38003564)
        case .black: return (8516, 38003564)
        case .asian: return (8515, 38003564)
        case .hispanic: return (0, 38003563)
        case .other: return (8522, 38003564)
        case .unknown: return (0, 0)
        }
    }

    /// An ICD-9-CM code with its dot (`4019` → `401.9`, `E8889` → `E888.9`, `V4581` → `V45.81`).
    static func dottedDiagnosis(_ code: String) -> String {
        let head = code.hasPrefix("E") ? 4 : 3
        guard code.count > head else { return code }
        return String(code.prefix(head)) + "." + code.dropFirst(head)
    }

    /// An ICD-9 procedure code with its dot (`3893` → `38.93`).
    static func dottedProcedure(_ code: String) -> String {
        guard code.count > 2 else { return code }
        return String(code.prefix(2)) + "." + code.dropFirst(2)
    }

    /// concept.csv and concept_ancestor.csv: every concept the tables can reference.
    static func writeVocabulary(_ c: SyntheticCatalog, to dir: String) throws(LeaderError) -> Int {
        var s = try ByteSink(path: dir + "concept.csv")
        s.text("concept_id,concept_name,domain_id,vocabulary_id,concept_class_id,standard_concept,concept_code,"
            + "valid_start_date,valid_end_date,invalid_reason\n")
        func row(_ id: Int, _ name: String, _ domain: String, _ vocabulary: String, _ cls: String, _ standard: String,
                 _ code: String, into s: inout ByteSink) {
            s.int(id); s.comma(); s.field(name); s.comma(); s.field(domain); s.comma(); s.field(vocabulary); s.comma()
            s.field(cls); s.comma(); s.field(standard); s.comma(); s.field(code); s.text(",1970-01-01,2099-12-31,\n")
        }
        for (id, name, domain, vocab, cls, code) in [
            (8507, "MALE", "Gender", "Gender", "Gender", "M"), (8532, "FEMALE", "Gender", "Gender", "Gender", "F"),
            (8527, "White", "Race", "Race", "Race", "5"), (8516, "Black or African American", "Race", "Race", "Race", "3"),
            (8515, "Asian", "Race", "Race", "Race", "2"), (8522, "Other Race", "Race", "Race", "Race", "8"),
            (38003563, "Hispanic or Latino", "Ethnicity", "Ethnicity", "Ethnicity", "Hispanic"),
            (38003564, "Not Hispanic or Latino", "Ethnicity", "Ethnicity", "Ethnicity", "Not Hispanic"),
            (9201, "Inpatient Visit", "Visit", "Visit", "Visit", "IP"),
            (262, "Emergency Room and Inpatient Visit", "Visit", "Visit", "Visit", "ERIP"),
        ] {
            row(id, name, domain, vocab, cls, "S", code, into: &s)
        }
        for (i, d) in c.diagnoses.enumerated() {
            row(diagnosisBase + i, d.longTitle, "Condition", "ICD9CM", "5-dig billing code", "", dottedDiagnosis(d.code), into: &s)
        }
        for (i, d) in c.procedures.enumerated() {
            row(procedureBase + i, d.longTitle, "Procedure", "ICD9Proc", "4-dig billing code", "", dottedProcedure(d.code), into: &s)
        }
        for (i, cls) in c.classes.enumerated() {
            row(classBase + i, cls.whoName, "Drug", "ATC", "ATC 3rd", "C", cls.atc3, into: &s)
        }
        for (i, p) in c.products.enumerated() {
            row(productBase + i, p.drug, "Drug", "RxNorm", "Clinical Drug", "S", "SYN\(i)", into: &s)
        }
        try s.finish()
        var a = try ByteSink(path: dir + "concept_ancestor.csv")
        a.text("ancestor_concept_id,descendant_concept_id,min_levels_of_separation,max_levels_of_separation\n")
        for (i, p) in c.products.enumerated() {
            a.int(productBase + i); a.comma(); a.int(productBase + i); a.text(",0,0\n")
            a.int(classBase + p.classIndex); a.comma(); a.int(productBase + i); a.text(",2,2\n")
        }
        try a.finish()
        return s.bytesWritten + a.bytesWritten
    }

    /// SplitMix64: a well-mixed hash of the visit id.
    static func splitmix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

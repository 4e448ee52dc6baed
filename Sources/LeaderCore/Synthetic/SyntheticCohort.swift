#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What one run of the synthetic cohort wrote.
public struct SyntheticSummary: Codable, Sendable, Equatable {
    public var patients = 0
    public var admissions = 0
    public var singleVisitPatients = 0
    public var maxVisits = 0
    public var patientsRows = 0
    public var admissionsRows = 0
    public var diagnosesRows = 0
    public var proceduresRows = 0
    public var prescriptionsRows = 0
    /// PRESCRIPTIONS rows whose NDC is absent from `maps/ndc2atc3.csv` (resolved by `maps/drug_to_atc.csv`).
    public var prescriptionsUnmappedNDC = 0
    public var diagnosisCodes = 0
    public var procedureCodes = 0
    public var drugClasses = 0
    public var drugProducts = 0
    public var bytes = 0
    /// The format written (`SyntheticFormat`); the row counts are of its five tables, in the order of its `tableFiles`.
    public var format = SyntheticFormat.mimic3
    /// OMOP: visits left out of visit_occurrence (their events still reference them); 0 for the MIMIC formats.
    public var visitsMissingFromVisitTable = 0

    /// Share of patients with exactly one admission.
    public var singleVisitShare: Double { patients == 0 ? 0 : Double(singleVisitPatients) / Double(patients) }
}

/// The synthetic cohort: writes a folder in one of the formats `leader prepare` reads (`SyntheticFormat`: MIMIC-III
/// v1.4 with upper-case headers by default, MIMIC-IV, OMOP), streaming one patient at a time, byte-identical for
/// the same `SyntheticConfig`. The same patients in every format. See `docs/synthetic-cohort.md`.
public enum SyntheticCohort {
    /// Generates the cohort into `directory` (created if missing) in `format`. OMOP: `visitTableShare` (0...1) of
    /// the visits get a visit_occurrence row (the others are referenced by their events only, as in many real
    /// exports). `progress` gets the number of patients written so far every 1000 patients and at the end;
    /// returning false cancels (`.cancelled`).
    public static func write(_ config: SyntheticConfig, to directory: String, format: SyntheticFormat = .mimic3,
                             visitTableShare: Double = 1,
                             progress: ((Int) -> Bool)? = nil) throws(LeaderError) -> SyntheticSummary {
        try config.validate()
        guard !directory.isEmpty else { throw .invalidArgument("synthetic cohort: empty output directory") }
        guard visitTableShare >= 0, visitTableShare <= 1 else {
            throw .invalidArgument("synthetic cohort: visitTableShare must be in 0...1 (got \(visitTableShare))")
        }
        guard visitTableShare == 1 || format == .omop else {
            throw .invalidArgument("synthetic cohort: visitTableShare is an OMOP setting (format \(format.rawValue))")
        }
        try makeDirectories(directory)
        let generator = try PatientGenerator(config: config)
        switch format {
        case .mimic3:
            try makeDirectories(directory + "/maps")
            var summary = try writeMIMIC3(generator, config, to: directory, progress: progress)
            summary.bytes += try writeDictionaries(generator.catalog, to: directory)
            return summary
        case .mimic4:
            try makeDirectories(directory + "/maps")
            try makeDirectories(directory + "/hosp")
            var summary = try SyntheticMIMIC4Writer.write(generator, config, to: directory, progress: progress)
            summary.bytes += try writeMaps(generator.catalog, to: directory)
            return summary
        case .omop:
            return try SyntheticOMOPWriter.write(generator, config, to: directory, visitTableShare: visitTableShare,
                                                 progress: progress)
        }
    }

    private static func writeMIMIC3(_ generator: PatientGenerator, _ config: SyntheticConfig, to directory: String,
                                    progress: ((Int) -> Bool)?) throws(LeaderError) -> SyntheticSummary {
        let catalog = generator.catalog
        let strings = ProfileStrings()
        var hadm = 100_000
        return try SyntheticTables.write(.mimic3, generator, config, in: directory, progress: progress) {
            (t: inout SyntheticTables) in
            t.patients.text("ROW_ID,SUBJECT_ID,GENDER,DOB,DOD,DOD_HOSP,DOD_SSN,EXPIRE_FLAG\n")
            t.admissions.text("ROW_ID,SUBJECT_ID,HADM_ID,ADMITTIME,DISCHTIME,DEATHTIME,ADMISSION_TYPE,ADMISSION_LOCATION,"
                + "DISCHARGE_LOCATION,INSURANCE,LANGUAGE,RELIGION,MARITAL_STATUS,ETHNICITY,EDREGTIME,EDOUTTIME,"
                + "DIAGNOSIS,HOSPITAL_EXPIRE_FLAG,HAS_CHARTEVENTS_DATA\n")
            t.diagnoses.text("ROW_ID,SUBJECT_ID,HADM_ID,SEQ_NUM,ICD9_CODE\n")
            t.procedures.text("ROW_ID,SUBJECT_ID,HADM_ID,SEQ_NUM,ICD9_CODE\n")
            t.prescriptions.text("ROW_ID,SUBJECT_ID,HADM_ID,ICUSTAY_ID,STARTDATE,ENDDATE,DRUG_TYPE,DRUG,DRUG_NAME_POE,"
                + "DRUG_NAME_GENERIC,FORMULARY_DRUG_CD,GSN,NDC,PROD_STRENGTH,DOSE_VAL_RX,DOSE_UNIT_RX,FORM_VAL_DISP,"
                + "FORM_UNIT_DISP,ROUTE\n")
        } patient: { (t: inout SyntheticTables, p: SyntheticPatient, index: Int, summary: inout SyntheticSummary)
            throws(LeaderError) in
            let subject = 10_000 + index

            summary.patientsRows += 1
            t.patients.int(summary.patientsRows); t.patients.comma()
            t.patients.int(subject); t.patients.comma()
            t.patients.byte(p.profile.gender == .female ? UInt8(ascii: "F") : UInt8(ascii: "M")); t.patients.comma()
            t.patients.dateMidnight(day: p.dobDay); t.patients.comma()
            let inHospital = p.admissions.last?.died ?? false
            if let d = p.deathDay {
                t.patients.dateMidnight(day: d); t.patients.comma()
                if inHospital { t.patients.dateMidnight(day: d) }
                t.patients.comma()
                if !inHospital || index % 3 != 0 { t.patients.dateMidnight(day: d) }
                t.patients.comma(); t.patients.byte(UInt8(ascii: "1"))
            } else {
                t.patients.text(",,,0")
            }
            t.patients.newline()

            for a in p.admissions {
                hadm += 1
                let icustay = hadm + 100_000
                summary.admissionsRows += 1
                t.admissions.int(summary.admissionsRows); t.admissions.comma()
                t.admissions.int(subject); t.admissions.comma()
                t.admissions.int(hadm); t.admissions.comma()
                t.admissions.dateTime(minute: a.admitMinute); t.admissions.comma()
                t.admissions.dateTime(minute: a.dischargeMinute); t.admissions.comma()
                if a.died { t.admissions.dateTime(minute: a.dischargeMinute) }
                t.admissions.comma()
                t.admissions.bytes(strings.types[a.admissionType]); t.admissions.comma()
                t.admissions.bytes(strings.admissionLocations[a.admissionLocation]); t.admissions.comma()
                t.admissions.bytes(strings.dischargeLocations[a.dischargeLocation]); t.admissions.comma()
                t.admissions.bytes(strings.insurances[p.profile.insurance.rawValue]); t.admissions.comma()
                t.admissions.bytes(strings.languages[p.profile.language]); t.admissions.comma()
                t.admissions.bytes(strings.religions[p.profile.religion]); t.admissions.comma()
                t.admissions.bytes(strings.maritals[p.profile.marital.rawValue]); t.admissions.comma()
                t.admissions.bytes(strings.ethnicities[p.profile.ethnicityString]); t.admissions.comma()
                if let e = a.edRegMinute { t.admissions.dateTime(minute: e) }
                t.admissions.comma()
                if let e = a.edOutMinute { t.admissions.dateTime(minute: e) }
                t.admissions.comma()
                t.admissions.bytes(generator.rules.episodes[a.episode].labelCSV); t.admissions.comma()
                t.admissions.byte(a.died ? UInt8(ascii: "1") : UInt8(ascii: "0")); t.admissions.comma()
                t.admissions.byte(UInt8(ascii: "1")); t.admissions.newline()

                for (seq, code) in a.diagnoses.enumerated() {
                    summary.diagnosesRows += 1
                    t.diagnoses.int(summary.diagnosesRows); t.diagnoses.comma()
                    t.diagnoses.int(subject); t.diagnoses.comma()
                    t.diagnoses.int(hadm); t.diagnoses.comma()
                    t.diagnoses.int(seq + 1); t.diagnoses.comma()
                    t.diagnoses.bytes(catalog.diagnoses[code].csv); t.diagnoses.newline()
                }
                for (seq, code) in a.procedures.enumerated() {
                    summary.proceduresRows += 1
                    t.procedures.int(summary.proceduresRows); t.procedures.comma()
                    t.procedures.int(subject); t.procedures.comma()
                    t.procedures.int(hadm); t.procedures.comma()
                    t.procedures.int(seq + 1); t.procedures.comma()
                    t.procedures.bytes(catalog.procedures[code].csv); t.procedures.newline()
                }
                for rx in a.prescriptions {
                    summary.prescriptionsRows += 1
                    t.prescriptions.int(summary.prescriptionsRows); t.prescriptions.comma()
                    t.prescriptions.int(subject); t.prescriptions.comma()
                    t.prescriptions.int(hadm); t.prescriptions.comma()
                    t.prescriptions.int(icustay); t.prescriptions.comma()
                    t.prescriptions.dateMidnight(day: rx.startDay); t.prescriptions.comma()
                    t.prescriptions.dateMidnight(day: rx.endDay); t.prescriptions.comma()
                    t.prescriptions.bytes(catalog.products[rx.product].csvTail); t.prescriptions.newline()
                }
            }
        }
    }

    /// D_ICD tables and maps/: the whole embedded catalog (a superset of the codes a small cohort uses).
    private static func writeDictionaries(_ c: SyntheticCatalog, to directory: String) throws(LeaderError) -> Int {
        var bytes = 0
        for (name, codes) in [("D_ICD_DIAGNOSES.csv", c.diagnoses), ("D_ICD_PROCEDURES.csv", c.procedures)] {
            var s = try ByteSink(path: directory + "/" + name)
            s.text("ROW_ID,ICD9_CODE,SHORT_TITLE,LONG_TITLE\n")
            for (i, code) in codes.enumerated() {
                s.int(i + 1); s.comma(); s.bytes(code.csv); s.comma(); s.field(code.shortTitle); s.comma()
                s.field(code.longTitle); s.newline()
            }
            try s.finish()
            bytes += s.bytesWritten
        }
        return bytes + (try writeMaps(c, to: directory))
    }

    /// maps/: NDC → ATC3 of the mapped products, drug name → ATC5 of every product, and the WHO names.
    static func writeMaps(_ c: SyntheticCatalog, to directory: String) throws(LeaderError) -> Int {        // ndc -> atc3 for the mapped products (sorted, unique).
        var ndcs: [String: String] = [:]
        for p in c.products where p.mapped { ndcs[p.ndc] = c.classes[p.classIndex].atc3 }
        var ndcSink = try ByteSink(path: directory + "/maps/ndc2atc3.csv")
        ndcSink.text("ndc,atc3\n")
        for ndc in ndcs.keys.sorted() { ndcSink.field(ndc); ndcSink.comma(); ndcSink.text(ndcs[ndc] ?? ""); ndcSink.newline() }
        try ndcSink.finish()
        // drug name -> ATC5 for every product (the fallback that resolves the unmapped NDCs).
        var names: [String: String] = [:]
        for p in c.products where names[p.drug] == nil { names[p.drug] = p.atc5 }
        var nameSink = try ByteSink(path: directory + "/maps/drug_to_atc.csv")
        nameSink.text("drug,atc_code\n")
        for name in names.keys.sorted() { nameSink.field(name); nameSink.comma(); nameSink.text(names[name] ?? ""); nameSink.newline() }
        try nameSink.finish()
        // WHO names: ATC3 classes and the ATC5 ingredients of the products, in code order, WHO file columns.
        var who: [String: String] = [:]
        for cls in c.classes { who[cls.atc3] = cls.whoName }
        for p in c.products where !p.ingredient.isEmpty && p.atc5.count > 4 { who[p.atc5] = p.ingredient }
        var whoSink = try ByteSink(path: directory + "/maps/WHO_ATC-DDD_2021-12-03.csv")
        whoSink.text("atc_code,atc_name,ddd,uom,adm_r,note\n")
        for code in who.keys.sorted() {
            whoSink.text(code); whoSink.comma(); whoSink.field(who[code] ?? ""); whoSink.text(",NA,NA,NA,NA\n")
        }
        try whoSink.finish()
        return ndcSink.bytesWritten + nameSink.bytesWritten + whoSink.bytesWritten
    }

    /// `mkdir -p`, with a clear error when a component is a file or not writable.
    static func makeDirectories(_ path: String) throws(LeaderError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw .io("cannot create directory '\(prefix)': \(SystemError.text(errno))")
            }
            prefix += "/"
        }
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw .io("'\(path)' is not a directory")
        }
        guard access(path, W_OK) == 0 else { throw .io("directory '\(path)' is not writable") }
    }
}

/// The profile and admission strings as CSV bytes.
struct ProfileStrings {
    let types = SyntheticAdmissionValues.types.map(CSV.escaped)
    let admissionLocations = SyntheticAdmissionValues.admissionLocations.map(CSV.escaped)
    let dischargeLocations = SyntheticAdmissionValues.dischargeLocations.map(CSV.escaped)
    let insurances = SyntheticProfileValues.insurances.map(CSV.escaped)
    let languages = SyntheticProfileValues.languages.map(CSV.escaped)
    let religions = SyntheticProfileValues.religions.map(CSV.escaped)
    let maritals = SyntheticProfileValues.maritals.map(CSV.escaped)
    let ethnicities = SyntheticProfileValues.ethnicities.map(CSV.escaped)
}

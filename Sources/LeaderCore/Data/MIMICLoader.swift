/// Loads MIMIC-III v1.4 and MIMIC-IV v2.x (`hosp/`) into a `Cohort`. The two differ only in table and column
/// names (`MIMIC3Loader`, `MIMIC4Loader`); see `docs/data.md` for the columns used and the error policy:
/// unparsable ids and dates are errors naming file, line and column; rows that cannot join (no visit id, a visit
/// missing from admissions, an empty code, an unmapped drug) are dropped and counted in the report.
struct MIMICLoader {
    struct Layout {
        var source: DataSource
        var patients = "PATIENTS", admissions = "ADMISSIONS", diagnoses = "DIAGNOSES_ICD"
        var procedures = "PROCEDURES_ICD", prescriptions = "PRESCRIPTIONS"
        var diagnosisTitles = "D_ICD_DIAGNOSES", procedureTitles = "D_ICD_PROCEDURES"
        var codeColumns = ["icd9_code"]
        /// Column holding the ICD version (MIMIC-IV); keys become "<version>:<code>".
        var versionColumn: String? = nil
        var titleColumns = ["short_title"]
        var startColumns = ["startdate"]
        var profileColumns: [String]
        /// MIMIC-III: age from `dob`; MIMIC-IV: `anchor_age` + (admission year − `anchor_year`).
        var ageFromAnchor = false
    }

    let layout: Layout
    let directory: String
    let medications: MedicationMap
    let config: PrepareConfig
    var progress: ((String) -> Void)? = nil

    func load() throws(LeaderError) -> Cohort {
        guard CohortFiles.isDirectory(directory) else { throw .io("\(directory): input folder not found") }
        let files = try [layout.patients, layout.admissions, layout.diagnoses, layout.procedures, layout.prescriptions,
                         layout.diagnosisTitles, layout.procedureTitles].map { (n: String) throws(LeaderError) in
            try CohortFiles.require(directory, n)
        }
        var names = layout.profileColumns
        if config.profileGender { names.append("gender") }
        if config.profileAge { names.append("age") }
        var b = CohortBuilder(source: layout.source.rawValue, profileNames: names)

        progress?("reading \(CohortFiles.tableName(files[0]))")
        let people = try readPatients(files[0], &b.report)
        progress?("reading \(CohortFiles.tableName(files[1]))")
        try readAdmissions(files[1], people: people, into: &b)
        progress?("reading \(CohortFiles.tableName(files[2]))")
        try readCodes(files[2], kind: .diagnosis, system: "ICD9CM", into: &b)
        progress?("reading \(CohortFiles.tableName(files[3]))")
        try readCodes(files[3], kind: .procedure, system: "ICD9PCS", into: &b)
        progress?("reading \(CohortFiles.tableName(files[4]))")
        try readPrescriptions(files[4], into: &b)
        progress?("filtering \(b.visitCount) visits")
        var cohort = try b.build(config: config)
        let version = layout.versionColumn
        let codeCols = layout.codeColumns
        for (kind, path) in [(CodeKind.diagnosis, files[5]), (.procedure, files[6])] {
            progress?("reading \(CohortFiles.tableName(path))")
            try cohort.loadTitles(kind, path: path, titleColumns: layout.titleColumns) { (r: CSVReader) throws(LeaderError) in
                let code = try r.column(anyOf: codeCols)
                let ver = try version.map { (v: String) throws(LeaderError) in try r.column(v) }
                return { (row: CSVRow) -> String? in
                    let c = row.trimmed(code)
                    guard !c.isEmpty else { return nil }
                    if let ver { return "\(row.trimmed(ver)):\(c)" }
                    return c
                }
            }
        }
        var meds = cohort.medications
        for i in 0..<meds.count { meds.setTitle(medications.atc3Titles[meds.keys[i]] ?? "", for: Int32(i)) }
        cohort.setVocabulary(meds)
        cohort.countMissingTitles()
        return cohort
    }

    struct Person {
        var gender: String
        var birth: Int64?          // MIMIC-III
        var anchorAge: Int64?      // MIMIC-IV
        var anchorYear: Int64?
    }

    static func int(_ row: CSVRow, _ col: Int, _ r: CSVReader, _ name: String) throws(LeaderError) -> Int64 {
        guard let v = FieldParsing.int64(row.bytes(col)) else {
            throw .badFile("\(r.path): line \(row.line), column \(col + 1) ('\(name)'): "
                + (row.isEmpty(col) ? "empty, an integer is required" : "not an integer"))
        }
        return v
    }

    static func time(_ row: CSVRow, _ col: Int, _ r: CSVReader, _ name: String) throws(LeaderError) -> Int64 {
        guard let v = FieldParsing.timestamp(row.bytes(col)) else {
            throw .badFile("\(r.path): line \(row.line), column \(col + 1) ('\(name)'): "
                + (row.isEmpty(col) ? "empty, a date is required" : "not a date (YYYY-MM-DD[ HH:MM:SS])"))
        }
        return v
    }

    /// A visit id that may be empty (then nil: the caller drops and counts the row).
    static func optionalInt(_ row: CSVRow, _ col: Int, _ r: CSVReader, _ name: String) throws(LeaderError) -> Int64? {
        if FieldParsing.isBlank(row.bytes(col)) { return nil }
        return try int(row, col, r, name)
    }

    func readPatients(_ path: String, _ report: inout PreparationReport) throws(LeaderError) -> [Int64: Person] {
        let r = try CSVReader(path: path)
        let sid = try r.column("subject_id"), g = try r.column("gender")
        let dob = layout.ageFromAnchor ? nil : try r.column("dob")
        let age = layout.ageFromAnchor ? try r.column("anchor_age") : nil
        let year = layout.ageFromAnchor ? try r.column("anchor_year") : nil
        var out: [Int64: Person] = [:]
        var rows = 0
        try r.forEachRow { (row: CSVRow) throws(LeaderError) in
            rows += 1
            let id = try MIMICLoader.int(row, sid, r, "subject_id")
            var p = Person(gender: row.trimmed(g))
            if let dob { p.birth = try MIMICLoader.time(row, dob, r, "dob") }
            if let age, let year {
                p.anchorAge = try MIMICLoader.int(row, age, r, "anchor_age")
                p.anchorYear = try MIMICLoader.int(row, year, r, "anchor_year")
            }
            if out.updateValue(p, forKey: id) != nil { report.drop("\(CohortFiles.tableName(path)): duplicate subject_id") }
        }
        report.rowsRead[CohortFiles.tableName(path)] = rows
        return out
    }

    func readAdmissions(_ path: String, people: [Int64: Person], into b: inout CohortBuilder) throws(LeaderError) {
        let r = try CSVReader(path: path)
        let table = CohortFiles.tableName(path)
        let sid = try r.column("subject_id"), hid = try r.column("hadm_id"), at = try r.column("admittime")
        let prof = try layout.profileColumns.map { (c: String) throws(LeaderError) in try r.column(c) }
        let wantGender = config.profileGender, wantAge = config.profileAge
        var rows = 0
        var values: [String] = []
        try r.forEachRow { (row: CSVRow) throws(LeaderError) in
            rows += 1
            let subject = try MIMICLoader.int(row, sid, r, "subject_id")
            let hadm = try MIMICLoader.int(row, hid, r, "hadm_id")
            let t = try MIMICLoader.time(row, at, r, "admittime")
            values.removeAll(keepingCapacity: true)
            for c in prof { values.append(row.trimmed(c)) }
            let person = people[subject]
            if person == nil { b.report.drop("\(table): subject_id not in patients (gender and age unknown)") }
            if wantGender { values.append(person?.gender ?? "") }
            if wantAge {
                var years: Int? = nil
                if let birth = person?.birth {
                    years = FieldParsing.ageYears(birth: birth, at: t)
                } else if let a = person?.anchorAge, let y = person?.anchorYear {
                    let (d, o1) = Int64(FieldParsing.civil(t).year).subtractingReportingOverflow(y)
                    let (s, o2) = a.addingReportingOverflow(d)
                    if !o1, !o2, let v = Int(exactly: s) { years = v }
                }
                values.append(AgeBucket.label(years: years))
            }
            if !b.addVisit(id: hadm, patient: subject, time: t, profile: values) {
                b.report.drop("\(table): duplicate hadm_id")
            }
        }
        b.report.rowsRead[table] = rows
    }

    func readCodes(_ path: String, kind: CodeKind, system: String, into b: inout CohortBuilder) throws(LeaderError) {
        let r = try CSVReader(path: path)
        let table = CohortFiles.tableName(path)
        let hid = try r.column("hadm_id"), code = try r.column(anyOf: layout.codeColumns)
        let ver = try layout.versionColumn.map { (c: String) throws(LeaderError) in try r.column(c) }
        var rows = 0, noVisit = 0, unknownVisit = 0, noCode = 0
        try r.forEachRow { (row: CSVRow) throws(LeaderError) in
            rows += 1
            guard let hadm = try MIMICLoader.optionalInt(row, hid, r, "hadm_id") else { noVisit += 1; return }
            guard let v = b.visit(hadm) else { unknownVisit += 1; return }
            let c = row.trimmed(code)
            guard !c.isEmpty else { noCode += 1; return }
            if let ver {
                guard let version = FieldParsing.int64(row.bytes(ver)), version == 9 || version == 10 else {
                    throw .badFile("\(r.path): line \(row.line), column \(ver + 1) ('icd_version'): not 9 or 10")
                }
                let sys = version == 9 ? system : (kind == .diagnosis ? "ICD10CM" : "ICD10PCS")
                b.addCode(kind, visit: v, key: "\(version):\(c)", system: sys)
            } else {
                b.addCode(kind, visit: v, key: c, system: system)
            }
        }
        b.report.rowsRead[table] = rows
        b.report.drop("\(table): empty hadm_id", noVisit)
        b.report.drop("\(table): hadm_id not in admissions", unknownVisit)
        b.report.drop("\(table): empty code", noCode)
    }

    func readPrescriptions(_ path: String, into b: inout CohortBuilder) throws(LeaderError) {
        let r = try CSVReader(path: path)
        let table = CohortFiles.tableName(path)
        let hid = try r.column("hadm_id"), ndc = try r.column("ndc"), drug = try r.column("drug")
        let gsn = r.optionalColumn("gsn")
        let start = try r.column(anyOf: layout.startColumns)
        var rows = 0, noVisit = 0, unknownVisit = 0
        var memo: [UInt64: (String?, MedicationMap.Route)] = [:]
        var routes: [String: Int] = [:]
        let meds = medications
        try r.forEachRow { (row: CSVRow) throws(LeaderError) in
            rows += 1
            guard let hadm = try MIMICLoader.optionalInt(row, hid, r, "hadm_id") else { noVisit += 1; return }
            guard let v = b.visit(hadm) else { unknownVisit += 1; return }
            // Memo keyed by a 64-bit hash of the raw (NDC, GSN, drug) bytes: no String is built on a hit.
            let memoKey = FieldParsing.hash(row.bytes(ndc), row.bytes(gsn ?? -1), row.bytes(drug))
            let mapped: (String?, MedicationMap.Route)
            if let m = memo[memoKey] { mapped = m } else {
                mapped = meds.map(ndc: row.trimmed(ndc), gsn: gsn.map { row.trimmed($0) } ?? "", drug: row.trimmed(drug))
                memo[memoKey] = mapped
            }
            routes[mapped.1.rawValue, default: 0] += 1
            guard let atc = mapped.0 else { return }
            var t: Int64 = 0
            if !FieldParsing.isBlank(row.bytes(start)) { t = try MIMICLoader.time(row, start, r, "startdate") }
            b.addMedicationRow(visit: v, key: atc, system: "ATC3", start: t, drug: FieldParsing.hash(row.bytes(drug)))
        }
        b.report.rowsRead[table] = rows
        b.report.drop("\(table): empty hadm_id", noVisit)
        b.report.drop("\(table): hadm_id not in admissions", unknownVisit)
        // every route is listed (0 when unused), so that a report says which were available
        var counts = ["ndc": 0, "name": 0, "unmapped": 0]
        if meds.hasGSNRoute { counts["gsn"] = 0 }
        b.report.medicationRows = counts.merging(routes) { $1 }
        let unmapped = routes["unmapped", default: 0]
        b.report.drop("\(table): drug not mapped to ATC3", unmapped)
    }
}

/// MIMIC-III v1.4 (upper- or lower-case headers, `.csv` or `.csv.gz`).
public enum MIMIC3Loader {
    public static let profileColumns = ["insurance", "language", "religion", "marital_status", "ethnicity"]

    public static func load(directory: String, medications: MedicationMap, config: PrepareConfig,
                            progress: ((String) -> Void)? = nil) throws(LeaderError) -> Cohort {
        let layout = MIMICLoader.Layout(source: .mimic3, profileColumns: profileColumns)
        return try MIMICLoader(layout: layout, directory: directory, medications: medications, config: config,
                               progress: progress).load()
    }
}

/// MIMIC-IV v2.x `hosp/` (pass the folder holding the tables, or its parent with `hosp/`). ICD codes keep
/// their version: vocabulary keys are `9:<code>` and `10:<code>`.
public enum MIMIC4Loader {
    public static let profileColumns = ["insurance", "language", "admission_type", "marital_status", "race"]

    public static func load(directory: String, medications: MedicationMap, config: PrepareConfig,
                            progress: ((String) -> Void)? = nil) throws(LeaderError) -> Cohort {
        var dir = directory
        let hosp = CohortFiles.join(directory, "hosp")
        if CohortFiles.find(directory, "admissions") == nil, CohortFiles.isDirectory(hosp) { dir = hosp }
        var layout = MIMICLoader.Layout(source: .mimic4, profileColumns: profileColumns)
        layout.patients = "patients"
        layout.admissions = "admissions"
        layout.diagnoses = "diagnoses_icd"
        layout.procedures = "procedures_icd"
        layout.prescriptions = "prescriptions"
        layout.diagnosisTitles = "d_icd_diagnoses"
        layout.procedureTitles = "d_icd_procedures"
        layout.codeColumns = ["icd_code"]
        layout.versionColumn = "icd_version"
        layout.titleColumns = ["long_title"]
        layout.startColumns = ["starttime"]
        layout.ageFromAnchor = true
        return try MIMICLoader(layout: layout, directory: dir, medications: medications, config: config,
                               progress: progress).load()
    }
}

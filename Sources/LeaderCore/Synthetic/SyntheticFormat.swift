/// The table layout the synthetic cohort is written in: one of the formats `leader prepare` reads, so that every
/// loader can be tested end to end on the same patients.
public enum SyntheticFormat: String, CaseIterable, Codable, Sendable {
    /// MIMIC-III v1.4: upper-case headers, `DIR/*.csv` + `DIR/maps/`.
    case mimic3
    /// MIMIC-IV v2.x: `DIR/hosp/*.csv` + `DIR/maps/`.
    case mimic4
    /// OMOP CDM v5.4: `DIR/*.csv` with concept and concept_ancestor; the visit table may be partial.
    case omop

    /// The files of the patients, admissions, diagnoses, procedures and prescriptions tables, in that order.
    public var tableFiles: [String] {
        switch self {
        case .mimic3: return ["PATIENTS.csv", "ADMISSIONS.csv", "DIAGNOSES_ICD.csv", "PROCEDURES_ICD.csv", "PRESCRIPTIONS.csv"]
        case .mimic4: return ["hosp/patients.csv", "hosp/admissions.csv", "hosp/diagnoses_icd.csv",
                              "hosp/procedures_icd.csv", "hosp/prescriptions.csv"]
        case .omop: return ["person.csv", "visit_occurrence.csv", "condition_occurrence.csv", "procedure_occurrence.csv",
                            "drug_exposure.csv"]
        }
    }

    /// The code dictionaries beside the tables.
    public var dictionaryFiles: [String] {
        switch self {
        case .mimic3: return ["D_ICD_DIAGNOSES.csv", "D_ICD_PROCEDURES.csv"]
        case .mimic4: return ["hosp/d_icd_diagnoses.csv", "hosp/d_icd_procedures.csv"]
        case .omop: return ["concept.csv", "concept_ancestor.csv"]
        }
    }

    /// Medication maps in `maps/` (MIMIC formats; OMOP carries its own vocabulary).
    public var mapFiles: [String] {
        self == .omop ? [] : ["maps/ndc2atc3.csv", "maps/drug_to_atc.csv", "maps/WHO_ATC-DDD_2021-12-03.csv"]
    }
}

/// The five table files of a format (`SyntheticFormat.tableFiles`), one buffered sink each, written side by side.
struct SyntheticTables: ~Copyable {
    var patients: ByteSink, admissions: ByteSink, diagnoses: ByteSink, procedures: ByteSink, prescriptions: ByteSink

    init(_ format: SyntheticFormat, in directory: String) throws(LeaderError) {
        let f = format.tableFiles.map { directory + "/" + $0 }
        self.init(try ByteSink(path: f[0]), try ByteSink(path: f[1]), try ByteSink(path: f[2]), try ByteSink(path: f[3]),
                  try ByteSink(path: f[4]))
    }

    private init(_ patients: consuming ByteSink, _ admissions: consuming ByteSink, _ diagnoses: consuming ByteSink,
                 _ procedures: consuming ByteSink, _ prescriptions: consuming ByteSink) {
        self.patients = patients
        self.admissions = admissions
        self.diagnoses = diagnoses
        self.procedures = procedures
        self.prescriptions = prescriptions
    }

    /// Writes out the buffers that are full (after each patient).
    mutating func flushIfFull() throws(LeaderError) {
        try patients.flushIfFull(); try admissions.flushIfFull(); try diagnoses.flushIfFull()
        try procedures.flushIfFull(); try prescriptions.flushIfFull()
    }

    /// Writes out everything; the bytes written to the five files.
    mutating func finish() throws(LeaderError) -> Int {
        try patients.finish(); try admissions.finish(); try diagnoses.finish()
        try procedures.finish(); try prescriptions.finish()
        return patients.bytesWritten + admissions.bytesWritten + diagnoses.bytesWritten + procedures.bytesWritten
            + prescriptions.bytesWritten
    }
}

extension SyntheticTables {
    /// Writes the five tables of `format` for every generated patient: `header` writes their header lines, `patient`
    /// one patient's rows (with its index); this counts the summary, flushes and reports progress every 1000
    /// patients (returning false cancels: `.cancelled`).
    static func write(_ format: SyntheticFormat, _ generator: PatientGenerator, _ config: SyntheticConfig,
                      in directory: String, progress: ((Int) -> Bool)?, header: (inout SyntheticTables) -> Void,
                      patient: (inout SyntheticTables, SyntheticPatient, Int, inout SyntheticSummary) throws(LeaderError) -> Void)
        throws(LeaderError) -> SyntheticSummary
    {
        var summary = SyntheticSummary()
        summary.format = format
        var tally = SyntheticTally(generator.catalog)
        var t = try SyntheticTables(format, in: directory)
        header(&t)
        for index in 0..<config.patients {
            let p = generator.patient(index)
            tally.add(p, catalog: generator.catalog, to: &summary)
            try patient(&t, p, index, &summary)
            try t.flushIfFull()
            if index + 1 < config.patients { try SyntheticTally.progress(progress, done: index + 1, total: config.patients) }
        }
        summary.bytes += try t.finish()
        try SyntheticTally.progress(progress, done: config.patients, total: config.patients)
        tally.finish(catalog: generator.catalog, into: &summary)
        return summary
    }
}

/// The parts of the summary every writer counts the same way: patients, admissions, and the catalogue entries used.
struct SyntheticTally {
    private var usedDx: [Bool], usedPx: [Bool], usedProducts: [Bool]

    init(_ catalog: SyntheticCatalog) {
        usedDx = [Bool](repeating: false, count: catalog.diagnoses.count)
        usedPx = [Bool](repeating: false, count: catalog.procedures.count)
        usedProducts = [Bool](repeating: false, count: catalog.products.count)
    }

    /// Counts patient `p` (its admissions, codes and products; not its rows, which the writer counts).
    mutating func add(_ p: SyntheticPatient, catalog: SyntheticCatalog, to summary: inout SyntheticSummary) {
        summary.patients += 1
        summary.admissions += p.admissions.count
        summary.maxVisits = max(summary.maxVisits, p.admissions.count)
        if p.admissions.count == 1 { summary.singleVisitPatients += 1 }
        for a in p.admissions {
            for c in a.diagnoses { usedDx[c] = true }
            for c in a.procedures { usedPx[c] = true }
            for rx in a.prescriptions {
                usedProducts[rx.product] = true
                if !catalog.products[rx.product].mapped { summary.prescriptionsUnmappedNDC += 1 }
            }
        }
    }

    /// The codes-used figures.
    func finish(catalog: SyntheticCatalog, into summary: inout SyntheticSummary) {
        summary.diagnosisCodes = usedDx.filter { $0 }.count
        summary.procedureCodes = usedPx.filter { $0 }.count
        summary.drugProducts = usedProducts.filter { $0 }.count
        summary.drugClasses = Set(catalog.products.indices.filter { usedProducts[$0] }
            .map { catalog.products[$0].classIndex }).count
    }

    /// Reports progress every 1000 patients; `.cancelled` when the callback says stop.
    static func progress(_ progress: ((Int) -> Bool)?, done: Int, total: Int) throws(LeaderError) {
        guard let progress, done % 1000 == 0 || done == total else { return }
        if !progress(done) { throw .cancelled("synthetic cohort: cancelled after \(done) patients") }
    }
}

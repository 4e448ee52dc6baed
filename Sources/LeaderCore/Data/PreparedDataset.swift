/// What `leader prepare` writes and every later stage reads: the cohort (vocabularies with titles, profile
/// encoders, patients and visits), the samples, the patient split, the configuration and the report.
public struct PreparedDataset: Sendable {
    public var config: PrepareConfig
    public var cohort: Cohort
    public var samples: [Sample]
    /// One part per patient of `cohort.patients`.
    public var split: [SplitPart]

    public init(config: PrepareConfig, cohort: Cohort, samples: [Sample], split: [SplitPart]) {
        self.config = config
        self.cohort = cohort
        self.samples = samples
        self.split = split
    }

    /// Builds samples and split from a loaded cohort.
    public init(cohort: Cohort, config: PrepareConfig) {
        self.config = config
        self.cohort = cohort
        samples = SampleBuilder.samples(cohort, maxHistory: config.maxHistory, perVisit: config.samplePerVisit)
        split = PatientSplit.assign(patientCount: cohort.patients.count, trainFraction: config.trainFraction,
                                    validationFraction: config.validationFraction,
                                    sequential: config.split == "sequential", seed: config.seed)
    }

    /// The samples of one split part.
    public func samples(in part: SplitPart) -> [Sample] { samples.filter { split[Int($0.patient)] == part } }

    /// The visits of sample `s`, from its history start through its target visit: the one check of a sample's
    /// indices against the cohort and the split (a `.ldata` file's samples were checked when it was read; this
    /// guards samples made or changed by hand).
    public func visits(of s: Sample) throws(LeaderError) -> ArraySlice<Visit> {
        let p = Int(s.patient)
        guard cohort.patients.indices.contains(p), split.indices.contains(p) else {
            throw .invalidArgument("sample: patient index \(s.patient) outside the cohort")
        }
        let visits = cohort.patients[p].visits
        guard s.historyStart >= 0, s.historyStart <= s.targetVisit, visits.indices.contains(Int(s.targetVisit)) else {
            throw .invalidArgument("sample: visit range \(s.historyStart)...\(s.targetVisit) outside the patient's visits")
        }
        return visits[Int(s.historyStart)...Int(s.targetVisit)]
    }

    /// The profile labels of a sample: its target visit's, or the patient's first visit's (`profileVisit`).
    public func profile(of s: Sample) -> [Int32] {
        let visits = cohort.patients[Int(s.patient)].visits
        return config.profileVisit == "first" ? visits[0].profile : visits[Int(s.targetVisit)].profile
    }

    /// The source id `<patient id>:<target visit id>` of a sample: the key of teacher-features files and of
    /// the prompts `leader prompts` writes (one definition for the student and the teacher side).
    public func sampleID(_ s: Sample) throws(LeaderError) -> String {
        let window = try visits(of: s)   // never empty: it ends with the target visit
        return "\(cohort.patients[Int(s.patient)].id):\(window[window.endIndex - 1].id)"
    }
}

/// Loads a source folder (or, for OMOP, a PostgreSQL schema) into a prepared dataset.
public enum DataPreparation {
    /// `input`: the tables' folder, or for OMOP a `postgresql://` URI whose `schema` (default `public`) holds the
    /// tables and `vocabularySchema` (default: `schema`) the vocabulary.
    public static func prepare(source: DataSource, input: String, maps: String?, config: PrepareConfig,
                               schema: String? = nil, vocabularySchema: String? = nil,
                               progress: ((String) -> Void)? = nil) throws(LeaderError) -> PreparedDataset {
        try config.validate()
        var cohort: Cohort
        let postgres = PostgresTables.isURI(input)
        guard source == .omop || !postgres else {
            throw .invalidArgument("\(source.rawValue): a PostgreSQL input is supported for OMOP only; give a folder")
        }
        guard postgres || (schema == nil && vocabularySchema == nil) else {
            throw .invalidArgument("schema and vocabularySchema apply to a postgresql:// input only")
        }
        switch source {
        case .mimic3, .mimic4:
            // no folder given: the maps the project ships in data/
            guard let maps = maps ?? ProjectFiles.medicationMapsFolder() else {
                throw .invalidArgument("\(source.rawValue): no medication maps: the project's data/ folder was not "
                    + "found; give --maps (a folder with ndc2atc3.csv, gsn_atc_ndc_mapping.csv.gz, mimic_drug_to_atc.csv.gz)")
            }
            progress?("reading medication maps")
            let m = try MedicationMap.load(directory: maps)
            cohort = source == .mimic3
                ? try MIMIC3Loader.load(directory: input, medications: m, config: config, progress: progress)
                : try MIMIC4Loader.load(directory: input, medications: m, config: config, progress: progress)
        case .omop:
            if postgres {
                progress?("listing the PostgreSQL tables")
                let tables = try PostgresTables(uri: input, schema: schema ?? "public", vocabularySchema: vocabularySchema)
                cohort = try OMOPLoader.load(.postgres(tables), config: config, progress: progress)
            } else {
                cohort = try OMOPLoader.load(directory: input, config: config, progress: progress)
            }
        }
        try ShrinkCheck.apply(&cohort, config: config)
        return PreparedDataset(cohort: cohort, config: config)
    }
}

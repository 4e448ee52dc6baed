/// Summary numbers of a prepared dataset (`leader stats`). Counts only; no patient values.
public struct DataStatistics: Codable, Equatable, Sendable {
    public struct Kind: Codable, Equatable, Sendable {
        public var vocabulary: Int
        public var averagePerVisit: Double
        public var maxPerVisit: Int
    }

    public var source: String
    public var patients: Int
    public var visits: Int
    public var averageVisitsPerPatient: Double
    public var maxVisitsPerPatient: Int
    public var singleVisitPatients: Int
    public var singleVisitShare: Double
    public var codes: [String: Kind]
    public var profileCardinality: [String: Int]
    public var samples: [String: Int]
    public var patientsPerSplit: [String: Int]
    public var medicationCoverage: Double
    public var medicationRows: [String: Int]
    public var dropped: [String: Int]

    public init(_ d: PreparedDataset) {
        let c = d.cohort
        source = c.source
        patients = c.patients.count
        visits = c.visitCount
        averageVisitsPerPatient = patients == 0 ? 0 : Double(visits) / Double(patients)
        maxVisitsPerPatient = c.patients.map(\.visits.count).max() ?? 0
        singleVisitPatients = c.patients.filter { $0.visits.count == 1 }.count
        singleVisitShare = patients == 0 ? 0 : Double(singleVisitPatients) / Double(patients)
        var codes: [String: Kind] = [:]
        for kind in CodeKind.allCases {
            var total = 0, mx = 0
            for p in c.patients { for v in p.visits { let n = v.codes(kind).count; total += n; mx = max(mx, n) } }
            codes[kind.rawValue] = Kind(vocabulary: c.vocabulary(kind).count,
                                        averagePerVisit: visits == 0 ? 0 : Double(total) / Double(visits),
                                        maxPerVisit: mx)
        }
        self.codes = codes
        var card: [String: Int] = [:]
        for f in c.profile.fields { card[f.name] = f.cardinality }
        profileCardinality = card
        var s: [String: Int] = ["all": d.samples.count]
        var pp: [String: Int] = [:]
        for part in SplitPart.allCases {
            s[part.name] = d.samples.filter { d.split[Int($0.patient)] == part }.count
            pp[part.name] = d.split.filter { $0 == part }.count
        }
        samples = s
        patientsPerSplit = pp
        medicationCoverage = c.report.medicationCoverage
        medicationRows = c.report.medicationRows
        dropped = c.report.dropped
    }
}

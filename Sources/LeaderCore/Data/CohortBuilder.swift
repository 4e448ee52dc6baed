/// Collects visits, raw codes and raw profile values while a loader streams its tables, then applies LEADER's
/// filtering (top-K per kind, visits with all three code sets, minimum visits) and produces a `Cohort` with
/// dense vocabularies ordered by frequency (ties by key) and profile encoders ordered by value.
struct CohortBuilder {
    let source: String
    let profileNames: [String]
    var report = PreparationReport()

    private(set) var visitIndex: [Int64: Int32] = [:]
    private var visitIDs: [Int64] = []
    private var visitPatient: [Int64] = []
    private var visitTime: [Int64] = []
    private var visitProfile: [Int32] = []           // [V * F] provisional value ids, -1 = unknown
    private var profileValues: [[String]]             // per field: provisional id -> value
    private var profileIndex: [[String: Int32]]

    private var codeKeys: [[String]] = [[], [], []]
    private var codeSystems: [[String]] = [[], [], []]
    private var codeIndex: [[String: Int32]] = [[:], [:], [:]]
    private var pairs: [[UInt64]] = [[], [], []]      // visit << 32 | code
    /// Medication rows: (visit << 32 | code, 64-bit hash of (start, drug name)); sorted and de-duplicated at build
    /// time (16 bytes a row, far less than a hash set of row keys).
    private var medRows: [(pair: UInt64, row: UInt64)] = []

    init(source: String, profileNames: [String]) {
        self.source = source
        self.profileNames = profileNames
        profileValues = Array(repeating: [], count: profileNames.count)
        profileIndex = Array(repeating: [:], count: profileNames.count)
    }

    var visitCount: Int { visitIDs.count }

    func visit(_ id: Int64) -> Int32? { visitIndex[id] }

    /// Adds a visit; false when the id is already present (the caller counts the duplicate).
    mutating func addVisit(id: Int64, patient: Int64, time: Int64, profile: [String]) -> Bool {
        guard visitIndex[id] == nil, visitIDs.count < Int(Int32.max) else { return false }
        visitIndex[id] = Int32(visitIDs.count)
        visitIDs.append(id)
        visitPatient.append(patient)
        visitTime.append(time)
        for f in 0..<profileNames.count {
            let v = f < profile.count ? profile[f] : ""
            if v.isEmpty {
                visitProfile.append(-1)
            } else if let i = profileIndex[f][v] {
                visitProfile.append(i)
            } else {
                let i = Int32(profileValues[f].count)
                profileValues[f].append(v)
                profileIndex[f][v] = i
                visitProfile.append(i)
            }
        }
        return true
    }

    /// Renames the provisional values of profile field `field` (OMOP: concept ids → concept names). Values that
    /// become equal share one label; an empty result means unknown.
    mutating func renameProfileValues(field: Int, _ rename: (String) -> String) {
        guard field >= 0, field < profileValues.count else { return }
        profileValues[field] = profileValues[field].map(rename)
    }

    /// Interns `key` for `kind` and records it for `visit`. Returns the provisional code id.
    @discardableResult
    mutating func addCode(_ kind: CodeKind, visit: Int32, key: String, system: String) -> Int32 {
        let k = kind.slot
        let id = intern(k, key, system)
        pairs[k].append(UInt64(UInt32(bitPattern: visit)) << 32 | UInt64(UInt32(bitPattern: id)))
        return id
    }

    /// Adds a medication row: the code for `visit`, counted for frequency as LEADER counts it (rows de-duplicated
    /// over visit, start, drug name and code). `drug` is a hash of the drug name (or the drug concept id).
    mutating func addMedicationRow(visit: Int32, key: String, system: String, start: Int64, drug: UInt64) {
        let id = intern(CodeKind.medication.slot, key, system)
        var z = UInt64(bitPattern: start) &+ 0x9E37_79B9_7F4A_7C15 &* (drug | 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        medRows.append((UInt64(UInt32(bitPattern: visit)) << 32 | UInt64(UInt32(bitPattern: id)), z ^ drug))
    }

    /// The provisional id of `key` in slot `k`, added with its `system` when new.
    private mutating func intern(_ k: Int, _ key: String, _ system: String) -> Int32 {
        if let i = codeIndex[k][key] { return i }
        let id = Int32(codeKeys[k].count)
        codeKeys[k].append(key)
        codeSystems[k].append(system)
        codeIndex[k][key] = id
        return id
    }

    /// Applies the filters of `config` and returns the cohort (titles empty; loaders fill them).
    mutating func build(config: PrepareConfig) throws(LeaderError) -> Cohort {
        let V = visitIDs.count
        report.visitsLoaded = V
        report.patientsLoaded = Set(visitPatient).count
        var lists: [[[Int32]]] = []
        var rankOf: [[Int32]] = []   // provisional id -> rank (or -1 when not kept)
        for kind in CodeKind.allCases {
            let k = kind.slot
            let n = codeKeys[k].count
            var freq = [Int](repeating: 0, count: n)
            var unique: [UInt64] = []
            if kind == .medication {
                var rows = medRows
                medRows = []
                rows.sort { ($0.pair, $0.row) < ($1.pair, $1.row) }
                var last: (pair: UInt64, row: UInt64)? = nil
                for r in rows {
                    if let l = last, l.pair == r.pair, l.row == r.row { continue }
                    freq[Int(UInt32(truncatingIfNeeded: r.pair))] += 1
                    if unique.last != r.pair { unique.append(r.pair) }
                    last = r
                }
            } else {
                var p = pairs[k]
                pairs[k] = []
                p.sort()
                unique.reserveCapacity(p.count)
                for x in p where unique.last != x { unique.append(x) }
                for x in unique { freq[Int(UInt32(truncatingIfNeeded: x))] += 1 }
            }
            report.codesSeen[kind.rawValue] = n
            let keys = codeKeys[k]
            let order = (0..<n).sorted { a, b in
                freq[a] != freq[b] ? freq[a] > freq[b] : keys[a] < keys[b]
            }
            let limit: Int?
            switch kind {
            case .diagnosis: limit = config.topDiagnoses
            case .procedure: limit = config.topProcedures
            case .medication: limit = config.topMedications
            }
            let keep = min(limit ?? n, n)
            var rank = [Int32](repeating: -1, count: n)
            for (r, c) in order.prefix(keep).enumerated() { rank[c] = Int32(r) }
            var perVisit = [[Int32]](repeating: [], count: V)
            var dropped = 0
            for x in unique {
                let v = Int(x >> 32), c = Int(UInt32(truncatingIfNeeded: x))
                if rank[c] >= 0 { perVisit[v].append(rank[c]) } else { dropped += 1 }
            }
            report.drop("\(kind.rawValue) codes: not in the top \(keep) (visit-code pairs)", dropped)
            lists.append(perVisit)
            rankOf.append(rank)
        }
        // Visits with the required code sets, grouped per patient in time order.
        var keptVisits: [Int] = []
        var noneCount = 0
        for v in 0..<V {
            let has = (0..<3).map { !lists[$0][v].isEmpty }
            let ok = config.requireAllCodeSets ? has.allSatisfy { $0 } : has.contains(true)
            if ok { keptVisits.append(v) } else {
                noneCount += 1
                for kind in CodeKind.allCases where !has[kind.slot] {
                    report.drop("visits: no \(kind.rawValue) codes (after top-K; a visit may lack several)")
                }
            }
        }
        report.drop("visits: dropped for a missing code set", noneCount)
        keptVisits.sort { a, b in
            (visitPatient[a], visitTime[a], visitIDs[a]) < (visitPatient[b], visitTime[b], visitIDs[b])
        }
        var groups: [(Int64, [Int])] = []
        for v in keptVisits {
            if let last = groups.last, last.0 == visitPatient[v] {
                groups[groups.count - 1].1.append(v)
            } else {
                groups.append((visitPatient[v], [v]))
            }
        }
        let before = groups.count
        report.drop("patients: no visit kept", report.patientsLoaded - before)
        groups.removeAll { $0.1.count < config.minVisits }
        report.drop("patients: fewer than \(config.minVisits) kept visits", before - groups.count)
        guard !groups.isEmpty else {
            throw .invalidArgument("\(source): empty cohort after filtering (\(V) visits loaded, none kept; "
                + "see the preparation report's dropped counts)")
        }
        // Final vocabularies: codes used by kept visits, in rank order.
        var finalID: [[Int32]] = []
        var vocabs: [Vocabulary] = []
        for kind in CodeKind.allCases {
            let k = kind.slot
            let n = codeKeys[k].count
            var used = [Bool](repeating: false, count: n)
            var byRank = [Int](repeating: -1, count: n)
            for c in 0..<n where rankOf[k][c] >= 0 { byRank[Int(rankOf[k][c])] = c }
            for (_, vs) in groups { for v in vs { for r in lists[k][v] { used[Int(r)] = true } } }
            var vocab = Vocabulary(kind: kind)
            var map = [Int32](repeating: -1, count: n)   // rank -> final id
            for r in 0..<n where used[r] {
                let c = byRank[r]
                guard c >= 0 else { continue }
                map[r] = vocab.add(codeKeys[k][c], system: codeSystems[k][c])
            }
            report.codesKept[kind.rawValue] = vocab.count
            finalID.append(map)
            vocabs.append(vocab)
        }
        // Profile encoders over the kept visits.
        let F = profileNames.count
        var fields: [ProfileField] = []
        var labelOf: [[Int32]] = []
        for f in 0..<F {
            var seen = Set<Int32>()
            for (_, vs) in groups { for v in vs where visitProfile[v * F + f] >= 0 { seen.insert(visitProfile[v * F + f]) } }
            let sortedIDs = seen.sorted { profileValues[f][Int($0)] < profileValues[f][Int($1)] }
            var labels = [Int32](repeating: 0, count: profileValues[f].count)
            var values = [ProfileSchema.unknown]
            for id in sortedIDs {
                let value = profileValues[f][Int(id)]
                if value.isEmpty { continue }   // renamed to unknown
                if values.count > 1, values[values.count - 1] == value {
                    labels[Int(id)] = Int32(values.count - 1)
                } else {
                    labels[Int(id)] = Int32(values.count)
                    values.append(value)
                }
            }
            fields.append(ProfileField(name: profileNames[f], values: values))
            labelOf.append(labels)
        }
        var patients: [Patient] = []
        patients.reserveCapacity(groups.count)
        var visitsKept = 0
        for (pid, vs) in groups {
            var visits: [Visit] = []
            visits.reserveCapacity(vs.count)
            for v in vs {
                let codes = (0..<3).map { k in lists[k][v].map { finalID[k][Int($0)] }.sorted() }
                let prof = (0..<F).map { f -> Int32 in
                    let raw = visitProfile[v * F + f]
                    return raw < 0 ? 0 : labelOf[f][Int(raw)]
                }
                visits.append(Visit(id: visitIDs[v], time: visitTime[v], diagnoses: codes[0], procedures: codes[1],
                                    medications: codes[2], profile: prof))
            }
            visitsKept += visits.count
            patients.append(Patient(id: pid, visits: visits))
        }
        report.visitsKept = visitsKept
        report.patientsKept = patients.count
        return Cohort(source: source, diagnoses: vocabs[0], procedures: vocabs[1], medications: vocabs[2],
                      profile: ProfileSchema(fields: fields), patients: patients, report: report)
    }
}

extension CodeKind {
    var slot: Int {
        switch self {
        case .diagnosis: return 0
        case .procedure: return 1
        case .medication: return 2
        }
    }
}

extension Cohort {
    /// Streams a description table and sets titles of codes present in `kind`'s vocabulary; `makeKey` resolves
    /// its columns once and returns the function building a row's vocabulary key (nil skips the row).
    mutating func loadTitles(_ kind: CodeKind, path: String, titleColumns: [String],
                             makeKey: (CSVReader) throws(LeaderError) -> (CSVRow) -> String?) throws(LeaderError) {
        let r = try CSVReader(path: path)
        let t = try r.column(anyOf: titleColumns)
        let key = try makeKey(r)
        var vocab = vocabulary(kind)
        var rows = 0
        try r.forEachRow { (row: CSVRow) throws(LeaderError) in
            rows += 1
            guard let k = key(row), let id = vocab.id(k) else { return }
            vocab.setTitle(row.trimmed(t), for: id)
        }
        report.rowsRead[CohortFiles.tableName(path), default: 0] += rows
        setVocabulary(vocab)
    }

    mutating func setVocabulary(_ v: Vocabulary) {
        switch v.kind {
        case .diagnosis: diagnoses = v
        case .procedure: procedures = v
        case .medication: medications = v
        }
    }

    /// Counts codes without a title into the report.
    mutating func countMissingTitles() {
        for kind in CodeKind.allCases {
            report.codesWithoutTitle[kind.rawValue] = vocabulary(kind).titles.filter(\.isEmpty).count
        }
    }
}

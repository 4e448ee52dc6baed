/// Sizes the student's tables are built for: the three code vocabularies and the profile fields.
public struct StudentVocabularySizes: Equatable, Sendable {
    public var medications: Int
    public var diagnoses: Int
    public var procedures: Int
    /// Number of values of each profile field (label 0 = unknown).
    public var profileCardinalities: [Int]

    public init(medications: Int, diagnoses: Int, procedures: Int, profileCardinalities: [Int]) {
        self.medications = medications
        self.diagnoses = diagnoses
        self.procedures = procedures
        self.profileCardinalities = profileCardinalities
    }

    /// Reserved rows of the unified table before the medications: [PAD], [CLS], [MASK] (reference tokenizer).
    public static let reserved = 3
    public var medicationOffset: Int { Self.reserved }
    public var diagnosisOffset: Int { Self.reserved + medications }
    public var procedureOffset: Int { Self.reserved + medications + diagnoses }
    /// Rows of the shared embedding table.
    public var unifiedCount: Int { Self.reserved + medications + diagnoses + procedures }
    public var profileValueCount: Int { profileCardinalities.reduce(0, +) }

    /// Where `kind`'s codes start in the unified table, how many there are, and the kind (for messages).
    struct CodeRange {
        let offset: Int, count: Int, kind: CodeKind
    }

    func range(of kind: CodeKind) -> CodeRange {
        switch kind {
        case .diagnosis: CodeRange(offset: diagnosisOffset, count: diagnoses, kind: kind)
        case .procedure: CodeRange(offset: procedureOffset, count: procedures, kind: kind)
        case .medication: CodeRange(offset: medicationOffset, count: medications, kind: kind)
        }
    }

    /// The unified-table row of `code`, an id of `range`'s kind: the one id check of the student's inputs
    /// (training batches and serving forward passes).
    func unifiedRow(_ code: Int32, _ range: CodeRange) throws(LeaderError) -> Int32 {
        guard code >= 0, Int(code) < range.count else {
            throw .invalidArgument("student batch: \(range.kind.rawValue) id \(code) outside vocabulary of \(range.count)")
        }
        return Int32(range.offset + Int(code))
    }

    /// The profile-table row of `label` of field `field`, `base` the rows of the fields before it.
    func profileRow(field: Int, label: Int32, base: Int) throws(LeaderError) -> Int32 {
        let card = profileCardinalities[field]
        guard label >= 0, Int(label) < card else {
            throw .invalidArgument("student batch: profile field \(field) label \(label) outside its \(card) values")
        }
        return Int32(base + Int(label))
    }

    func validate() throws(LeaderError) {
        guard medications > 0 else { throw .invalidArgument("student: the medication vocabulary is empty") }
        guard diagnoses >= 0, procedures >= 0, medications <= 1 << 24, diagnoses <= 1 << 24, procedures <= 1 << 24
        else { throw .invalidArgument("student: vocabulary sizes out of range") }
        guard profileCardinalities.count <= 1024, profileCardinalities.allSatisfy({ (1...(1 << 24)).contains($0) })
        else { throw .invalidArgument("student: profile cardinalities out of range") }
    }
}

/// One patient as the student sees it: the code ids of every visit (history first, the current visit last),
/// the medications of the history visits, the profile labels and (for training / evaluation) the current
/// visit's medications. Ids are per-vocabulary (0..<count), not unified.
public struct StudentExample: Equatable, Sendable {
    public var diagnoses: [[Int32]]
    public var procedures: [[Int32]]
    /// One set per history visit: `diagnoses.count - 1` sets.
    public var medications: [[Int32]]
    public var profile: [Int32]
    /// The medication ids of the current visit (the labels); empty when unknown (serving).
    public var targetMedications: [Int32]

    public init(diagnoses: [[Int32]], procedures: [[Int32]], medications: [[Int32]], profile: [Int32],
                targetMedications: [Int32] = []) {
        self.diagnoses = diagnoses
        self.procedures = procedures
        self.medications = medications
        self.profile = profile
        self.targetMedications = targetMedications
    }

    public var visitCount: Int { diagnoses.count }

    /// Checks the set counts (v diagnosis and procedure sets, v-1 medication sets, v >= 1) and the number of
    /// profile fields; code ids are range-checked where they are packed.
    func validateShape(profileFields fields: Int) throws(LeaderError) {
        let v = visitCount
        guard v >= 1 else { throw .invalidArgument("student batch: an example has no visit") }
        guard procedures.count == v, medications.count == v - 1 else {
            throw .invalidArgument("student batch: an example has \(v) diagnosis sets, \(procedures.count) "
                + "procedure sets and \(medications.count) medication sets (need v, v, v-1)")
        }
        guard profile.count == fields else {
            throw .invalidArgument("student batch: profile has \(profile.count) fields, expected \(fields)")
        }
    }

    /// The example of a prepared-dataset sample, keeping the `maxVisits` most recent visits (`HistoryWindow` of
    /// maxVisits - 1 earlier visits, within the sample's own history).
    public init(_ data: PreparedDataset, _ s: Sample, maxVisits: Int) throws(LeaderError) {
        guard maxVisits >= 1 else { throw .invalidArgument("student examples: maxVisits \(maxVisits) (expected >= 1)") }
        let visits = try data.visits(of: s)
        let t = visits.endIndex - 1
        let first = HistoryWindow(earlierVisits: maxVisits - 1).firstVisit(target: t, from: visits.startIndex)
        let kept = visits[first...t]
        diagnoses = kept.map(\.diagnoses)
        procedures = kept.map(\.procedures)
        medications = kept.dropLast().map(\.medications)
        profile = data.profile(of: s)
        targetMedications = visits[t].medications
    }
}

/// A mini-batch packed once into padded id tensors and length arrays (all sizes computed with checked
/// arithmetic; ids range-checked against the vocabularies).
///
/// Code sets of one type from every visit of every patient in the batch form ONE (N, S, C) set batch, padded
/// only to the batch's longest set (S ≥ 1) — visits that do not exist are not encoded at all. The pooled set
/// vectors of the three streams and the profile prompts form one table of rows
/// `[diagnosis sets | procedure sets | medication sets | prompts]`; `visitIds` (3B, T) picks the rows of the
/// visit sequences of the three streams (diagnosis, procedure, medication; -1 = padding), so the shared
/// visit encoder runs once over 3B sequences. The medication stream is `[prompt, meds of visit 0, …,
/// meds of visit T_b-2]`. With `withTargets`, the B target medication sets are appended after the history
/// medication sets (the alignment view).
public struct StudentBatch {
    public struct Sets {
        public let ids: IndexTensor      // (N, S), unified ids, -1 padding
        public let lengths: IndexTensor  // (N)
        public var count: Int { lengths.count }
    }
    /// The sets of one code type, in length buckets (each padded to its own longest set); the table rows of
    /// the stream are the buckets' rows in order.
    public struct Stream {
        public let buckets: [Sets]
        public var count: Int { buckets.reduce(0) { $0 + $1.count } }
    }
    public let batch: Int
    public let maxVisits: Int
    public let diagnoses: Stream, procedures: Stream, medications: Stream
    /// Medication sets that are history (the rest, if any, are the targets).
    public let historyMedicationSets: Int
    public let hasTargets: Bool
    public let visitIds: IndexTensor      // (3B, T)
    public let visitLengths: IndexTensor  // (3B)
    public let profileIds: IndexTensor    // (B, F) offsets into the profile table
    public let labels: Tensor             // (B, |Med|) multi-hot
    public let visitCounts: [Int]

    public var tableRows: Int { diagnoses.count + procedures.count + medications.count + batch }

    /// `maxBuckets`: length buckets per code type (1 = one padded batch per type; results do not depend on it).
    public init(_ examples: [StudentExample], sizes: StudentVocabularySizes, maxCodesPerVisit: Int,
                withTargets: Bool, maxBuckets: Int = 3) throws(LeaderError) {
        let b = examples.count
        guard b > 0 else { throw .invalidArgument("student batch: no examples") }
        let fields = sizes.profileCardinalities.count
        var visitCounts = [Int](), nD = 0, nM = 0
        visitCounts.reserveCapacity(b)
        for e in examples {
            try e.validateShape(profileFields: fields)
            let v = e.visitCount
            visitCounts.append(v)
            nD = try Checked.sum(nD, v, "student batch visits")
            nM = try Checked.sum(nM, v - 1, "student batch medication sets")
        }
        let t = visitCounts.max() ?? 1
        let cap = maxCodesPerVisit
        func packSets(_ sets: [[Int32]], _ order: [Int], _ kind: CodeKind) throws(LeaderError) -> Sets {
            let range = sizes.range(of: kind), what = kind.rawValue
            let n = order.count
            let s = max(1, min(cap, order.map { sets[$0].count }.max() ?? 0))
            let total = try Checked.product(n, s, "student batch \(what) ids")
            var ids = [Int32](repeating: -1, count: total)
            var lens = [Int32](repeating: 0, count: n)
            for (i, src) in order.enumerated() {
                let set = sets[src]
                let k = min(set.count, s)
                lens[i] = Int32(k)
                for j in 0..<k { ids[i * s + j] = try sizes.unifiedRow(set[j], range) }
            }
            return Sets(ids: try IndexTensor(shape: [n, s], values: ids), lengths: try IndexTensor(shape: [n], values: lens))
        }
        /// Length buckets of `sets` (+ `extra` sets as a last bucket in their order); rowOf[i] = table row of set i.
        func pack(_ sets: [[Int32]], extra: [[Int32]] = [], _ kind: CodeKind) throws(LeaderError) -> (Stream, [Int])
        {
            var buckets: [Sets] = []
            var rowOf = [Int](repeating: 0, count: sets.count)
            var row = 0
            for order in Self.lengthBuckets(sets.map { min($0.count, cap) }, maxBuckets: maxBuckets) {
                buckets.append(try packSets(sets, order, kind))
                for src in order { rowOf[src] = row; row += 1 }
            }
            if !extra.isEmpty {
                buckets.append(try packSets(extra, Array(extra.indices), kind))
            }
            return (Stream(buckets: buckets), rowOf)
        }
        var dSets = [[Int32]](), pSets = [[Int32]](), mSets = [[Int32]]()
        dSets.reserveCapacity(nD); pSets.reserveCapacity(nD); mSets.reserveCapacity(nM)
        for e in examples { dSets += e.diagnoses; pSets += e.procedures; mSets += e.medications }
        let (dStream, dRowOf) = try pack(dSets, .diagnosis)
        let (pStream, pRowOf) = try pack(pSets, .procedure)
        let (mStream, mRowOf) = try pack(mSets, extra: withTargets ? examples.map(\.targetMedications) : [], .medication)
        diagnoses = dStream
        procedures = pStream
        medications = mStream

        // Visit sequences: rows of the table [D | P | M | prompts].
        let rows3 = try Checked.product(3, b, "student batch sequences")
        var vids = [Int32](repeating: -1, count: try Checked.product(rows3, t, "student batch visit ids"))
        var vlens = [Int32](repeating: 0, count: rows3)
        let pBase = nD, mBase = nD + nD
        let promptBase = try Checked.sum(mBase, medications.count, "student batch table")
        guard promptBase + b < Int(Int32.max) else { throw .overflow("student batch: table too large") }
        var dRow = 0, mRow = 0
        for (i, v) in visitCounts.enumerated() {
            for s in 0..<3 { vlens[s * b + i] = Int32(v) }
            for j in 0..<v {
                vids[i * t + j] = Int32(dRowOf[dRow + j])
                vids[(b + i) * t + j] = Int32(pBase + pRowOf[dRow + j])
            }
            vids[(2 * b + i) * t] = Int32(promptBase + i)
            for j in 1..<max(v, 1) { vids[(2 * b + i) * t + j] = Int32(mBase + mRowOf[mRow + j - 1]) }
            dRow += v
            mRow += v - 1
        }
        visitIds = try IndexTensor(shape: [rows3, t], values: vids)
        visitLengths = try IndexTensor(shape: [rows3], values: vlens)

        var prof = [Int32](repeating: 0, count: try Checked.product(b, max(fields, 0), "student batch profile"))
        var fieldOffset = [Int](), acc = 0
        for c in sizes.profileCardinalities { fieldOffset.append(acc); acc += c }
        for (i, e) in examples.enumerated() {
            for f in 0..<fields {
                prof[i * fields + f] = try sizes.profileRow(field: f, label: e.profile[f], base: fieldOffset[f])
            }
        }
        profileIds = try IndexTensor(shape: [b, fields], values: prof)

        var lab = [Float](repeating: 0, count: try Checked.product(b, sizes.medications, "student batch labels"))
        for (i, e) in examples.enumerated() {
            for c in e.targetMedications {
                guard c >= 0, Int(c) < sizes.medications else {
                    throw .invalidArgument("student batch: target medication id \(c) outside vocabulary of \(sizes.medications)")
                }
                lab[i * sizes.medications + Int(c)] = 1
            }
        }
        labels = try Tensor(shape: [b, sizes.medications], values: lab)
        self.batch = b
        self.maxVisits = t
        self.historyMedicationSets = nM
        self.hasTargets = withTargets
        self.visitCounts = visitCounts
    }

    /// Splits sets into at most 3 length buckets minimising padded tokens + a fixed cost per bucket (one more
    /// encoder call ≈ 32 tokens of work): DP over the distinct lengths. Returns set indices per bucket, by
    /// ascending length; one bucket (original order) when splitting does not pay.
    static func lengthBuckets(_ lengths: [Int], maxBuckets: Int = 3) -> [[Int]] {
        let n = lengths.count
        guard n > 1, maxBuckets > 1 else { return [Array(0..<n)] }
        let sorted = (0..<n).sorted { (lengths[$0], $0) < (lengths[$1], $1) }
        var values: [Int] = [], cum: [Int] = [0]
        for i in sorted {
            if values.last != lengths[i] { values.append(lengths[i]); cum.append(cum.last ?? 0) }
            cum[cum.count - 1] += 1
        }
        let d = values.count, perBucket = 32
        func cost(_ a: Int, _ b: Int) -> Int { (cum[b] - cum[a]) * max(1, values[b - 1]) + perBucket }
        let single = cost(0, d)
        guard d > 1 else { return [Array(0..<n)] }
        // best[k][j]: min cost of the first j distinct lengths in k buckets; cut[k][j]: start of the last one.
        let kMax = min(maxBuckets, d, 8)
        var best = [[Int]](repeating: [Int](repeating: Int.max, count: d + 1), count: kMax + 1)
        var cut = [[Int]](repeating: [Int](repeating: 0, count: d + 1), count: kMax + 1)
        best[0][0] = 0
        for k in 1...kMax {
            for j in k...d {
                for i in (k - 1)..<j where best[k - 1][i] != Int.max {
                    let c = best[k - 1][i] + cost(i, j)
                    if c < best[k][j] { best[k][j] = c; cut[k][j] = i }
                }
            }
        }
        var bestK = 1
        for k in 2...kMax where best[k][d] < best[bestK][d] { bestK = k }
        guard bestK > 1, best[bestK][d] < single else { return [Array(0..<n)] }
        var bounds: [Int] = [d]
        var j = d
        for k in stride(from: bestK, to: 0, by: -1) { j = cut[k][j]; bounds.append(j) }
        bounds.reverse()
        return (0..<bestK).map { Array(sorted[cum[bounds[$0]]..<cum[bounds[$0 + 1]]]) }
    }
}

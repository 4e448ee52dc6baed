import FoundationEssentials

/// Per-thread serving state of a `ServingModel`: its options and one forward pass (buffers) per worker
/// thread. Not for two threads at once; make one per thread (cheap: buffers grow on first use). Keeps its
/// model alive. This is `leader_session` of the C ABI.
public final class ServingSession {
    /// `leader_session_create`'s options JSON; unknown keys are errors.
    public struct Options: Decodable, Sendable {
        /// Worker threads of the batch calls (0 = all online CPUs).
        public var threads = 1
        /// fp32, bf16 or auto (bf16 where the CPU has AMX tiles, else fp32).
        public var precision = "fp32"
        /// Earlier visits used, the most recent ones; nil = the checkpoint's maxVisits - 1.
        public var historyVisits: Int?
        /// A DDI pair CSV (atc3_a,atc3_b): recommendations then drop the lower-scored drug of every interacting
        /// pair (`DDIPairs.keepSafe`); scores are unchanged.
        public var ddiFilter: String?

        public init(threads: Int = 1, precision: String = "fp32", historyVisits: Int? = nil, ddiFilter: String? = nil) {
            self.threads = threads; self.precision = precision; self.historyVisits = historyVisits
            self.ddiFilter = ddiFilter
        }

        public init(from decoder: any Decoder) throws {
            let c = try StrictKeys.container(decoder, ["threads", "precision", "historyVisits", "ddiFilter"],
                                             "session options")
            threads = try c.decodeIfPresent(Int.self, forKey: .init("threads")) ?? 1
            precision = try c.decodeIfPresent(String.self, forKey: .init("precision")) ?? "fp32"
            historyVisits = try c.decodeIfPresent(Int.self, forKey: .init("historyVisits"))
            ddiFilter = try c.decodeIfPresent(String.self, forKey: .init("ddiFilter"))
        }

        /// Options from JSON text; nil or "" gives the defaults.
        public static func parse(_ json: String?) throws(LeaderError) -> Options {
            guard let json, !json.allSatisfy(\.isWhitespace) else { return Options() }
            return try StrictJSON.decode(Options.self, json, "session options")
        }
    }

    public let model: ServingModel
    public let threads: Int
    public let precision: StudentPrecision
    public let historyVisits: Int
    /// The interacting pairs of the `ddiFilter` option, over the model's medications.
    public let ddi: DDIPairs?
    private let passes: [StudentForwardPass]
    private var scores: [Float]

    public init(model: ServingModel, options: Options = Options()) throws(LeaderError) {
        self.model = model
        threads = try Threads.resolve(options.threads, "session options: threads")
        guard let p = StudentPrecision.resolving(options.precision) else {
            throw .invalidArgument("session options: precision '\(options.precision.prefix(16))' (expected fp32, bf16 or auto)")
        }
        precision = p
        let history = options.historyVisits ?? (model.config.maxVisits - 1)
        guard (0...100_000).contains(history) else {
            throw .invalidArgument("session options: historyVisits \(history) (expected 0...100000)")
        }
        historyVisits = history
        let meds = model.indexes[2]
        ddi = try options.ddiFilter.map { (path) throws(LeaderError) in try DDIPairs.load(path: path) { meds[$0] } }
        passes = try (0..<threads).map { (_) throws(LeaderError) in try model.packed.makePass(precision: p) }
        scores = [Float](repeating: 0, count: model.sizes.medications)
    }

    /// The example of `patient` (see `ServingModel.example`), unknown positions appended to `unknown`.
    public func example(_ patient: PatientCodes, unknown: inout [Int]) throws(LeaderError) -> StudentExample {
        try model.example(patient, history: historyVisits, unknown: &unknown)
    }

    /// The example from ids (CSR split per visit); `labels` one per profile field or empty.
    public func example(diagnoses: [[Int32]], procedures: [[Int32]], medications: [[Int32]], labels: [Int32])
        throws(LeaderError) -> StudentExample
    {
        try model.example(diagnoses: diagnoses, procedures: procedures, medications: medications, labels: labels,
                          history: historyVisits)
    }

    /// Scores of every medication for one example (computed into the session's buffer, returned as a value).
    public func scores(_ ex: StudentExample) throws(LeaderError) -> [Float] {
        try scores.withUnsafeMutableBufferPointer { (out) throws(LeaderError) in
            guard let o = out.baseAddress else { return }
            try passes[0].predict([ex][...], into: o)
        }
        return scores
    }

    /// Medications with score >= threshold (nil: the checkpoint's configured one), best first (ties: lower id
    /// first), without the lower-scored drug of any interacting pair when the session has a DDI filter, at most
    /// `topK` (0: no limit).
    public func recommend(_ ex: StudentExample, topK: Int = 0, threshold: Float? = nil) throws(LeaderError)
        -> [(id: Int32, score: Float)]
    {
        guard topK >= 0 else { throw .invalidArgument("recommend: top_k \(topK) < 0") }
        let th = threshold ?? model.checkpoint.thresholds.configured
        guard th <= 1, !th.isNaN else { throw .invalidArgument("recommend: threshold \(th) (expected <= 1)") }
        let s = try scores(ex)
        var picked: [(id: Int32, score: Float)] = []
        for (i, x) in s.enumerated() where x >= th { picked.append((Int32(i), x)) }
        picked.sort { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
        if let ddi { picked = ddi.keepSafe(picked) }
        if topK > 0 && picked.count > topK { picked.removeLast(picked.count - topK) }
        return picked
    }

    /// Scores of `examples` (count × |Med| into `out`), spread over the session's threads; every row is
    /// bitwise the row of scoring that example alone.
    public func scoreBatch(_ examples: ArraySlice<StudentExample>, into out: UnsafeMutablePointer<Float>)
        throws(LeaderError)
    {
        try model.packed.predict(examples, passes: Array(passes.prefix(max(1, min(threads, examples.count)))),
                                 into: out)
    }

    /// Occlusion explanation of medication `medication`'s score: for each known input (by position), the score
    /// minus the score without it (a code removed from its set; a profile field set to unknown). Sorted by
    /// contribution, largest first (ties: lower position first). One batch: the patient and every occlusion.
    public func explain(_ patient: PatientCodes, medication: Int) throws(LeaderError)
        -> (score: Float, items: [(position: Int, contribution: Float)])
    {
        let m = model.sizes.medications
        guard (0..<m).contains(medication) else {
            throw .invalidArgument("explain: medication id \(medication) outside the vocabulary of \(m)")
        }
        var unknown: [Int] = []
        var known: [KnownInput] = []
        let base = try model.example(patient, history: historyVisits, unknown: &unknown, known: &known)
        var examples = [base]
        examples.reserveCapacity(known.count + 1)
        for k in known {
            var e = base
            switch k.kind {
            case 0: e.diagnoses[k.visit].removeAll { $0 == k.id }
            case 1: e.procedures[k.visit].removeAll { $0 == k.id }
            case 2: e.medications[k.visit].removeAll { $0 == k.id }
            default: e.profile[k.visit] = 0
            }
            examples.append(e)
        }
        var all = [Float](repeating: 0, count: try Checked.product(examples.count, m, "explain scores"))
        try all.withUnsafeMutableBufferPointer { (out) throws(LeaderError) in
            guard let o = out.baseAddress else { return }
            try scoreBatch(examples[...], into: o)
        }
        let score = all[medication]
        var items = known.enumerated().map { (i, k) in (position: k.position, contribution: score - all[(i + 1) * m + medication]) }
        items.sort { $0.contribution != $1.contribution ? $0.contribution > $1.contribution : $0.position < $1.position }
        return (score, items)
    }

    /// `leader recommend`'s answer for a JSON patient: recommended medications with titles, the next `extra`
    /// below the threshold, unknown codes as "kind:code" and unknown profile entries.
    public func recommendation(_ record: PatientRecord, threshold: Float? = nil, extra: Int = 5) throws(LeaderError)
        -> Recommendation
    {
        let patient = record.codes
        var unknown: [Int] = []
        let ex = try example(patient, unknown: &unknown)
        let th = threshold ?? model.checkpoint.thresholds.configured
        let ranked = try recommend(ex, topK: 0, threshold: 0)
        let v = model.checkpoint.vocabularies.medications
        let items = ranked.map { Recommendation.Item(code: v.keys[Int($0.id)], title: v.titles[Int($0.id)], score: $0.score) }
        let rec = items.filter { $0.score >= th }
        let flat = [("diagnosis", patient.diagnoses.flatMap { $0 }), ("procedure", patient.procedures.flatMap { $0 }),
                    ("medication", patient.medications.flatMap { $0 })]
        var codes: [String] = [], profile: [String] = []
        for pos in unknown {
            var p = pos
            var named = false
            for (kind, list) in flat {
                if p < list.count { codes.append("\(kind):\(list[p])"); named = true; break }
                p -= list.count
            }
            if !named && p < patient.profile.count {
                let pair = patient.profile[p]
                profile.append(model.fieldIndex[pair.key] == nil ? pair.key : "\(pair.key)=\(pair.value)")
            }
        }
        return Recommendation(recommended: rec, others: Array(items.dropFirst(rec.count).prefix(extra)), threshold: th,
                              unknownCodes: codes, unknownProfile: profile)
    }
}

extension ServingSession {
    /// Scores of labelled examples (their `target`s are the truths) for the evaluation code (`Eval/`).
    public func score(_ examples: [StudentExample]) throws(LeaderError) -> ScoredSamples {
        let m = model.sizes.medications
        var scores = [Float](repeating: 0, count: try Checked.product(examples.count, m, "student scores"))
        try scores.withUnsafeMutableBufferPointer { (out) throws(LeaderError) in
            guard let o = out.baseAddress else { return }
            try scoreBatch(examples[...], into: o)
        }
        return try ScoredSamples(medications: m, scores: scores, truths: examples.map(\.targetMedications),
                                 visitCounts: examples.map(\.visitCount))
    }
}

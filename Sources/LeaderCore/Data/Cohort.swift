/// The three code streams of a visit.
public enum CodeKind: String, Codable, CaseIterable, Sendable {
    case diagnosis, procedure, medication
}

/// Codes of one kind, mapped to dense ids `0..<count`. Keys are unique strings (see `docs/data.md`: MIMIC-III
/// `4019`; MIMIC-IV `9:4019` / `10:I10` so ICD-9 and ICD-10 never collide; ATC level 3 `N02B`; OMOP
/// `<vocabulary_id>:<concept_code>`). Each code carries its coding system and a human-readable title
/// (empty when the description table has none).
public struct Vocabulary: Codable, Equatable, Sendable {
    public let kind: CodeKind
    public private(set) var keys: [String]
    public private(set) var systems: [String]
    public private(set) var titles: [String]
    private var index: [String: Int32]

    public init(kind: CodeKind) {
        self.kind = kind
        keys = []
        systems = []
        titles = []
        index = [:]
    }

    /// A vocabulary of `keys` (unique; their ids are their positions) with `titles` (one each) and coding
    /// `systems` (one each, or none: all empty).
    public init(kind: CodeKind, keys: [String], titles: [String], systems: [String] = []) throws(LeaderError) {
        guard titles.count == keys.count, systems.isEmpty || systems.count == keys.count else {
            throw .invalidArgument("vocabulary '\(kind.rawValue)': \(keys.count) keys, \(titles.count) titles, "
                + "\(systems.count) systems")
        }
        self.init(kind: kind)
        for (i, k) in keys.enumerated() {
            guard add(k, system: systems.isEmpty ? "" : systems[i], title: titles[i]) == Int32(i) else {
                throw .invalidArgument("vocabulary '\(kind.rawValue)': duplicate key at index \(i)")
            }
        }
    }

    public var count: Int { keys.count }

    /// Key → id of every code.
    public var ids: [String: Int32] { index }

    /// The id of `key`, or nil when unknown.
    public func id(_ key: String) -> Int32? { index[key] }

    /// Adds `key` (if new) and returns its id.
    @discardableResult
    public mutating func add(_ key: String, system: String, title: String = "") -> Int32 {
        if let i = index[key] { return i }
        let i = Int32(keys.count)
        keys.append(key)
        systems.append(system)
        titles.append(title)
        index[key] = i
        return i
    }

    /// Sets the title of an existing code.
    public mutating func setTitle(_ title: String, for id: Int32) {
        guard id >= 0, Int(id) < titles.count else { return }
        titles[Int(id)] = title
    }

    enum CodingKeys: String, CodingKey { case kind, keys, systems, titles }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try c.decode(CodeKind.self, forKey: .kind)
        let keys = try c.decode([String].self, forKey: .keys)
        let systems = try c.decode([String].self, forKey: .systems)
        let titles = try c.decode([String].self, forKey: .titles)
        guard systems.count == keys.count, titles.count == keys.count else {
            throw LeaderError.badFile("vocabulary '\(kind.rawValue)': keys, systems and titles differ in length")
        }
        do { try self.init(kind: kind, keys: keys, titles: titles, systems: systems) } catch {
            throw LeaderError.badFile(error.message)   // a file's vocabulary: a repeated key is a bad file
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(keys, forKey: .keys)
        try c.encode(systems, forKey: .systems)
        try c.encode(titles, forKey: .titles)
    }

    public static func == (a: Vocabulary, b: Vocabulary) -> Bool {
        a.kind == b.kind && a.keys == b.keys && a.systems == b.systems && a.titles == b.titles
    }
}

/// One visit (admission / visit_occurrence): sorted, de-duplicated code ids per kind and the encoded profile.
public struct Visit: Equatable, Sendable {
    public var id: Int64
    /// Sort key: seconds since 1970-01-01 of the admission (shifted MIMIC dates are fine).
    public var time: Int64
    public var diagnoses: [Int32]
    public var procedures: [Int32]
    public var medications: [Int32]
    /// One label per profile field (`ProfileSchema.fields`), 0 = unknown.
    public var profile: [Int32]

    public init(id: Int64, time: Int64, diagnoses: [Int32], procedures: [Int32], medications: [Int32],
                profile: [Int32]) {
        self.id = id
        self.time = time
        self.diagnoses = diagnoses
        self.procedures = procedures
        self.medications = medications
        self.profile = profile
    }

    public func codes(_ kind: CodeKind) -> [Int32] {
        switch kind {
        case .diagnosis: return diagnoses
        case .procedure: return procedures
        case .medication: return medications
        }
    }
}

/// A patient with visits in time order (ties broken by visit id).
public struct Patient: Equatable, Sendable {
    public var id: Int64
    public var visits: [Visit]
    public init(id: Int64, visits: [Visit]) {
        self.id = id
        self.visits = visits
    }
}

/// The canonical cohort every loader produces: patients sorted by id, vocabularies, profile schema, report.
public struct Cohort: Sendable {
    public var source: String
    public var diagnoses: Vocabulary
    public var procedures: Vocabulary
    public var medications: Vocabulary
    public var profile: ProfileSchema
    public var patients: [Patient]
    public var report: PreparationReport

    public func vocabulary(_ kind: CodeKind) -> Vocabulary {
        switch kind {
        case .diagnosis: return diagnoses
        case .procedure: return procedures
        case .medication: return medications
        }
    }

    public var visitCount: Int { patients.reduce(0) { $0 + $1.visits.count } }
}

/// Where a loader reads its tables: CSV files in a folder (`NAME.csv` or `NAME.csv.gz`, any case), or a PostgreSQL
/// schema, each table streamed by `COPY … TO STDOUT` in CSV into the same reader (no copy of the database on disk).
public enum TableSource: Sendable {
    case folder(String)
    case postgres(PostgresTables)

    /// A table found in the source.
    public struct Table: Sendable {
        /// Lower-case table name (report keys).
        public let name: String
        fileprivate let location: String
        fileprivate let source: TableSource

        /// A reader over the table's rows (header first).
        public func open() throws(LeaderError) -> CSVReader {
            switch source {
            case .folder: return try CSVReader(path: location)
            case .postgres(let pg): return try pg.reader(location, name: name)
            }
        }
    }

    /// Table `name`, nil when the source lacks it.
    public func find(_ name: String) -> Table? {
        switch self {
        case .folder(let dir):
            return CohortFiles.find(dir, name).map { Table(name: name.lowercased(), location: $0, source: self) }
        case .postgres(let pg):
            return pg.qualified(name).map { Table(name: name.lowercased(), location: $0, source: self) }
        }
    }

    /// Table `name`, or an error naming the source and the table.
    public func require(_ name: String) throws(LeaderError) -> Table {
        if let t = find(name) { return t }
        switch self {
        case .folder(let dir): throw .io("\(dir): missing table \(name).csv or \(name).csv.gz (any case)")
        case .postgres(let pg): throw .io("\(pg.describe(name)): no such table or view")
        }
    }
}

/// The tables of a PostgreSQL schema (clinical tables) and of its vocabulary schema (concept, concept_ancestor,
/// concept_relationship; OHDSI sites often keep them apart), listed once from `information_schema.tables`.
/// Credentials come from libpq: the URI, `PGPASSWORD` or `~/.pgpass`; messages never show the connection string.
public struct PostgresTables: Sendable {
    let conninfo: String
    public let schema: String
    public let vocabularySchema: String
    /// Lower-case name → quoted `"schema"."table"`.
    private let tables: [String: String]
    static let vocabularyTables: Set<String> = ["concept", "concept_ancestor", "concept_relationship"]

    /// Whether `input` names a PostgreSQL database (a `postgresql://` or `postgres://` URI).
    public static func isURI(_ input: String) -> Bool {
        input.hasPrefix("postgresql://") || input.hasPrefix("postgres://")
    }

    /// Connects to list the tables of `schema` and `vocabularySchema` (default: `schema`).
    public init(uri: String, schema: String, vocabularySchema: String? = nil) throws(LeaderError) {
        let vocab = vocabularySchema ?? schema
        for s in [schema, vocab] where !PostgresTables.isPlainIdentifier(s) {
            throw .invalidArgument("PostgreSQL schema '\(s.prefix(64))': letters, digits and _ only, not starting with a digit")
        }
        conninfo = uri
        self.schema = schema
        self.vocabularySchema = vocab
        var tables: [String: String] = [:]
        // (schema, whether the vocabulary tables come from it)
        let passes = schema == vocab ? [(schema, true)] : [(schema, false), (vocab, true)]
        for (s, takesVocabulary) in passes {
            let list = "COPY (SELECT table_name FROM information_schema.tables WHERE table_schema = '\(s)') "
                + "TO STDOUT WITH (FORMAT csv, HEADER true)"
            let r = try CSVReader(postgres: uri, copySQL: list,
                                  name: "PostgreSQL \(PostgresTables.redacted(uri)) schema \(s)")
            try r.forEachRow { (row: CSVRow) throws(LeaderError) in
                let name = row.string(0)
                let key = name.lowercased()
                let isVocabulary = PostgresTables.vocabularyTables.contains(key)
                guard isVocabulary ? takesVocabulary : s == schema else { return }
                // an exact lower-case name wins over another spelling of it
                if tables[key] == nil || name == key {
                    tables[key] = PostgresTables.quoted(s) + "." + PostgresTables.quoted(name)
                }
            }
        }
        self.tables = tables
    }

    /// `"schema"."table"` of a table present, nil otherwise.
    func qualified(_ name: String) -> String? { tables[name.lowercased()] }

    /// How messages name a table: schema-qualified, with the server but no password.
    func describe(_ name: String) -> String {
        let s = PostgresTables.vocabularyTables.contains(name.lowercased()) ? vocabularySchema : schema
        return "PostgreSQL \(PostgresTables.redacted(conninfo)) table \(s).\(name.lowercased())"
    }

    func reader(_ qualified: String, name: String) throws(LeaderError) -> CSVReader {
        try CSVReader(postgres: conninfo, copySQL: "COPY (SELECT * FROM \(qualified)) TO STDOUT WITH (FORMAT csv, HEADER true)",
                      name: describe(name))
    }

    static func isPlainIdentifier(_ s: String) -> Bool {
        guard let first = s.utf8.first, s.utf8.count <= 63, !(0x30...0x39).contains(first) else { return false }
        return s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x5F }
    }

    static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacing("\"", with: "\"\"") + "\""
    }

    /// The URI with any password replaced by `***` (in `user:password@` and in a `password=` parameter).
    public static func redacted(_ uri: String) -> String {
        var s = uri
        if let scheme = s.range(of: "://") {
            let rest = s[scheme.upperBound...]
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
            if let at = rest[..<authorityEnd].lastIndex(of: "@"),
               let colon = rest[..<at].firstIndex(of: ":") {
                s.replaceSubrange(rest.index(after: colon)..<at, with: "***")
            }
        }
        var out = ""
        var rest = Substring(s)
        while let r = rest.range(of: "password=") {
            out += rest[..<r.upperBound] + "***"
            rest = rest[r.upperBound...]
            rest = rest[(rest.firstIndex { $0 == "&" || $0 == " " } ?? rest.endIndex)...]
        }
        return out + rest
    }
}

/// MIMIC drug → WHO ATC level 3 (4 characters). Order: NDC → ATC3 (`ndc2atc3.csv`), then the GAMENet pair
/// NDC → RxCUI (`ndc2rxcui.csv` or `ndc2rxnorm_mapping.txt`) + RxCUI → ATC4 (`RXCUI2atc4.csv`, when given),
/// then drug name → ATC (`mimic_drug_to_atc.csv.gz`, exact name, case-insensitive, truncated to 4 characters).
/// ATC3 titles come from the WHO ATC-DDD file (names of 4-character codes, lower-cased, as LEADER does).
public struct MedicationMap: Sendable {
    var ndcToATC3: [String: String] = [:]
    var ndcToRxcui: [String: String] = [:]
    var rxcuiToATC3: [String: String] = [:]
    var nameToATC3: [String: String] = [:]
    /// ATC3 code → lower-cased WHO name.
    public var atc3Titles: [String: String] = [:]
    /// File names used, for the report.
    public var sources: [String] = []

    public init() {}

    /// Whether any code route (NDC) is available.
    public var hasCodeRoute: Bool { !ndcToATC3.isEmpty || (!ndcToRxcui.isEmpty && !rxcuiToATC3.isEmpty) }

    /// Loads the standard file names found in `dir` (any that exist). Throws when none maps anything.
    public static func load(directory dir: String) throws(LeaderError) -> MedicationMap {
        guard CohortFiles.isDirectory(dir) else { throw .io("\(dir): medication map folder not found") }
        var m = MedicationMap()
        var sources: [String] = []
        var ndcATC: [String: String] = [:], ndcRx: [String: String] = [:], rxATC: [String: String] = [:]
        var nameATC: [String: String] = [:], titles: [String: String] = [:]
        if let p = CohortFiles.find(dir, "ndc2atc3") {
            try loadPairs(p, &sources, keyColumns: ["ndc"], valueColumns: ["atc3", "atc"]) { ndc, atc in
                if let k = normalizeNDC(ndc), atc.utf8.count >= 4, ndcATC[k] == nil { ndcATC[k] = String(atc.prefix(4)) }
            }
        }
        if let p = CohortFiles.find(dir, "RXCUI2atc4") {
            try loadPairs(p, &sources, keyColumns: ["rxcui"], valueColumns: ["atc4", "atc"]) { rx, atc in
                if atc.utf8.count >= 4, rxATC[rx] == nil { rxATC[rx] = String(atc.prefix(4)) }
            }
            if let q = CohortFiles.find(dir, "ndc2rxcui") {
                try loadPairs(q, &sources, keyColumns: ["ndc"], valueColumns: ["rxcui"]) { ndc, rx in
                    if let k = normalizeNDC(ndc), ndcRx[k] == nil { ndcRx[k] = rx }
                }
            } else if CohortFiles.exists(CohortFiles.join(dir, "ndc2rxnorm_mapping.txt")) {
                let p2 = CohortFiles.join(dir, "ndc2rxnorm_mapping.txt")
                for (ndc, rx) in try parsePythonDict(p2) {
                    if let k = normalizeNDC(ndc), ndcRx[k] == nil { ndcRx[k] = rx }
                }
                sources.append("ndc2rxnorm_mapping")
            }
        }
        if let p = CohortFiles.find(dir, "mimic_drug_to_atc") {
            try loadPairs(p, &sources, keyColumns: ["drug"], valueColumns: ["atc_code", "atc"]) { name, atc in
                let k = name.lowercased()
                if atc.utf8.count >= 4, nameATC[k] == nil { nameATC[k] = String(atc.prefix(4)) }
            }
        }
        if let p = CohortFiles.find(dir, "WHO_ATC-DDD_2021-12-03") ?? CohortFiles.find(dir, "WHO ATC-DDD 2021-12-03") {
            try loadPairs(p, &sources, keyColumns: ["atc_code"], valueColumns: ["atc_name"]) { code, name in
                if code.utf8.count == 4 { titles[code] = name.lowercased() }
            }
        }
        m.ndcToATC3 = ndcATC
        m.ndcToRxcui = ndcRx
        m.rxcuiToATC3 = rxATC
        m.nameToATC3 = nameATC
        m.atc3Titles = titles
        m.sources = sources
        guard m.hasCodeRoute || !m.nameToATC3.isEmpty else {
            throw .io("\(dir): no medication map found (expected ndc2atc3.csv, RXCUI2atc4.csv + ndc2rxcui.csv, "
                + "or mimic_drug_to_atc.csv.gz)")
        }
        return m
    }

    private static func loadPairs(_ path: String, _ sources: inout [String], keyColumns: [String], valueColumns: [String],
                                    _ add: (String, String) -> Void) throws(LeaderError) {
        let r = try CSVReader(path: path)
        let k = try r.column(anyOf: keyColumns), v = try r.column(anyOf: valueColumns)
        try r.forEachRow { (row: CSVRow) throws(LeaderError) in
            let key = row.trimmed(k), value = row.trimmed(v)
            if !key.isEmpty, !value.isEmpty { add(key, value) }
        }
        sources.append(CohortFiles.tableName(path))
    }

    /// Parses `{'00338500341': u'1665046', …}` (the GAMENet file, read there with `eval`) without evaluating it.
    static func parsePythonDict(_ path: String) throws(LeaderError) -> [(String, String)] {
        let r = try CSVReader(path: path)   // one-line file: the header record holds everything
        var text = r.header.joined(separator: ",")
        try r.forEachRow { (row: CSVRow) throws(LeaderError) in
            for i in 0..<row.count { text += "," + row.string(i) }
        }
        var strings: [String] = []
        var cur: [UInt8] = []
        var inQuote: UInt8? = nil
        for c in text.utf8 {
            if let q = inQuote {
                if c == q {
                    strings.append(String(decoding: cur, as: UTF8.self))
                    cur.removeAll(keepingCapacity: true)
                    inQuote = nil
                } else {
                    cur.append(c)
                }
            } else if c == 0x27 || c == 0x22 {
                inQuote = c
            }
        }
        guard inQuote == nil, strings.count % 2 == 0 else {
            throw .badFile("\(path): not a dictionary of quoted strings")
        }
        return stride(from: 0, to: strings.count, by: 2).map { (strings[$0], strings[$0 + 1]) }
    }

    /// MIMIC NDC normalised to 11 digits; nil for empty, `0` or non-digit values.
    static func normalizeNDC(_ s: String) -> String? {
        var t = Substring(s)
        if t.hasSuffix(".0") { t = t.dropLast(2) }
        guard !t.isEmpty, t.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), t.utf8.contains(where: { $0 != 0x30 })
        else { return nil }
        if t.utf8.count >= 11 { return String(t) }
        return String(repeating: "0", count: 11 - t.utf8.count) + t
    }

    /// How a prescription row was mapped.
    public enum Route { case code, name, none }

    /// The ATC3 code of a prescription row (`ndc` may be empty or `0`; `drug` is the drug name).
    public func map(ndc: String, drug: String) -> (String?, Route) {
        if let k = MedicationMap.normalizeNDC(ndc) {
            if let a = ndcToATC3[k] { return (a, .code) }
            if let rx = ndcToRxcui[k], let a = rxcuiToATC3[rx] { return (a, .code) }
        }
        if !drug.isEmpty, let a = nameToATC3[drug.lowercased()] { return (a, .name) }
        return (nil, .none)
    }
}

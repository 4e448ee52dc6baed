/// MIMIC drug → WHO ATC level 3 (4 characters). Order: NDC → ATC3 (`ndc2atc3.csv`), then the GAMENet pair
/// NDC → RxCUI (`ndc2rxcui.csv` or `ndc2rxnorm_mapping.txt`) + RxCUI → ATC4 (`RXCUI2atc4.csv`, when given),
/// then GSN → ATC (`gsn_atc_ndc_mapping.csv.gz`; MIMIC's `gsn`, several space-separated values allowed: the
/// first that maps), then drug name → ATC (`mimic_drug_to_atc.csv.gz`, or `drug_to_atc.csv` as the synthetic
/// cohort writes it; exact name, case-insensitive); ATC codes are truncated to 4 characters.
/// ATC3 titles come from the WHO ATC-DDD file when the folder has it (names of 4-character codes, lower-cased, as
/// LEADER does), else from the project's own catalogue of ATC3 classes (`ATC3Names`).
public struct MedicationMap: Sendable {
    var ndcToATC3: [String: String] = [:]
    var ndcToRxcui: [String: String] = [:]
    var rxcuiToATC3: [String: String] = [:]
    var gsnToATC3: [String: String] = [:]
    var nameToATC3: [String: String] = [:]
    /// ATC3 code → lower-cased WHO name.
    public var atc3Titles: [String: String] = [:]
    /// File names used, for the report.
    public var sources: [String] = []

    public init() {}

    /// Whether any code route (NDC) is available.
    public var hasCodeRoute: Bool {
        !ndcToATC3.isEmpty || (!ndcToRxcui.isEmpty && !rxcuiToATC3.isEmpty) || !gsnToATC3.isEmpty
    }

    /// Whether GSN → ATC is available.
    public var hasGSNRoute: Bool { !gsnToATC3.isEmpty }

    /// Loads the standard file names found in `dir` (any that exist). Throws when none maps anything.
    public static func load(directory dir: String) throws(LeaderError) -> MedicationMap {
        guard CohortFiles.isDirectory(dir) else { throw .io("\(dir): medication map folder not found") }
        var m = MedicationMap()
        var sources: [String] = []
        var ndcATC: [String: String] = [:], ndcRx: [String: String] = [:], rxATC: [String: String] = [:]
        var gsnATC: [String: String] = [:], nameATC: [String: String] = [:], titles: [String: String] = [:]
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
        if let p = CohortFiles.find(dir, "gsn_atc_ndc_mapping") {
            try loadPairs(p, &sources, keyColumns: ["gsn"], valueColumns: ["atc"]) { gsn, atc in
                if let k = normalizeGSN(Substring(gsn)), atc.utf8.count >= 4, gsnATC[k] == nil {
                    gsnATC[k] = String(atc.prefix(4))
                }
            }
        }
        if let p = CohortFiles.find(dir, "mimic_drug_to_atc") ?? CohortFiles.find(dir, "drug_to_atc") {
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
        m.gsnToATC3 = gsnATC
        m.nameToATC3 = nameATC
        for (code, name) in ATC3Names.all where titles[code] == nil { titles[code] = name }
        m.atc3Titles = titles
        m.sources = sources
        guard m.hasCodeRoute || !m.nameToATC3.isEmpty else {
            throw .io("\(dir): no medication map found (expected ndc2atc3.csv, RXCUI2atc4.csv + ndc2rxcui.csv, "
                + "gsn_atc_ndc_mapping.csv.gz, mimic_drug_to_atc.csv.gz or drug_to_atc.csv)")
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

    /// Parses `{'00338500341': u'1665046', …}` (the GAMENet file, read there with `eval`) without evaluating it:
    /// keys and values are quoted strings (optional `u` prefix) or bare tokens such as numbers.
    static func parsePythonDict(_ path: String) throws(LeaderError) -> [(String, String)] {
        let b = try FileBytes.read(path)
        var tokens: [String] = []
        var i = 0
        while i < b.count {
            let c = b[i]
            if c == 0x75 || c == 0x62, i + 1 < b.count, b[i + 1] == 0x27 || b[i + 1] == 0x22 {   // u'…' b'…'
                i += 1
                continue
            }
            switch c {
            case 0x7B, 0x7D, 0x2C, 0x3A, 0x20, 0x09, 0x0A, 0x0D:   // { } , : whitespace
                i += 1
            case 0x27, 0x22:   // ' or "
                var j = i + 1
                while j < b.count, b[j] != c { j += 1 }
                guard j < b.count else { throw .badFile("\(path): unterminated string at byte \(i)") }
                tokens.append(String(decoding: b[(i + 1)..<j], as: UTF8.self))
                i = j + 1
            default:
                var j = i
                while j < b.count, ![0x7B, 0x7D, 0x2C, 0x3A, 0x20, 0x09, 0x0A, 0x0D].contains(b[j]) { j += 1 }
                tokens.append(String(decoding: b[i..<j], as: UTF8.self))
                i = j
            }
        }
        guard tokens.count % 2 == 0 else { throw .badFile("\(path): not a dictionary of key: value pairs") }
        return stride(from: 0, to: tokens.count, by: 2).map { (tokens[$0], tokens[$0 + 1]) }
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

    /// A GSN (Generic Sequence Number) normalised to 6 digits; nil for empty, all-zero or non-digit values.
    static func normalizeGSN(_ s: Substring) -> String? {
        guard !s.isEmpty, s.utf8.count <= 6, s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              s.utf8.contains(where: { $0 != 0x30 })
        else { return nil }
        return String(repeating: "0", count: 6 - s.utf8.count) + s
    }

    /// How a prescription row was mapped.
    public enum Route: String { case ndc, gsn, name, unmapped }

    /// The ATC3 code of a prescription row (`ndc` may be empty or `0`; `gsn` empty or space-separated GSNs;
    /// `drug` is the drug name).
    public func map(ndc: String, gsn: String = "", drug: String) -> (String?, Route) {
        if let k = MedicationMap.normalizeNDC(ndc) {
            if let a = ndcToATC3[k] { return (a, .ndc) }
            if let rx = ndcToRxcui[k], let a = rxcuiToATC3[rx] { return (a, .ndc) }
        }
        if !gsnToATC3.isEmpty {
            for token in gsn.split(separator: " ") {
                if let k = MedicationMap.normalizeGSN(token), let a = gsnToATC3[k] { return (a, .gsn) }
            }
        }
        if !drug.isEmpty, let a = nameToATC3[drug.lowercased()] { return (a, .name) }
        return (nil, .unmapped)
    }
}

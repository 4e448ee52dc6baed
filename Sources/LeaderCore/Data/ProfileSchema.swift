/// A categorical profile field, label-encoded: value 0 is `unknown` (missing, empty, or unseen at encode time),
/// then the observed values in ascending byte order (deterministic, independent of row order).
public struct ProfileField: Codable, Equatable, Sendable {
    public var name: String
    /// `values[0] == "unknown"`.
    public var values: [String]

    public init(name: String, values: [String]) {
        self.name = name
        self.values = values
    }

    /// The label of `value`, 0 when unseen or empty.
    public func encode(_ value: String) -> Int32 {
        guard !value.isEmpty else { return 0 }
        var lo = 1, hi = values.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if values[mid] < value { lo = mid + 1 } else { hi = mid }
        }
        return lo < values.count && values[lo] == value ? Int32(lo) : 0
    }

    public var cardinality: Int { values.count }
}

/// The profile fields of a cohort, in order.
public struct ProfileSchema: Codable, Equatable, Sendable {
    public var fields: [ProfileField]
    public init(fields: [ProfileField]) { self.fields = fields }
    public static let unknown = "unknown"
}

/// Age buckets used for the `age` profile field.
public enum AgeBucket {
    /// `"0-17"`, `"18-29"`, `"30-39"`, … `"80-89"`, `"90+"`; empty for a negative or absent age.
    public static func label(years: Int?) -> String {
        guard let y = years, y >= 0 else { return "" }
        if y < 18 { return "0-17" }
        if y < 30 { return "18-29" }
        if y >= 90 { return "90+" }
        let lo = y / 10 * 10
        return "\(lo)-\(lo + 9)"
    }
}

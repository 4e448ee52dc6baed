/// Configs are JSON that must reject unknown keys (a misspelt option must not be silently ignored), which
/// `Codable` alone does not do. A config's `init(from:)` either calls `StrictKeys.check` with its
/// `CodingKeys` before decoding as usual, or decodes from `StrictKeys.container` with a list of key names.
public enum StrictKeys {
    /// Throws `.invalidArgument("<what>: unknown key 'k' (known: ...)")` for the first (alphabetically) key
    /// of the object being decoded that is not a case of `keys`.
    public static func check<K: CodingKey & CaseIterable>(_ decoder: any Decoder, _ keys: K.Type,
                                                          _ what: String) throws {
        _ = try container(decoder, K.allCases.map(\.stringValue), what)
    }

    /// The object's container, after checking that every key is in `allowed`.
    public static func container(_ decoder: any Decoder, _ allowed: [String], _ what: String) throws
        -> KeyedDecodingContainer<StrictKey>
    {
        let c = try decoder.container(keyedBy: StrictKey.self)
        if let bad = c.allKeys.map(\.stringValue).filter({ !allowed.contains($0) }).sorted().first {
            throw LeaderError.invalidArgument("\(what): unknown key '\(bad)' (known: \(allowed.joined(separator: ", ")))")
        }
        return c
    }
}

/// A coding key for any string, used with `StrictKeys.container`.
public struct StrictKey: CodingKey {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(_ s: String) { stringValue = s }
    public init(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}

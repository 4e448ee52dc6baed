/// Configs are JSON that must reject unknown keys (a misspelt option must not be silently ignored), which
/// `Codable` alone does not do. A config's `init(from:)` calls `StrictKeys.check` with its `CodingKeys`
/// first, then decodes as usual.
public enum StrictKeys {
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Throws `.invalidArgument("<what>: unknown key 'k'")` for the first (alphabetically) key of the object
    /// being decoded that is not a case of `keys`.
    public static func check<K: CodingKey & CaseIterable>(_ decoder: any Decoder, _ keys: K.Type,
                                                          _ what: String) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        let known = Set(K.allCases.map(\.stringValue))
        if let bad = container.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
            throw LeaderError.invalidArgument("\(what): unknown key '\(bad)'")
        }
    }
}

import FoundationEssentials

/// Decoding a config from JSON text with typed errors: the type's own `init(from:)` rejects unknown keys
/// (`StrictKeys`); wrong types and malformed JSON become `.invalidArgument("<what>: ...")` naming the key path.
enum StrictJSON {
    static func decode<T: Decodable>(_ type: T.Type, _ json: String, _ what: String,
                                     userInfo: [CodingUserInfoKey: any Sendable] = [:]) throws(LeaderError) -> T {
        let decoder = JSONDecoder()
        decoder.userInfo = userInfo
        do {
            return try decoder.decode(T.self, from: Data(json.utf8))
        } catch let e as LeaderError {
            throw e
        } catch {
            throw .invalidArgument("\(what): \(describe(error))")
        }
    }

    /// A decoding error in words: what went wrong and at which key path, never the values.
    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "wrong type at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
        case DecodingError.dataCorrupted(let c):
            return "invalid JSON\(c.codingPath.isEmpty ? "" : " at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'")"
        case DecodingError.keyNotFound(let k, _): return "missing key '\(k.stringValue)'"
        default: return "invalid JSON"
        }
    }
}

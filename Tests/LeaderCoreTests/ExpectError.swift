import Testing
@testable import LeaderCore

/// Expects `body` to throw a `LeaderError` of exactly `kind` whose message contains `message` (the whole message
/// where it is fixed; the part after a temporary path where it names one). Returns the error, or nil with an issue
/// recorded: no error, another error type, another kind, or another message.
@discardableResult
func expectError<R>(_ kind: LeaderError.Kind, _ message: String, sourceLocation: SourceLocation = #_sourceLocation,
                    _ body: () throws -> R) -> LeaderError? {
    guard !message.isEmpty else {   // (String.contains("") is false: say what the message must hold)
        Issue.record("expectError needs the expected message", sourceLocation: sourceLocation)
        return nil
    }
    do {
        _ = try body()
        Issue.record("expected a \(kind) error (\"\(message)\"), got none", sourceLocation: sourceLocation)
    } catch let e as LeaderError {
        if e.kind != kind {
            Issue.record("expected a \(kind) error, got \(e.kind): \(e.message)", sourceLocation: sourceLocation)
        } else if !e.message.contains(message) {
            Issue.record("\(kind) error: message \"\(e.message)\" lacks \"\(message)\"", sourceLocation: sourceLocation)
        } else {
            return e
        }
    } catch {
        Issue.record("expected a LeaderError \(kind), got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

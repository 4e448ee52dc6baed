/// Every error the library reports. Each case maps to one status code of `include/leader.h` (the mapping
/// lives at the ABI, `Sources/Leader/Status.swift`); messages name the file, field and value involved, never
/// patient data.
public enum LeaderError: Error, Equatable, CustomStringConvertible {
    case invalidArgument(String)
    case io(String)
    case badFile(String)
    case incompatible(String)
    case outOfMemory(String)
    case bufferTooSmall(needed: Int, String)
    case cancelled(String)
    case overflow(String)
    case internalError(String)

    /// The case without its message, for comparisons that ignore the text.
    public enum Kind: Sendable { case invalidArgument, io, badFile, incompatible, outOfMemory, bufferTooSmall, cancelled,
                                     overflow, internalError }

    public var kind: Kind {
        switch self {
        case .invalidArgument: return .invalidArgument
        case .io: return .io
        case .badFile: return .badFile
        case .incompatible: return .incompatible
        case .outOfMemory: return .outOfMemory
        case .bufferTooSmall: return .bufferTooSmall
        case .cancelled: return .cancelled
        case .overflow: return .overflow
        case .internalError: return .internalError
        }
    }

    public var message: String {
        switch self {
        case .invalidArgument(let m), .io(let m), .badFile(let m), .incompatible(let m), .outOfMemory(let m),
             .cancelled(let m), .overflow(let m), .internalError(let m):
            return m
        case .bufferTooSmall(let needed, let m):
            return "\(m) (needed \(needed))"
        }
    }

    public var description: String { message }
}

/// Checked size arithmetic for values that come from callers or files.
public enum Checked {
    /// `a * b` for non-negative sizes, or `.overflow` naming `what`.
    public static func product(_ a: Int, _ b: Int, _ what: @autoclosure () -> String) throws(LeaderError) -> Int {
        guard a >= 0, b >= 0 else { throw .invalidArgument("\(what()): negative size (\(a) x \(b))") }
        let (p, o) = a.multipliedReportingOverflow(by: b)
        guard !o else { throw .overflow("\(what()): \(a) x \(b) overflows") }
        return p
    }

    /// `a + b` for non-negative sizes, or `.overflow` naming `what`.
    public static func sum(_ a: Int, _ b: Int, _ what: @autoclosure () -> String) throws(LeaderError) -> Int {
        guard a >= 0, b >= 0 else { throw .invalidArgument("\(what()): negative size (\(a) + \(b))") }
        let (s, o) = a.addingReportingOverflow(b)
        guard !o else { throw .overflow("\(what()): \(a) + \(b) overflows") }
        return s
    }
}

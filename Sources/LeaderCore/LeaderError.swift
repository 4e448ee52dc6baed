/// Every error the library reports. Each case maps to one status code of `include/leader.h`; messages
/// name the file, field and value involved, never patient data.
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

    /// The `LEADER_ERR_*` number of this error.
    public var status: Int32 {
        switch self {
        case .invalidArgument: return 1
        case .io: return 2
        case .badFile: return 3
        case .incompatible: return 4
        case .outOfMemory: return 5
        case .bufferTooSmall: return 6
        case .cancelled: return 7
        case .overflow: return 8
        case .internalError: return 100
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

import CLeader
import LeaderCore

/// The one place where `LeaderError` meets the header's status numbers: the `LEADER_ERR_*` constants of
/// `include/leader.h` (imported through CLeader), never literal numbers.
extension LeaderError {
    var abiStatus: leader_status {
        switch self {
        case .invalidArgument: return leader_status(LEADER_ERR_INVALID_ARGUMENT)
        case .io: return leader_status(LEADER_ERR_IO)
        case .badFile: return leader_status(LEADER_ERR_BAD_FILE)
        case .incompatible: return leader_status(LEADER_ERR_INCOMPATIBLE)
        case .outOfMemory: return leader_status(LEADER_ERR_OUT_OF_MEMORY)
        case .bufferTooSmall: return leader_status(LEADER_ERR_BUFFER_TOO_SMALL)
        case .cancelled: return leader_status(LEADER_ERR_CANCELLED)
        case .overflow: return leader_status(LEADER_ERR_OVERFLOW)
        case .internalError: return leader_status(LEADER_ERR_INTERNAL)
        }
    }
}

@c @implementation
public func leader_status_string(_ status: Int32) -> UnsafePointer<CChar>? {
    let s: StaticString
    switch Int(status) {
    case Int(LEADER_OK): s = "ok"
    case Int(LEADER_ERR_INVALID_ARGUMENT): s = "invalid argument"
    case Int(LEADER_ERR_IO): s = "i/o error"
    case Int(LEADER_ERR_BAD_FILE): s = "malformed file"
    case Int(LEADER_ERR_INCOMPATIBLE): s = "incompatible version or kind"
    case Int(LEADER_ERR_OUT_OF_MEMORY): s = "out of memory"
    case Int(LEADER_ERR_BUFFER_TOO_SMALL): s = "buffer too small"
    case Int(LEADER_ERR_CANCELLED): s = "cancelled"
    case Int(LEADER_ERR_OVERFLOW): s = "size overflow"
    case Int(LEADER_ERR_INTERNAL): s = "internal error"
    default: s = "unknown status"
    }
    return UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

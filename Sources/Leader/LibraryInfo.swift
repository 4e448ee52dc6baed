import CLeader
import LeaderCore

@c @implementation
public func leader_abi_version() -> Int32 { LeaderVersion.abi }

@c @implementation
public func leader_version_string() -> UnsafePointer<CChar>? {
    UnsafeRawPointer(LeaderVersion.string.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// Built once, never freed: static storage as the header promises.
nonisolated(unsafe) private let buildInfo: UnsafeMutablePointer<CChar> = {
    let json = "{\"version\":\"\(LeaderVersion.string)\",\"abi\":\(LeaderVersion.abi),"
        + "\"isa\":\"\(Threads.isaName)\",\"openmp\":true,\"cpus\":\(Threads.online)}"
    let bytes = Array(json.utf8CString)
    let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count)
    p.initialize(from: bytes, count: bytes.count)
    return p
}()

@c @implementation
public func leader_build_info() -> UnsafePointer<CChar>? { UnsafePointer(buildInfo) }

@c @implementation
public func leader_status_string(_ status: Int32) -> UnsafePointer<CChar>? {
    let s: StaticString
    switch status {
    case 0: s = "ok"
    case 1: s = "invalid argument"
    case 2: s = "i/o error"
    case 3: s = "malformed file"
    case 4: s = "incompatible version or kind"
    case 5: s = "out of memory"
    case 6: s = "buffer too small"
    case 7: s = "cancelled"
    case 8: s = "size overflow"
    case 100: s = "internal error"
    default: s = "unknown status"
    }
    return UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

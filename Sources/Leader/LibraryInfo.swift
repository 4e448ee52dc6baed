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
        + "\"isa\":\"\(Threads.isaName)\",\"openmp\":true,\"cpus\":\(Threads.online),"
        + "\"bf16\":\"\(QuantPrecision.bf16Path)\"}"
    let bytes = Array(json.utf8CString)
    let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count)
    p.initialize(from: bytes, count: bytes.count)
    return p
}()

@c @implementation
public func leader_build_info() -> UnsafePointer<CChar>? { UnsafePointer(buildInfo) }

@c @implementation
public func leader_set_openmp_blocktime(_ milliseconds: Int32) -> Int32 {
    boundary { () throws(LeaderError) in
        guard (-1...60_000).contains(milliseconds) else {
            throw .invalidArgument("leader_set_openmp_blocktime: \(milliseconds) ms (expected -1...60000)")
        }
        leader_internal_set_blocktime(milliseconds)
    }
}

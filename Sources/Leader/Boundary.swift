import CLeader
import LeaderCore

/// Runs the body of an exported function: maps thrown errors to status codes and stores the message in
/// this thread's last-error buffer; clears it on success. Applies the library's OpenMP blocktime setting to
/// the calling thread first (a no-op unless `leader_set_openmp_blocktime` changed it).
@inline(__always)
func boundary(_ body: () throws(LeaderError) -> Void) -> Int32 {
    leader_internal_apply_blocktime()
    do {
        try body()
        leader_internal_set_error(nil)
        return leader_status(LEADER_OK)
    } catch {
        leader_internal_set_error(error.message)
        return error.abiStatus
    }
}

/// A non-NULL pointer or an invalid-argument error naming the parameter.
@inline(__always)
func required<T>(_ p: T?, _ name: String, _ function: String) throws(LeaderError) -> T {
    guard let p else { throw .invalidArgument("\(function): \(name) is NULL") }
    return p
}

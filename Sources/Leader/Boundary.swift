import CLeader
import LeaderCore

/// Runs the body of an exported function: maps thrown errors to status codes and stores the message in
/// this thread's last-error buffer; clears it on success.
@inline(__always)
func boundary(_ body: () throws(LeaderError) -> Void) -> Int32 {
    do {
        try body()
        leader_internal_set_error(nil)
        return 0
    } catch {
        leader_internal_set_error(error.message)
        return error.status
    }
}

/// A non-NULL pointer or an invalid-argument error naming the parameter.
@inline(__always)
func required<T>(_ p: T?, _ name: String, _ function: String) throws(LeaderError) -> T {
    guard let p else { throw .invalidArgument("\(function): \(name) is NULL") }
    return p
}

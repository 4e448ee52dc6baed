#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The text of a C library error number, for messages (`No such file or directory`): the one place errno becomes
/// words. Read `errno` right after the failing call and pass it here.
enum SystemError {
    static func text(_ code: Int32) -> String {
        guard let s = strerror(code) else { return "errno \(code)" }
        return String(cString: s)
    }
}

import CLeader
import LeaderCore

/// What a `leader_model *` points at: the serving model plus the C strings the header lends out (info JSON,
/// codes and titles), made once at load and freed with the last reference. Sessions hold a strong reference,
/// so `leader_model_free` and `leader_session_free` may come in any order.
final class ModelHandle {
    let model: ServingModel
    let info: CStrings
    /// Per kind (diagnosis, procedure, medication): codes, then titles.
    let codes: [CStrings], titles: [CStrings]

    init(_ model: ServingModel) throws(LeaderError) {
        self.model = model
        info = try CStrings([model.info])
        let lists = (0..<3).compactMap { model.vocabulary($0) }   // LEADER_KIND_* order
        codes = try lists.map { (l) throws(LeaderError) in try CStrings(l.keys) }
        titles = try lists.map { (l) throws(LeaderError) in try CStrings(l.titles) }
    }

    static func from(_ p: OpaquePointer?, _ function: String) throws(LeaderError) -> ModelHandle {
        guard let p else { throw .invalidArgument("\(function): model is NULL") }
        return Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
    }
}

/// What a `leader_session *` points at.
final class SessionHandle {
    let handle: ModelHandle   // keeps the model (and its lent strings) alive
    let session: ServingSession
    init(_ handle: ModelHandle, _ session: ServingSession) { self.handle = handle; self.session = session }

    static func from(_ p: OpaquePointer?, _ function: String) throws(LeaderError) -> SessionHandle {
        guard let p else { throw .invalidArgument("\(function): session is NULL") }
        return Unmanaged<SessionHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
    }
}

/// NUL-terminated copies of strings in one allocation, lent to C callers until this object is freed.
final class CStrings {
    private let storage: UnsafeMutablePointer<CChar>
    private let starts: [Int]

    init(_ strings: [String]) throws(LeaderError) {
        var total = 0
        var starts: [Int] = []
        starts.reserveCapacity(strings.count)
        for s in strings {
            starts.append(total)
            total = try Checked.sum(total, s.utf8.count + 1, "C strings")
        }
        storage = UnsafeMutablePointer<CChar>.allocate(capacity: max(total, 1))
        for (s, start) in zip(strings, starts) {
            var i = start
            for b in s.utf8 {
                storage[i] = CChar(bitPattern: b == 0 ? 0x3F : b)   // an embedded NUL would cut the string: '?'
                i += 1
            }
            storage[i] = 0
        }
        self.starts = starts
    }

    deinit { storage.deallocate() }

    var count: Int { starts.count }
    subscript(i: Int) -> UnsafePointer<CChar> { UnsafePointer(storage + starts[i]) }
}

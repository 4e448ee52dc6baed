import CLeader
import LeaderCore

/// Reading the header's patient arrays (CSR over visits) with every pointer and offset checked: offsets start
/// at 0 and never decrease, every array that holds entries is non-NULL, so is every string in it. Messages name
/// the argument and index, never a code.
struct PatientInput {
    let function: String
    /// The most codes one visit's set (or visits one patient, or profile pairs one patient) may hold.
    static let maxEntry: Int64 = 1_000_000

    /// offsets[0...n] as checked above; nil pointer allowed only when `optional` (then: no entries).
    func offsets(_ p: UnsafePointer<Int64>?, _ n: Int, _ name: String, optional: Bool = false) throws(LeaderError)
        -> UnsafeBufferPointer<Int64>?
    {
        guard let p else {
            if optional { return nil }
            throw .invalidArgument("\(function): \(name) is NULL")
        }
        let b = UnsafeBufferPointer(start: p, count: n + 1)
        guard b[0] == 0 else { throw .invalidArgument("\(function): \(name)[0] is \(b[0]), expected 0") }
        for i in 0..<n {
            guard b[i + 1] >= b[i] else {
                throw .invalidArgument("\(function): \(name)[\(i + 1)] = \(b[i + 1]) < \(name)[\(i)] = \(b[i])")
            }
            // a bound on what one entry may span, so that no size from the caller reaches an allocation unchecked
            guard b[i + 1] - b[i] <= Self.maxEntry else {
                throw .invalidArgument("\(function): \(name)[\(i + 1)] - \(name)[\(i)] = \(b[i + 1] - b[i]) exceeds \(Self.maxEntry)")
            }
        }
        return b
    }

    /// The string sets of visits `visits` (indexes into `offsets`); empty sets when `offsets` is nil.
    func strings(_ offsets: UnsafeBufferPointer<Int64>?, _ values: UnsafePointer<UnsafePointer<CChar>?>?,
                 _ visits: Range<Int>, _ name: String) throws(LeaderError) -> [[String]] {
        guard let offsets else { return [] }
        var out: [[String]] = []
        out.reserveCapacity(visits.count)
        for v in visits {
            let a = Int(offsets[v]), b = Int(offsets[v + 1])
            guard a < b else { out.append([]); continue }
            guard let values else { throw .invalidArgument("\(function): \(name) is NULL but its offsets hold entries") }
            var set: [String] = []
            set.reserveCapacity(b - a)
            for i in a..<b {
                guard let s = values[i] else { throw .invalidArgument("\(function): \(name)[\(i)] is NULL") }
                set.append(String(cString: s))
            }
            out.append(set)
        }
        return out
    }

    /// The id sets of visits `visits`.
    func ids(_ offsets: UnsafeBufferPointer<Int64>?, _ values: UnsafePointer<Int32>?, _ visits: Range<Int>,
             _ name: String) throws(LeaderError) -> [[Int32]] {
        guard let offsets else { return [] }
        var out: [[Int32]] = []
        out.reserveCapacity(visits.count)
        for v in visits {
            let a = Int(offsets[v]), b = Int(offsets[v + 1])
            guard a < b else { out.append([]); continue }
            guard let values else { throw .invalidArgument("\(function): \(name) is NULL but its offsets hold entries") }
            out.append(Array(UnsafeBufferPointer(start: values + a, count: b - a)))
        }
        return out
    }

    /// Profile pairs `pairs` of the key/value arrays.
    func profile(_ keys: UnsafePointer<UnsafePointer<CChar>?>?, _ values: UnsafePointer<UnsafePointer<CChar>?>?,
                 _ pairs: Range<Int>) throws(LeaderError) -> [PatientCodes.ProfilePair] {
        guard !pairs.isEmpty else { return [] }
        guard let keys, let values else { throw .invalidArgument("\(function): profile_keys or profile_values is NULL") }
        var out: [PatientCodes.ProfilePair] = []
        out.reserveCapacity(pairs.count)
        for i in pairs {
            guard let k = keys[i], let v = values[i] else {
                throw .invalidArgument("\(function): profile pair \(i) has a NULL key or value")
            }
            out.append(.init(String(cString: k), String(cString: v)))
        }
        return out
    }

    /// One patient of `n_visits` visits from the string arrays.
    func patient(_ nVisits: Int32, _ dOff: UnsafePointer<Int64>?, _ d: UnsafePointer<UnsafePointer<CChar>?>?,
                 _ pOff: UnsafePointer<Int64>?, _ p: UnsafePointer<UnsafePointer<CChar>?>?,
                 _ mOff: UnsafePointer<Int64>?, _ m: UnsafePointer<UnsafePointer<CChar>?>?,
                 _ nProfile: Int32, _ keys: UnsafePointer<UnsafePointer<CChar>?>?,
                 _ values: UnsafePointer<UnsafePointer<CChar>?>?) throws(LeaderError) -> PatientCodes {
        guard nVisits >= 1 else { throw .invalidArgument("\(function): n_visits \(nVisits) < 1") }
        guard nProfile >= 0 else { throw .invalidArgument("\(function): n_profile \(nProfile) < 0") }
        let n = Int(nVisits), visits = 0..<n
        let dOffsets = try offsets(dOff, n, "diagnosis_offsets"), pOffsets = try offsets(pOff, n, "procedure_offsets")
        let mOffsets = try offsets(mOff, n, "medication_offsets", optional: true)
        return PatientCodes(diagnoses: try strings(dOffsets, d, visits, "diagnoses"),
                            procedures: try strings(pOffsets, p, visits, "procedures"),
                            medications: try strings(mOffsets, m, visits, "medications"),
                            profile: try profile(keys, values, 0..<Int(nProfile)))
    }

    /// The visit ranges of a batch's patients and its three visit-level offset arrays, checked.
    func batch(_ nPatients: Int64, _ visitOffsets: UnsafePointer<Int64>?, _ d: UnsafePointer<Int64>?,
               _ p: UnsafePointer<Int64>?, _ m: UnsafePointer<Int64>?) throws(LeaderError)
        -> (ranges: [Range<Int>], d: UnsafeBufferPointer<Int64>?, p: UnsafeBufferPointer<Int64>?,
            m: UnsafeBufferPointer<Int64>?)
    {
        let (ranges, visits) = try visitRanges(nPatients, visitOffsets)
        return (ranges, try offsets(d, visits, "diagnosis_offsets"), try offsets(p, visits, "procedure_offsets"),
                try offsets(m, visits, "medication_offsets", optional: true))
    }

    /// Patient p's visit range from `visit_offsets` (checked, n_patients + 1 entries).
    func visitRanges(_ nPatients: Int64, _ p: UnsafePointer<Int64>?) throws(LeaderError)
        -> (ranges: [Range<Int>], visits: Int)
    {
        guard nPatients >= 0, nPatients <= 100_000_000 else {
            throw .invalidArgument("\(function): n_patients \(nPatients) out of range")
        }
        guard let o = try offsets(p, Int(nPatients), "visit_offsets") else { return ([], 0) }
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(Int(nPatients))
        for i in 0..<Int(nPatients) {
            guard o[i + 1] > o[i] else { throw .invalidArgument("\(function): patient \(i) has no visit") }
            ranges.append(Int(o[i])..<Int(o[i + 1]))
        }
        return (ranges, Int(o[Int(nPatients)]))
    }
}

/// Writes `count` results into caller buffers of `capacity`: sets *out_n (required), throws bufferTooSmall
/// when they do not fit, requires the listed buffers when there is something to write.
func checkCapacity(_ count: Int, _ capacity: Int64, _ outN: UnsafeMutablePointer<Int64>?, _ function: String)
    throws(LeaderError)
{
    guard capacity >= 0 else { throw .invalidArgument("\(function): capacity \(capacity) < 0") }
    guard let outN else { throw .invalidArgument("\(function): out_n is NULL") }
    outN.pointee = Int64(count)
    guard Int64(count) <= capacity else {
        throw .bufferTooSmall(needed: count, "\(function): \(count) results do not fit in capacity \(capacity)")
    }
}

/// One patient as the serving API receives it: per visit, oldest first with the current visit last, the code
/// strings of each kind; the profile as key/value pairs. The current visit's medications are what is
/// predicted: any given there are ignored. `medications` may hold fewer sets than there are visits (the
/// missing ones are empty).
///
/// **Positions** (how unknown codes and explanations name an input without repeating it): the strings are
/// numbered in one sequence, all diagnoses (visit by visit) first, then all procedures, then all medications,
/// then the profile pairs — the numbering of `include/leader.h`.
public struct PatientCodes: Sendable {
    public struct ProfilePair: Sendable {
        public var key: String
        public var value: String
        public init(_ key: String, _ value: String) { self.key = key; self.value = value }
    }
    public var diagnoses: [[String]]
    public var procedures: [[String]]
    public var medications: [[String]]
    public var profile: [ProfilePair]

    public init(diagnoses: [[String]], procedures: [[String]], medications: [[String]], profile: [ProfilePair]) {
        self.diagnoses = diagnoses; self.procedures = procedures; self.medications = medications; self.profile = profile
    }

    public init(diagnoses: [[String]], procedures: [[String]], medications: [[String]],
                profile: [(String, String)]) {
        self.init(diagnoses: diagnoses, procedures: procedures, medications: medications,
                  profile: profile.map { ProfilePair($0.0, $0.1) })
    }

    public var visitCount: Int { diagnoses.count }
}

/// An input the model knows, by position (for explanations): a code of `kind` (0 diagnosis, 1 procedure,
/// 2 medication) in visit `visit` of the encoded example, or (kind 3) profile field `visit` set to `id`.
struct KnownInput {
    var position: Int
    var kind: Int
    var visit: Int
    var id: Int32
}

extension ServingModel {
    /// The engine's example for `p` with the `history` most recent earlier visits. Appends the positions of
    /// unknown codes to `unknown`, and (when given) every known input to `known`. Sets are sorted and
    /// deduplicated, so the result does not depend on the order codes are listed in.
    func example(_ p: PatientCodes, history: Int, unknown: inout [Int], known: UnsafeMutablePointer<[KnownInput]>? = nil)
        throws(LeaderError) -> StudentExample
    {
        let v = p.visitCount
        guard v >= 1 else { throw .invalidArgument("patient: no visit (the current visit is the last one)") }
        guard p.procedures.count == v, p.medications.count <= v else {
            throw .invalidArgument("patient: \(v) diagnosis sets, \(p.procedures.count) procedure sets and "
                + "\(p.medications.count) medication sets (need one diagnosis and one procedure set per visit)")
        }
        let first = HistoryWindow(earlierVisits: history).firstVisit(target: v - 1)
        var position = 0
        func encode(_ sets: [[String]], kind: Int, upTo end: Int) -> [[Int32]] {
            var out: [[Int32]] = []
            out.reserveCapacity(max(0, end - first))
            for (vi, set) in sets.enumerated() {
                guard vi >= first, vi < end else { position += set.count; continue }
                var ids: [Int32] = []
                ids.reserveCapacity(set.count)
                for code in set {
                    if let id = indexes[kind][code] {
                        ids.append(id)
                        known?.pointee.append(KnownInput(position: position, kind: kind, visit: vi - first, id: id))
                    } else {
                        unknown.append(position)
                    }
                    position += 1
                }
                out.append(Self.sortedUnique(ids))
            }
            return out
        }
        let d = encode(p.diagnoses, kind: 0, upTo: v)
        let pr = encode(p.procedures, kind: 1, upTo: v)
        var m = encode(p.medications, kind: 2, upTo: v - 1)
        while m.count < v - 1 - first { m.append([]) }
        let fields = checkpoint.profile.fields
        var labels = [Int32](repeating: 0, count: fields.count)
        for pair in p.profile {
            if let fi = fieldIndex[pair.key] {
                let label = fields[fi].encode(pair.value)
                if label == 0 && !pair.value.isEmpty && pair.value != ProfileSchema.unknown {
                    unknown.append(position)
                } else if label != 0 {
                    known?.pointee.append(KnownInput(position: position, kind: 3, visit: fi, id: label))
                }
                labels[fi] = label
            } else {
                unknown.append(position)
            }
            position += 1
        }
        return StudentExample(diagnoses: d, procedures: pr, medications: m, profile: labels)
    }

    /// The example from vocabulary ids (CSR already split per visit), with the same window and set rules;
    /// `labels`: one per profile field, or empty for all unknown. Ids are range-checked.
    func example(diagnoses: [[Int32]], procedures: [[Int32]], medications: [[Int32]], labels: [Int32], history: Int)
        throws(LeaderError) -> StudentExample
    {
        let v = diagnoses.count
        guard v >= 1, procedures.count == v, medications.count <= v else {
            throw .invalidArgument("patient: \(v) diagnosis sets, \(procedures.count) procedure sets and "
                + "\(medications.count) medication sets (need v >= 1, v, at most v)")
        }
        let sizes = self.sizes
        for (kind, sets, count) in [(0, diagnoses, sizes.diagnoses), (1, procedures, sizes.procedures),
                                    (2, medications, sizes.medications)] {
            for set in sets {
                for id in set where id < 0 || Int(id) >= count {
                    throw .invalidArgument("patient: \(["diagnosis", "procedure", "medication"][kind]) id \(id) "
                        + "outside the vocabulary of \(count)")
                }
            }
        }
        let fields = checkpoint.profile.fields
        guard labels.isEmpty || labels.count == fields.count else {
            throw .invalidArgument("patient: \(labels.count) profile labels, the model has \(fields.count) fields")
        }
        for (i, l) in labels.enumerated() where l < 0 || Int(l) >= fields[i].values.count {
            throw .invalidArgument("patient: profile label \(l) of field '\(fields[i].name)' outside its \(fields[i].values.count) values")
        }
        let first = HistoryWindow(earlierVisits: history).firstVisit(target: v - 1)
        var m = Array(medications.prefix(v - 1).dropFirst(first)).map(Self.sortedUnique)
        while m.count < v - 1 - first { m.append([]) }
        return StudentExample(diagnoses: diagnoses[first...].map(Self.sortedUnique),
                              procedures: procedures[first...].map(Self.sortedUnique), medications: m,
                              profile: labels.isEmpty ? [Int32](repeating: 0, count: fields.count) : labels)
    }

    static func sortedUnique(_ ids: [Int32]) -> [Int32] {
        guard ids.count > 1 else { return ids }
        let s = ids.sorted()
        var out: [Int32] = [s[0]]
        out.reserveCapacity(s.count)
        for x in s.dropFirst() where x != out[out.count - 1] { out.append(x) }
        return out
    }
}

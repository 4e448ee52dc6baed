/// One training example: predict the medications of visit `targetVisit` of patient `patient` from the visits
/// `historyStart..<targetVisit` (the most recent earlier ones, at most `maxHistory`) and the target visit's
/// diagnoses and procedures. Indices are into `Cohort.patients` and that patient's `visits`.
public struct Sample: Equatable, Sendable {
    public var patient: Int32
    /// The index of the visit whose medications are predicted.
    public var targetVisit: Int32
    public var historyStart: Int32

    public init(patient: Int32, targetVisit: Int32, historyStart: Int32) {
        self.patient = patient
        self.targetVisit = targetVisit
        self.historyStart = historyStart
    }

    public var historyCount: Int { Int(targetVisit - historyStart) }
}

/// Which split a patient belongs to.
public enum SplitPart: UInt8, Codable, CaseIterable, Sendable {
    case train = 0, validation = 1, test = 2
    public var name: String {
        switch self {
        case .train: return "train"
        case .validation: return "validation"
        case .test: return "test"
        }
    }
}

public enum SampleBuilder {
    /// One sample per patient (target = last visit) or, with `perVisit`, one per visit. History keeps the
    /// `maxHistory` most recent earlier visits (`HistoryWindow`).
    public static func samples(_ cohort: Cohort, maxHistory: Int, perVisit: Bool) -> [Sample] {
        let window = HistoryWindow(earlierVisits: maxHistory)
        var out: [Sample] = []
        out.reserveCapacity(perVisit ? cohort.visitCount : cohort.patients.count)
        for (p, patient) in cohort.patients.enumerated() {
            let n = patient.visits.count
            guard n > 0 else { continue }
            let targets = perVisit ? Array(0..<n) : [n - 1]
            for t in targets {
                out.append(Sample(patient: Int32(p), targetVisit: Int32(t), historyStart: Int32(window.firstVisit(target: t))))
            }
        }
        return out
    }
}

/// Splits patients (never samples) into train / validation / test.
public enum PatientSplit {
    /// `sequential`: patients in id order, the first `⌊n·train⌋` train, the next `⌊n·val⌋` validation, the rest
    /// test (LEADER). Otherwise the same slicing after a seeded Fisher–Yates shuffle (SplitMix64).
    public static func assign(patientCount n: Int, trainFraction: Double, validationFraction: Double,
                              sequential: Bool, seed: UInt64) -> [SplitPart] {
        var order = Array(0..<n)
        if !sequential {
            var rng = SplitMix64(seed: seed)
            order.seededShuffle(using: &rng)
        }
        let nTrain = min(n, Int(Double(n) * trainFraction))
        let nVal = min(n - nTrain, Int(Double(n) * validationFraction))
        var parts = [SplitPart](repeating: .test, count: n)
        for (rank, p) in order.enumerated() {
            parts[p] = rank < nTrain ? .train : (rank < nTrain + nVal ? .validation : .test)
        }
        return parts
    }
}

/// One generated patient, in catalog indices, before it is written out. Small: a writer holds one at a time.
struct SyntheticPatient: Sendable {
    struct Prescription: Sendable {
        var product: Int
        var startDay: Int
        var endDay: Int
    }

    struct Admission: Sendable {
        var admitMinute: Int
        var dischargeMinute: Int
        var died: Bool
        /// Index into `SyntheticAdmissionValues.types`.
        var admissionType: Int
        var admissionLocation: Int
        var dischargeLocation: Int
        /// Minutes of ED registration / ED out (nil: not admitted through the ED).
        var edRegMinute: Int?
        var edOutMinute: Int?
        /// Index into `CompiledRules.episodes` of the main reason for admission.
        var episode: Int
        var diagnoses: [Int]
        var procedures: [Int]
        var prescriptions: [Prescription]
    }

    var profile: SyntheticProfile
    var dobDay: Int
    var admissions: [Admission]
    /// Day of death, if any; in hospital when the last admission `died`.
    var deathDay: Int?
}

/// The fixed MIMIC-III v1.4 strings of ADMISSIONS besides the profile.
enum SyntheticAdmissionValues {
    static let types = ["EMERGENCY", "ELECTIVE", "URGENT"]
    static let emergency = 0, elective = 1, urgent = 2
    static let admissionLocations = ["EMERGENCY ROOM ADMIT", "PHYS REFERRAL/NORMAL DELI", "TRANSFER FROM HOSP/EXTRAM",
                                     "CLINIC REFERRAL/PREMATURE", "TRANSFER FROM SKILLED NUR"]
    static let dischargeLocations = ["HOME", "HOME HEALTH CARE", "SNF", "REHAB/DISTINCT PART HOSP",
                                     "LONG TERM CARE HOSPITAL", "HOSPICE-HOME", "LEFT AGAINST MEDICAL ADVI",
                                     "DEAD/EXPIRED"]
    static let dead = 7
}

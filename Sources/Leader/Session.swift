import CLeader
import LeaderCore

@c @implementation
public func leader_session_create(_ model: OpaquePointer?, _ optionsJSON: UnsafePointer<CChar>?,
                                  _ outSession: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    outSession?.pointee = nil
    return boundary { () throws(LeaderError) in
        let f = "leader_session_create"
        let h = try ModelHandle.from(model, f), out = try required(outSession, "out_session", f)
        let options = try ServingSession.Options.parse(optionsJSON.map { String(cString: $0) })
        let handle = SessionHandle(h, try ServingSession(model: h.model, options: options))
        out.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
    }
}

@c @implementation
public func leader_session_free(_ session: OpaquePointer?) {
    guard let session else { return }
    Unmanaged<SessionHandle>.fromOpaque(UnsafeRawPointer(session)).release()
}

/// The threshold argument: negative (LEADER_THRESHOLD_DEFAULT) = the checkpoint's.
private func thresholdOrDefault(_ t: Float) -> Float? { t < 0 ? nil : t }

/// Writes recommendations (ids, scores, lent codes) after the capacity check.
private func writeRecommendations(_ picked: [(id: Int32, score: Float)], _ h: SessionHandle,
                                  _ outIDs: UnsafeMutablePointer<Int32>?, _ outScores: UnsafeMutablePointer<Float>?,
                                  _ outCodes: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ capacity: Int64,
                                  _ outN: UnsafeMutablePointer<Int64>?, _ f: String) throws(LeaderError) {
    try checkCapacity(picked.count, capacity, outN, f)
    guard !picked.isEmpty else { return }
    let ids = try required(outIDs, "out_ids", f), scores = try required(outScores, "out_scores", f)
    let codes = h.handle.codes[2]
    for (i, r) in picked.enumerated() {
        ids[i] = r.id
        scores[i] = r.score
        outCodes?[i] = codes[Int(r.id)]
    }
}

@c @implementation
public func leader_session_recommend(
    _ session: OpaquePointer?, _ nVisits: Int32,
    _ diagnosisOffsets: UnsafePointer<Int64>?, _ diagnoses: UnsafePointer<UnsafePointer<CChar>?>?,
    _ procedureOffsets: UnsafePointer<Int64>?, _ procedures: UnsafePointer<UnsafePointer<CChar>?>?,
    _ medicationOffsets: UnsafePointer<Int64>?, _ medications: UnsafePointer<UnsafePointer<CChar>?>?,
    _ nProfile: Int32, _ profileKeys: UnsafePointer<UnsafePointer<CChar>?>?,
    _ profileValues: UnsafePointer<UnsafePointer<CChar>?>?, _ topK: Int32, _ threshold: Float,
    _ outIDs: UnsafeMutablePointer<Int32>?, _ outScores: UnsafeMutablePointer<Float>?,
    _ outCodes: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ capacity: Int64, _ outN: UnsafeMutablePointer<Int64>?,
    _ outUnknown: UnsafeMutablePointer<Int64>?, _ unknownCapacity: Int64, _ outNUnknown: UnsafeMutablePointer<Int64>?
) -> Int32 {
    boundary { () throws(LeaderError) in
        let f = "leader_session_recommend"
        let h = try SessionHandle.from(session, f)
        guard unknownCapacity >= 0 else { throw .invalidArgument("\(f): unknown_capacity \(unknownCapacity) < 0") }
        let patient = try PatientInput(function: f).patient(nVisits, diagnosisOffsets, diagnoses, procedureOffsets,
                                                             procedures, medicationOffsets, medications, nProfile,
                                                             profileKeys, profileValues)
        var unknown: [Int] = []
        let ex = try h.session.example(patient, unknown: &unknown)
        let picked = try h.session.recommend(ex, topK: Int(topK), threshold: thresholdOrDefault(threshold))
        try writeRecommendations(picked, h, outIDs, outScores, outCodes, capacity, outN, f)
        let shown = min(unknown.count, Int(unknownCapacity))
        if shown > 0 {
            let out = try required(outUnknown, "out_unknown", f)
            for i in 0..<shown { out[i] = Int64(unknown[i]) }
        }
        outNUnknown?.pointee = Int64(unknown.count)
    }
}

@c @implementation
public func leader_session_recommend_ids(
    _ session: OpaquePointer?, _ nVisits: Int32,
    _ diagnosisOffsets: UnsafePointer<Int64>?, _ diagnoses: UnsafePointer<Int32>?,
    _ procedureOffsets: UnsafePointer<Int64>?, _ procedures: UnsafePointer<Int32>?,
    _ medicationOffsets: UnsafePointer<Int64>?, _ medications: UnsafePointer<Int32>?,
    _ nProfile: Int32, _ profileLabels: UnsafePointer<Int32>?, _ topK: Int32, _ threshold: Float,
    _ outIDs: UnsafeMutablePointer<Int32>?, _ outScores: UnsafeMutablePointer<Float>?,
    _ outCodes: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ capacity: Int64, _ outN: UnsafeMutablePointer<Int64>?
) -> Int32 {
    boundary { () throws(LeaderError) in
        let f = "leader_session_recommend_ids"
        let h = try SessionHandle.from(session, f)
        guard nVisits >= 1 else { throw .invalidArgument("\(f): n_visits \(nVisits) < 1") }
        guard nProfile >= 0 else { throw .invalidArgument("\(f): n_profile \(nProfile) < 0") }
        let input = PatientInput(function: f), n = Int(nVisits)
        let labels = nProfile == 0 ? []
            : Array(UnsafeBufferPointer(start: try required(profileLabels, "profile_labels", f), count: Int(nProfile)))
        let ex = try h.session.example(
            diagnoses: try input.ids(try input.offsets(diagnosisOffsets, n, "diagnosis_offsets"), diagnoses, 0..<n, "diagnoses"),
            procedures: try input.ids(try input.offsets(procedureOffsets, n, "procedure_offsets"), procedures, 0..<n, "procedures"),
            medications: try input.ids(try input.offsets(medicationOffsets, n, "medication_offsets", optional: true),
                                       medications, 0..<n, "medications"),
            labels: labels)
        let picked = try h.session.recommend(ex, topK: Int(topK), threshold: thresholdOrDefault(threshold))
        try writeRecommendations(picked, h, outIDs, outScores, outCodes, capacity, outN, f)
    }
}

/// The scores matrix of `patients` patients must fit in `capacity` floats (checked before any work).
private func requireScoresCapacity(_ h: SessionHandle, _ patients: Int64, _ capacity: Int64, _ f: String)
    throws(LeaderError)
{
    guard patients >= 0 else { throw .invalidArgument("\(f): n_patients \(patients) < 0") }
    let needed = try Checked.product(Int(patients), h.session.model.sizes.medications, "\(f): scores")
    guard capacity >= Int64(needed) else {
        throw .bufferTooSmall(needed: needed, "\(f): \(patients) patients need \(needed) scores, capacity \(capacity)")
    }
}

/// The scores matrix of `examples` into the caller's buffer (its capacity checked by `requireScoresCapacity`).
private func scoreInto(_ h: SessionHandle, _ examples: [StudentExample], _ outScores: UnsafeMutablePointer<Float>?,
                       _ f: String) throws(LeaderError) {
    guard !examples.isEmpty else { return }
    try h.session.scoreBatch(examples[...], into: try required(outScores, "out_scores", f))
}

@c @implementation
public func leader_session_score_batch(
    _ session: OpaquePointer?, _ nPatients: Int64, _ visitOffsets: UnsafePointer<Int64>?,
    _ diagnosisOffsets: UnsafePointer<Int64>?, _ diagnoses: UnsafePointer<UnsafePointer<CChar>?>?,
    _ procedureOffsets: UnsafePointer<Int64>?, _ procedures: UnsafePointer<UnsafePointer<CChar>?>?,
    _ medicationOffsets: UnsafePointer<Int64>?, _ medications: UnsafePointer<UnsafePointer<CChar>?>?,
    _ profileOffsets: UnsafePointer<Int64>?, _ profileKeys: UnsafePointer<UnsafePointer<CChar>?>?,
    _ profileValues: UnsafePointer<UnsafePointer<CChar>?>?, _ outScores: UnsafeMutablePointer<Float>?,
    _ capacity: Int64, _ outNUnknown: UnsafeMutablePointer<Int64>?
) -> Int32 {
    boundary { () throws(LeaderError) in
        let f = "leader_session_score_batch"
        let h = try SessionHandle.from(session, f)
        let input = PatientInput(function: f)
        try requireScoresCapacity(h, nPatients, capacity, f)
        let (ranges, d, p, m) = try input.batch(nPatients, visitOffsets, diagnosisOffsets, procedureOffsets,
                                                medicationOffsets)
        let prof = try input.offsets(profileOffsets, ranges.count, "profile_offsets", optional: true)
        var unknown: [Int] = []
        var examples: [StudentExample] = []
        examples.reserveCapacity(ranges.count)
        for (i, r) in ranges.enumerated() {
            let pairs = prof.map { Int($0[i])..<Int($0[i + 1]) } ?? 0..<0
            let patient = PatientCodes(diagnoses: try input.strings(d, diagnoses, r, "diagnoses"),
                                       procedures: try input.strings(p, procedures, r, "procedures"),
                                       medications: try input.strings(m, medications, r, "medications"),
                                       profile: try input.profile(profileKeys, profileValues, pairs))
            examples.append(try h.session.example(patient, unknown: &unknown))
        }
        try scoreInto(h, examples, outScores, f)
        outNUnknown?.pointee = Int64(unknown.count)
    }
}

@c @implementation
public func leader_session_score_batch_ids(
    _ session: OpaquePointer?, _ nPatients: Int64, _ visitOffsets: UnsafePointer<Int64>?,
    _ diagnosisOffsets: UnsafePointer<Int64>?, _ diagnoses: UnsafePointer<Int32>?,
    _ procedureOffsets: UnsafePointer<Int64>?, _ procedures: UnsafePointer<Int32>?,
    _ medicationOffsets: UnsafePointer<Int64>?, _ medications: UnsafePointer<Int32>?,
    _ profileLabels: UnsafePointer<Int32>?, _ outScores: UnsafeMutablePointer<Float>?, _ capacity: Int64
) -> Int32 {
    boundary { () throws(LeaderError) in
        let f = "leader_session_score_batch_ids"
        let h = try SessionHandle.from(session, f)
        let input = PatientInput(function: f)
        try requireScoresCapacity(h, nPatients, capacity, f)
        let (ranges, d, p, m) = try input.batch(nPatients, visitOffsets, diagnosisOffsets, procedureOffsets,
                                                medicationOffsets)
        let fields = h.session.model.profile.fields.count
        var examples: [StudentExample] = []
        examples.reserveCapacity(ranges.count)
        for (i, r) in ranges.enumerated() {
            let labels = profileLabels.map { Array(UnsafeBufferPointer(start: $0 + i * fields, count: fields)) } ?? []
            examples.append(try h.session.example(diagnoses: try input.ids(d, diagnoses, r, "diagnoses"),
                                                  procedures: try input.ids(p, procedures, r, "procedures"),
                                                  medications: try input.ids(m, medications, r, "medications"),
                                                  labels: labels))
        }
        try scoreInto(h, examples, outScores, f)
    }
}

@c @implementation
public func leader_session_explain(
    _ session: OpaquePointer?, _ nVisits: Int32,
    _ diagnosisOffsets: UnsafePointer<Int64>?, _ diagnoses: UnsafePointer<UnsafePointer<CChar>?>?,
    _ procedureOffsets: UnsafePointer<Int64>?, _ procedures: UnsafePointer<UnsafePointer<CChar>?>?,
    _ medicationOffsets: UnsafePointer<Int64>?, _ medications: UnsafePointer<UnsafePointer<CChar>?>?,
    _ nProfile: Int32, _ profileKeys: UnsafePointer<UnsafePointer<CChar>?>?,
    _ profileValues: UnsafePointer<UnsafePointer<CChar>?>?, _ medicationID: Int32,
    _ outScore: UnsafeMutablePointer<Float>?, _ outPositions: UnsafeMutablePointer<Int64>?,
    _ outContributions: UnsafeMutablePointer<Float>?, _ capacity: Int64, _ outN: UnsafeMutablePointer<Int64>?
) -> Int32 {
    boundary { () throws(LeaderError) in
        let f = "leader_session_explain"
        let h = try SessionHandle.from(session, f)
        let patient = try PatientInput(function: f).patient(nVisits, diagnosisOffsets, diagnoses, procedureOffsets,
                                                             procedures, medicationOffsets, medications, nProfile,
                                                             profileKeys, profileValues)
        let (score, items) = try h.session.explain(patient, medication: Int(medicationID))
        try checkCapacity(items.count, capacity, outN, f)
        outScore?.pointee = score
        guard !items.isEmpty else { return }
        let positions = try required(outPositions, "out_positions", f)
        let contributions = try required(outContributions, "out_contributions", f)
        for (i, it) in items.enumerated() {
            positions[i] = Int64(it.position)
            contributions[i] = it.contribution
        }
    }
}

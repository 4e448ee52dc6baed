import Foundation
import Testing
@testable import LeaderCore

/// The synthetic cohort is read back by the MIMIC-III loader exactly like real data: every prescription row
/// resolves through the cohort's own maps (NDC first, then drug name), and every patient survives filtering.
@Test func syntheticCohortPreparesThroughTheMIMIC3Loader() throws {
    let dir = DataTestSupport.tempDir("synth-prepare")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let summary = try SyntheticCohort.write(SyntheticConfig(patients: 300, seed: 7), to: dir) { _ in true }
    let data = try DataPreparation.prepare(source: .mimic3, input: dir, maps: dir + "/maps",
                                           config: PrepareConfig.defaults(for: .mimic3))
    let report = data.cohort.report
    #expect(report.rowsRead["prescriptions"] == summary.prescriptionsRows)
    #expect(report.medicationRows["unmapped", default: 0] == 0, "every synthetic drug row maps to ATC3")
    #expect(report.medicationRows["name", default: 0] == summary.prescriptionsUnmappedNDC,
            "rows whose NDC is not in ndc2atc3.csv resolve by drug name")
    #expect(report.patientsKept == summary.patients)
    #expect(data.samples.count == summary.patients)
}

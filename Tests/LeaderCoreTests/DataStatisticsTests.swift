import Testing
@testable import LeaderCore

/// `leader stats` numbers of the hand-made OMOP fixture, counted by hand from its CSV files: visits 101, 102, 103
/// (person 1), 201, 301, 401 (302 has no procedure and is dropped); diagnoses 2+1+1+1+1+1 (a concept-0 row and
/// a row without a visit id are dropped), one procedure per visit, medications 3+2+1+1+1+1.
@Suite struct DataStatisticsTests {
    @Test func countsOfTheOMOPFixture() throws {
        let d = try DataLDataTests.dataset()
        let s = DataStatistics(d)
        #expect(s.source == "omop")
        #expect(s.patients == 4 && s.visits == 6 && s.maxVisitsPerPatient == 3)
        #expect(s.averageVisitsPerPatient == 1.5)
        #expect(s.singleVisitPatients == 3 && s.singleVisitShare == 0.75)
        #expect(s.codes["diagnosis"] == DataStatistics.Kind(vocabulary: 4, averagePerVisit: 7.0 / 6, maxPerVisit: 2))
        #expect(s.codes["procedure"] == DataStatistics.Kind(vocabulary: 3, averagePerVisit: 1, maxPerVisit: 1))
        #expect(s.codes["medication"] == DataStatistics.Kind(vocabulary: 6, averagePerVisit: 1.5, maxPerVisit: 3))
        #expect(s.profileCardinality["gender"] == 3 && s.profileCardinality["visit_type"] == 4)
        // one sample per patient (the last visit); splits partition patients and samples
        #expect(s.samples["all"] == 4)
        #expect(["train", "validation", "test"].map { s.samples[$0] ?? -1 }.reduce(0, +) == 4)
        #expect(["train", "validation", "test"].map { s.patientsPerSplit[$0] ?? -1 }.reduce(0, +) == 4)
        for part in SplitPart.allCases {
            #expect(s.patientsPerSplit[part.name] == d.split.filter { $0 == part }.count)
        }
        #expect(s.medicationRows == ["atc": 6, "ingredient": 2, "drug_concept": 1])
        #expect(s.dropped["visits: dropped for a missing code set"] == 1)
    }

    @Test func emptyDatasetHasZerosNotNaN() throws {
        var d = try DataLDataTests.dataset()
        d.cohort.patients = []
        d.samples = []
        d.split = []
        let s = DataStatistics(d)
        #expect(s.patients == 0 && s.visits == 0 && s.averageVisitsPerPatient == 0 && s.singleVisitShare == 0)
        #expect(s.codes.values.allSatisfy { $0.averagePerVisit == 0 && $0.maxPerVisit == 0 })
        #expect(s.samples["all"] == 0)
    }
}

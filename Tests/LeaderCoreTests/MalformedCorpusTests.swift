import Foundation
import Testing
@testable import LeaderCore

/// The committed malformed corpus (tools/make_malformed_corpus.py → Fixtures/malformed/manifest.json): every file
/// through its reader gives exactly the error kind and message the manifest names — or, for kind "none", is
/// read. Nothing traps; nothing malformed is accepted.
@Suite struct MalformedCorpusTests {
    struct Case: Decodable, CustomTestStringConvertible {
        let file, reader, kind, message: String
        let columns: [String]?
        var testDescription: String { file }
    }

    static let cases: [Case] = {
        let path = DataTestSupport.fixtures + "/malformed/manifest.json"
        guard let data = FileManager.default.contents(atPath: path),
              let cases = try? JSONDecoder().decode([Case].self, from: data) else { return [] }
        return cases
    }()

    /// Reads `path` as `reader` does in the library: the whole file, every tensor or row.
    static func read(_ c: Case, _ path: String) throws(LeaderError) {
        switch c.reader {
        case "checkpoint":
            _ = try StudentCheckpoint.read(path)
        case "gguf":
            let g = try GGUFFile(path: path)
            for t in g.tensors { _ = try g.tensor(t.name) }
        case "ldata":
            _ = try LDataFile.read(path)
        case "csv":
            let r = try CSVReader(path: path)
            let cols = try (c.columns ?? []).map { (name) throws(LeaderError) in try r.column(name) }
            try r.forEachRow { (row: CSVRow) throws(LeaderError) in for i in cols { _ = row.trimmed(i) } }
        default:
            throw .invalidArgument("manifest: unknown reader '\(c.reader)'")
        }
    }

    @Test func theManifestListsEveryFile() throws {
        let dir = DataTestSupport.fixtures + "/malformed"
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: dir))
        #expect(Self.cases.count >= 45, "manifest.json missing or short")
        #expect(files.subtracting(["manifest.json", "seed.ldata"]) == Set(Self.cases.map(\.file)))
    }

    @Test(arguments: cases)
    func eachFileGivesItsErrorKindAndMessage(_ c: Case) throws {
        let path = DataTestSupport.fixtures + "/malformed/" + c.file
        do {
            try Self.read(c, path)
            #expect(c.kind == "none", "\(c.file) was accepted; expected \(c.kind): \(c.message)")
        } catch {
            #expect("\(error.kind)" == c.kind, "\(c.file): \(error.kind): \(error.message)")
            #expect(!c.message.isEmpty && error.message.hasPrefix("\(path): \(c.message)"),
                    "\(c.file): message \"\(error.message)\"")
        }
    }

    /// A field of 10^6 characters (made here: the corpus stays KB-sized) is read whole — below the record limit.
    @Test func aMillionCharacterFieldIsRead() throws {
        let dir = DataTestSupport.tempDir("csv-long")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/long.csv"
        DataTestSupport.write("subject_id,hadm_id\n1," + String(repeating: "7", count: 1_000_000) + "\n2,3\n", to: path)
        let r = try CSVReader(path: path)
        let h = try r.column("hadm_id")
        var lengths: [Int] = []
        try r.forEachRow { (row: CSVRow) throws(LeaderError) in lengths.append(row.trimmed(h).utf8.count) }
        #expect(lengths == [1_000_000, 1])
    }
}

import CLeaderIO
import Foundation
import Testing
@testable import LeaderCore

@Suite struct DataCSVTests {
    @Test func quotesCommasNewlinesCRLFAndBOM() throws {
        let text = "\u{FEFF}A,b\r\n1,\"x, \"\"y\"\"\r\nz\"\r\n\r\n,\"\"\r\nlast,row"
        let (header, rows, lines) = try DataTestSupport.rows(text)
        #expect(header == ["A", "b"])
        #expect(rows == [["1", "x, \"y\"\r\nz"], ["", ""], ["last", "row"]])
        #expect(lines == [2, 5, 6])
    }

    @Test func missingTrailingNewlineAndTrailingEmptyField() throws {
        #expect(try DataTestSupport.rows("a,b\n1,").rows == [["1", ""]])
        #expect(try DataTestSupport.rows("a,b\n1,2").rows == [["1", "2"]])
        #expect(try DataTestSupport.rows("a\n\"q\"").rows == [["q"]])
    }

    @Test func tabSeparatedFilesAreSniffedAndReadWithoutQuotes() throws {
        let (header, rows, _) = try DataTestSupport.rows("concept_id\tconcept_name\r\n1\tPain \"burning\", severe\n2\t\"x\n")
        #expect(header == ["concept_id", "concept_name"])
        #expect(rows == [["1", "Pain \"burning\", severe"], ["2", "\"x"]])
        let dir = DataTestSupport.tempDir("tsv")
        DataTestSupport.write("concept_id\tconcept_name\n1\tA \"b\"\n", to: dir + "/t.csv")
        let r = try CSVReader(path: dir + "/t.csv", readChunk: 2)   // the sniff sees the whole first line
        var got: [String] = []
        try r.forEachRow { (row: CSVRow) throws(LeaderError) in got.append(row.string(1)) }
        #expect(r.header == ["concept_id", "concept_name"] && got == ["A \"b\""])
        // A comma in the first line keeps CSV mode even with tabs.
        #expect(try DataTestSupport.rows("a,b\tc\n1,2\t3\n").rows == [["1", "2\t3"]])
    }

    @Test func headerLookupIsCaseInsensitive() throws {
        let r = try CSVReader(data: Array("ROW_ID,Subject_Id\n".utf8), name: "t.csv")
        #expect(try r.column("subject_id") == 1)
        #expect(try r.column("SUBJECT_ID") == 1)
        #expect(r.optionalColumn("hadm_id") == nil)
        #expect(throws: LeaderError.badFile("t.csv: missing column 'hadm_id' in the header (line 1)")) {
            try r.column("hadm_id")
        }
    }

    @Test func unterminatedQuoteNamesLineAndColumnNotValue() throws {
        let r = try CSVReader(data: Array("a,b\n1,2\n3,\"secret-value\n".utf8), name: "t.csv")
        do {
            try r.forEachRow { (_: CSVRow) throws(LeaderError) in }
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("t.csv: line 3, column 2"))
            #expect(!error.message.contains("secret"))
        }
    }

    @Test func junkAfterClosingQuoteIsAnError() throws {
        let r = try CSVReader(data: Array("a,b\n\"x\"secret,2\n".utf8), name: "t.csv")
        expectError(.badFile, "t.csv: line 2, column 1: closing quote not followed by a comma or line end") { try r.forEachRow { (_: CSVRow) throws(LeaderError) in } }
    }

    @Test func gzipAndPlainFilesReadTheSame() throws {
        let dir = DataTestSupport.tempDir("csv")
        var text = "id,name,note\n"
        for i in 0..<50_000 { text += "\(i),drug \(i % 97),\"long, quoted\nnote \(i)\"\n" }
        let bytes = Array(text.utf8)
        for (name, level) in [("p.csv", Int32(0)), ("g.csv.gz", Int32(6))] {
            #expect(lio_write_file(dir + "/" + name, bytes, bytes.count, level) == 0)
            let r = try CSVReader(path: dir + "/" + name)
            var n = 0, sum = 0
            var lastLine = 0
            try r.forEachRow { (row: CSVRow) throws(LeaderError) in
                sum += Int(FieldParsing.int64(row.bytes(0)) ?? -1)
                n += 1
                lastLine = row.line
            }
            #expect(n == 50_000)
            #expect(sum == 49_999 * 50_000 / 2)
            #expect(lastLine == 1 + 2 * 49_999 + 1)
            // Abandoning a reader early (the gzip inflater thread may be blocked on a full ring) must not hang.
            for _ in 0..<20 {
                let early = try CSVReader(path: dir + "/" + name)
                var seen = 0
                #expect(throws: LeaderError.cancelled("stop")) {
                    try early.forEachRow { (_: CSVRow) throws(LeaderError) in
                        seen += 1
                        if seen == 3 { throw .cancelled("stop") }
                    }
                }
            }
        }
    }

    @Test func truncatedGzipIsAnIOError() throws {
        let dir = DataTestSupport.tempDir("csv")
        var text = "id,v\n"
        for i in 0..<100_000 { text += "\(i),\(i * 7)\n" }
        let bytes = Array(text.utf8)
        #expect(lio_write_file(dir + "/full.csv.gz", bytes, bytes.count, 6) == 0)
        let gz = try Data(contentsOf: URL(fileURLWithPath: dir + "/full.csv.gz"))
        try gz.prefix(gz.count / 2).write(to: URL(fileURLWithPath: dir + "/cut.csv.gz"))
        let r = try CSVReader(path: dir + "/cut.csv.gz")
        do {
            try r.forEachRow { (_: CSVRow) throws(LeaderError) in }
            Issue.record("expected an error")
        } catch {
            guard case .io(let m) = error else { Issue.record("expected .io, got \(error)"); return }
            #expect(m.contains("cut.csv.gz"))
        }
    }

    @Test func missingFileAndEmptyFile() throws {
        expectError(.io, "/nonexistent/x.csv: cannot open (No such file or directory)") { try CSVReader(path: "/nonexistent/x.csv") }
        let dir = DataTestSupport.tempDir("csv")
        DataTestSupport.write("", to: dir + "/empty.csv")
        #expect(throws: LeaderError.badFile("\(dir)/empty.csv: empty file, no header line")) {
            try CSVReader(path: dir + "/empty.csv")
        }
    }

    @Test func recordLongerThanTheBufferGrowsIt() throws {
        let long = String(repeating: "x", count: 3 << 20)
        let dir = DataTestSupport.tempDir("csv")
        DataTestSupport.write("a,b\n1,\"\(long)\"\n2,y\n", to: dir + "/long.csv")
        let r = try CSVReader(path: dir + "/long.csv")
        var sizes: [Int] = []
        try r.forEachRow { (row: CSVRow) throws(LeaderError) in sizes.append(row.bytes(1).count) }
        #expect(sizes == [3 << 20, 1])
        let small = try CSVReader(path: dir + "/long.csv", maxRecordBytes: 1 << 20)
        expectError(.badFile, "long.csv: line 2: record longer than the limit") { try small.forEachRow { (_: CSVRow) throws(LeaderError) in } }
    }

    @Test func integerAndDateParsing() {
        func i(_ s: String) -> Int64? { Array(s.utf8).withUnsafeBufferPointer { FieldParsing.int64($0) } }
        func t(_ s: String) -> Int64? { Array(s.utf8).withUnsafeBufferPointer { FieldParsing.timestamp($0) } }
        #expect(i("123") == 123)
        #expect(i(" -7 ") == -7)
        #expect(i("42.0") == 42)
        #expect(i("42.5") == nil)
        #expect(i("") == nil)
        #expect(i("9223372036854775808") == nil)
        #expect(i("12a") == nil)
        #expect(t("1970-01-02") == 86400)
        #expect(t("1970-01-01 01:00:00") == 3600)
        #expect(t("2164-10-23 21:09:00") == t("2164-10-23T21:09:00"))
        #expect(t("2164-13-01") == nil)
        #expect(t("not a date") == nil)
        #expect(FieldParsing.civil(t("2153-09-17 17:08:00") ?? 0) == (2153, 9, 17))
        #expect(FieldParsing.ageYears(birth: t("2100-06-15") ?? 0, at: t("2150-06-14") ?? 0) == 49)
        #expect(FieldParsing.ageYears(birth: t("2100-06-15") ?? 0, at: t("2150-06-15") ?? 0) == 50)
    }

    /// Random records (commas, quotes, CR/LF, UTF-8) written with the CSV writer and read back from files large
    /// enough to cross the reader's 1 MiB buffer many times, plain and gzip: every field must come back intact.
    @Test func randomRecordsRoundTripAcrossBufferBoundaries() throws {
        var rng = SplitMix64(seed: 99)
        let alphabet: [String] = ["a", "b", ",", "\"", "\n", "\r\n", " ", "é", "0", "\"\""]
        var records: [[String]] = []
        var bytes: [UInt8] = Array("c0,c1,c2\n".utf8)
        var size = 0
        var smallCut = 0
        while size < 3_000_000 {
            if smallCut == 0 && size > 20_000 { smallCut = records.count }
            var rec: [String] = []
            for _ in 0..<3 {
                let len = Int(rng.next() % 40)
                var f = ""
                for _ in 0..<len { f += alphabet[Int(rng.next() % UInt64(alphabet.count))] }
                rec.append(f)
            }
            if rec.allSatisfy(\.isEmpty) { rec[0] = "x" }
            for (i, f) in rec.enumerated() {
                if i > 0 { bytes.append(0x2C) }
                FileWriting.appendCSVField(f, to: &bytes)
            }
            bytes += rng.next() % 2 == 0 ? [0x0A] : [0x0D, 0x0A]
            records.append(rec)
            size = bytes.count
        }
        let dir = DataTestSupport.tempDir("csvfuzz")
        for (name, level) in [("r.csv", 0), ("r.csv.gz", 1)] {
            try FileWriting.write(bytes, to: dir + "/" + name, gzipLevel: level)
            let r = try CSVReader(path: dir + "/" + name)
            var i = 0, mismatches = 0
            try r.forEachRow { (row: CSVRow) throws(LeaderError) in
                if i >= records.count || (0..<row.count).map({ row.string($0) }) != records[i] { mismatches += 1 }
                i += 1
            }
            #expect(i == records.count, "\(name)")
            #expect(mismatches == 0, "\(name)")
        }
        // Tiny reads: every record straddles refills, quotes and "" pairs split at every position.
        let small = Array(records.prefix(smallCut))
        var smallBytes: [UInt8] = Array("c0,c1,c2\n".utf8)
        for rec in small {
            for (i, f) in rec.enumerated() {
                if i > 0 { smallBytes.append(0x2C) }
                FileWriting.appendCSVField(f, to: &smallBytes)
            }
            smallBytes += [0x0D, 0x0A]
        }
        try FileWriting.write(smallBytes, to: dir + "/small.csv")
        try FileWriting.write(smallBytes, to: dir + "/small.csv.gz", gzipLevel: 6)
        for (file, chunk) in [("small.csv", 1), ("small.csv", 2), ("small.csv", 3), ("small.csv", 7), ("small.csv", 64),
                              ("small.csv.gz", 1), ("small.csv.gz", 5)] {
            let r = try CSVReader(path: dir + "/" + file, readChunk: chunk)
            var got: [[String]] = []
            try r.forEachRow { (row: CSVRow) throws(LeaderError) in got.append((0..<row.count).map { row.string($0) }) }
            #expect(r.header == ["c0", "c1", "c2"])
            #expect(got == small, "\(file) chunk \(chunk)")
        }
    }

    /// Random bytes never trap the tokenizer: every input ends in rows, EOF or a typed error.
    @Test func randomBytesNeverTrap() {
        var rng = SplitMix64(seed: 5)
        let pieces: [UInt8] = [0x2C, 0x22, 0x0A, 0x0D, 0x09, 0x61, 0x00, 0xFF, 0xEF, 0xBB, 0xBF]
        for _ in 0..<500 {
            let n = Int(rng.next() % 200)
            let b = (0..<n).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }
            do {
                let r = try CSVReader(data: b, name: "fuzz.csv")
                try r.forEachRow { (row: CSVRow) throws(LeaderError) in _ = row.string(0) }
            } catch {
                #expect(error.message.hasPrefix("fuzz.csv"))
            }
        }
    }
}

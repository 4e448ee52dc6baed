import CLeaderIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One CSV record, borrowed from the reader: valid only inside the `forEachRow` closure that receives it.
/// Fields are byte slices; nothing is allocated unless a caller asks for a `String`.
public struct CSVRow {
    let base: UnsafePointer<UInt8>
    let fields: UnsafePointer<Int64>
    /// Number of fields in this record.
    public let count: Int
    /// 1-based physical line where the record starts.
    public let line: Int

    /// The bytes of field `i` (empty when the record is shorter than `i + 1` fields).
    @inline(__always)
    public func bytes(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        guard i >= 0, i < count else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: base + Int(fields[2 * i]), count: Int(fields[2 * i + 1]))
    }

    /// Field `i` as a String (allocates only for more than 15 UTF-8 bytes).
    public func string(_ i: Int) -> String { String(decoding: bytes(i), as: UTF8.self) }

    /// Field `i` with ASCII spaces trimmed, as a String.
    public func trimmed(_ i: Int) -> String {
        let b = bytes(i)
        var lo = 0, hi = b.count
        while lo < hi, b[lo] == 0x20 || b[lo] == 0x09 { lo += 1 }
        while hi > lo, b[hi - 1] == 0x20 || b[hi - 1] == 0x09 { hi -= 1 }
        return String(decoding: UnsafeBufferPointer(rebasing: b[lo..<hi]), as: UTF8.self)
    }

    /// True when field `i` is empty or absent.
    public func isEmpty(_ i: Int) -> Bool { bytes(i).isEmpty }
}

/// Streams the records of a `.csv` or `.csv.gz` file (RFC 4180: quoted fields with commas, quotes and newlines;
/// LF or CRLF; optional UTF-8 BOM; optional final newline). The first record is the header; column lookup is
/// case-insensitive. Errors name the file, line and column, never a cell value.
public final class CSVReader {
    /// The path as given; used in messages.
    public let path: String
    /// Header names as in the file.
    public let header: [String]
    private let lowered: [String: Int]
    private var handle: OpaquePointer?
    /// The COPY stream of a PostgreSQL reader (owned by `handle`), for the server's message after a read error.
    private var postgres: OpaquePointer?

    /// Opens `path` and reads its header.
    /// `readChunk` > 0 limits each read to that many bytes (tests: records straddling refills).
    public init(path: String, maxRecordBytes: Int = 0, readChunk: Int = 0) throws(LeaderError) {
        self.path = path
        var h: OpaquePointer?
        let st = lio_csv_open(&h, path, Int64(maxRecordBytes))
        guard st == 0, let handle = h else {
            if st == LIO_ERR_OPEN { throw .io("\(path): cannot open (\(SystemError.text(errno)))") }
            throw .io("\(path): cannot open (status \(st))")
        }
        if readChunk > 0 { lio_csv_set_read_chunk(handle, Int64(readChunk)) }
        (header, lowered) = try CSVReader.readHeader(handle, name: path)
        self.handle = handle
    }

    /// A PostgreSQL table or query streamed by `copySQL` (a `COPY … TO STDOUT WITH (FORMAT csv, HEADER true)`) over
    /// its own connection to `conninfo`; `name` is used in messages (never the connection string, which may hold a
    /// password).
    public init(postgres conninfo: String, copySQL: String, name: String) throws(LeaderError) {
        path = name
        var pg: OpaquePointer?
        var err = [CChar](repeating: 0, count: 512)
        let st = lio_pg_copy_open(&pg, conninfo, copySQL, &err, err.count)
        guard st == 0, let pg else {
            let message = String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            switch st {
            case LIO_ERR_NOMEM: throw .outOfMemory("\(name): out of memory")
            case LIO_PG_QUERY: throw .badFile("\(name): \(message)")
            default: throw .io("\(name): \(message)")
            }
        }
        var h: OpaquePointer?
        guard lio_csv_open_stream(&h, lio_pg_copy_read, lio_pg_copy_close, UnsafeMutableRawPointer(pg), 0) == 0,
              let handle = h
        else { throw .outOfMemory("\(name): cannot allocate a reader") }
        postgres = pg
        (header, lowered) = try CSVReader.readHeader(handle, name: name, postgres: pg)
        self.handle = handle
    }

    /// In-memory reader over `data` (copied), for tests and benchmarks; `name` is used in messages.
    public init(data: [UInt8], name: String) throws(LeaderError) {
        path = name
        var h: OpaquePointer?
        let st = data.withUnsafeBufferPointer { lio_csv_open_memory(&h, $0.baseAddress, $0.count, 0) }
        guard st == 0, let handle = h else { throw .outOfMemory("\(name): cannot allocate a reader") }
        (header, lowered) = try CSVReader.readHeader(handle, name: name)
        self.handle = handle
    }

    /// The header record of a freshly opened reader: names as in the file, and normalised name → first column.
    /// Frees `handle` and throws (naming `name`, line and column) when there is no header.
    private static func readHeader(_ handle: OpaquePointer, name: String, postgres: OpaquePointer? = nil)
        throws(LeaderError) -> ([String], [String: Int])
    {
        var row = lio_row()
        let r = lio_csv_next(handle, &row)
        guard r == LIO_ROW else {
            let line = Int(lio_csv_error_line(handle)), column = Int(lio_csv_error_column(handle))
            let e = CSVReader.error(path: name, status: r, line: line, column: column, postgres: postgres)
            lio_csv_free(handle)
            if r == LIO_EOF { throw .badFile("\(name): empty file, no header line") }
            throw e
        }
        var names: [String] = []
        var lower: [String: Int] = [:]
        for i in 0..<Int(row.n_fields) {
            let start = Int(row.fields[2 * i]), n = Int(row.fields[2 * i + 1])
            let field = String(decoding: UnsafeBufferPointer(start: row.base + start, count: n), as: UTF8.self)
            names.append(field)
            let key = CSVReader.normalize(field)
            if lower[key] == nil { lower[key] = i }
        }
        return (names, lower)
    }

    deinit { if let handle { lio_csv_free(handle) } }

    static func normalize(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars where u != " " && u != "\t" { out.unicodeScalars.append(u) }
        return out.lowercased()
    }

    /// Index of column `name` (any case), or `.badFile` naming the file and the column.
    public func column(_ name: String) throws(LeaderError) -> Int {
        guard let i = lowered[CSVReader.normalize(name)] else {
            throw .badFile("\(path): missing column '\(name)' in the header (line 1)")
        }
        return i
    }

    /// The first of `names` present (any case), or `.badFile` naming all of them.
    public func column(anyOf names: [String]) throws(LeaderError) -> Int {
        for n in names { if let i = lowered[CSVReader.normalize(n)] { return i } }
        throw .badFile("\(path): missing column '\(names.joined(separator: "' or '"))' in the header (line 1)")
    }

    /// Index of column `name`, or nil when absent.
    public func optionalColumn(_ name: String) -> Int? { lowered[CSVReader.normalize(name)] }

    /// Calls `body` for every record after the header. The row is borrowed for the call only.
    public func forEachRow(_ body: (CSVRow) throws(LeaderError) -> Void) throws(LeaderError) {
        guard let handle else { return }
        var row = lio_row()
        while true {
            let st = lio_csv_next(handle, &row)
            if st == LIO_EOF { return }
            guard st == LIO_ROW, let base = row.base, let fields = row.fields else {
                throw CSVReader.error(path: path, status: st, line: Int(lio_csv_error_line(handle)),
                                      column: Int(lio_csv_error_column(handle)), postgres: postgres)
            }
            try body(CSVRow(base: base, fields: fields, count: Int(row.n_fields), line: Int(row.line)))
        }
    }

    /// Decompressed bytes consumed so far.
    public var bytesConsumed: Int { handle.map { Int(lio_csv_bytes_consumed($0)) } ?? 0 }

    static func error(path: String, status: Int32, line: Int, column: Int, postgres: OpaquePointer? = nil) -> LeaderError {
        if status == LIO_ERR_READ, let postgres, let m = lio_pg_copy_error(postgres) {
            return .io("\(path): read error near line \(line): \(String(cString: m))")
        }
        switch status {
        case LIO_ERR_READ: return .io("\(path): read error near line \(line) (corrupt or truncated gzip, or I/O failure)")
        case LIO_ERR_QUOTE:
            return .badFile("\(path): line \(line), column \(column): closing quote not followed by a comma or line end")
        case LIO_ERR_UNTERMINATED:
            return .badFile("\(path): line \(line), column \(column): quoted field not closed before end of file")
        case LIO_ERR_RECORD_TOO_LONG: return .badFile("\(path): line \(line): record longer than the limit")
        case LIO_ERR_TOO_MANY_FIELDS: return .badFile("\(path): line \(line): more than \(LIO_MAX_FIELDS) fields")
        case LIO_ERR_NOMEM: return .outOfMemory("\(path): line \(line): out of memory")
        default: return .internalError("\(path): CSV reader status \(status)")
        }
    }
}

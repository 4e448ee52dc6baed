#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds the tables of a source folder: `NAME.csv` or `NAME.csv.gz`, in upper, lower or given case.
enum CohortFiles {
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func join(_ dir: String, _ name: String) -> String {
        dir.hasSuffix("/") ? dir + name : dir + "/" + name
    }

    /// The path of table `name` in `dir`, or nil.
    static func find(_ dir: String, _ name: String) -> String? {
        for base in [name, name.uppercased(), name.lowercased()] {
            for ext in [".csv", ".csv.gz"] {
                let p = join(dir, base + ext)
                if exists(p) { return p }
            }
        }
        return nil
    }

    /// The path of table `name` in `dir`, or `.io` naming the folder and the table.
    static func require(_ dir: String, _ name: String) throws(LeaderError) -> String {
        guard let p = find(dir, name) else {
            throw .io("\(dir): missing table \(name).csv or \(name).csv.gz (any case)")
        }
        return p
    }

    /// Lower-case table name of a path, without folder and extension (report keys).
    static func tableName(_ path: String) -> String {
        var name = Substring(path)
        if let slash = name.lastIndex(of: "/") { name = name[name.index(after: slash)...] }
        for ext in [".csv.gz", ".csv", ".gz", ".txt"] where name.lowercased().hasSuffix(ext) {
            name = name.dropLast(ext.count)
            break
        }
        return name.lowercased()
    }
}

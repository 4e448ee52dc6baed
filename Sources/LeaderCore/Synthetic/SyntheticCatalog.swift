/// The embedded code tables (ICD-9 titles, ATC3 classes, drug products) parsed once, with every CSV field
/// pre-escaped to bytes so that writing a row is a few buffer copies.
struct SyntheticCatalog: Sendable {
    struct Code: Sendable {
        let code: String
        let shortTitle: String
        let longTitle: String
        /// `code` as a CSV field.
        let csv: [UInt8]
    }

    struct DrugClass: Sendable {
        let atc3: String
        /// The WHO name, upper case as in the WHO file.
        let whoName: String
        /// Indices into `products`, and their cumulative choice weights.
        var products: [Int] = []
        var cumulativeWeights: [Double] = []
    }

    struct Product: Sendable {
        let classIndex: Int
        let atc5: String
        let ingredient: String
        let drug: String
        let ndc: String
        /// The NDC is listed in the emitted `maps/ndc2atc3.csv` (otherwise only the name map resolves it).
        let mapped: Bool
        /// `DRUG_TYPE,DRUG,...,ROUTE` (the 13 PRESCRIPTIONS columns after ENDDATE) as CSV bytes.
        let csvTail: [UInt8]
        /// `drug_type,drug,...,route` (the 13 MIMIC-IV prescriptions columns after stoptime) as CSV bytes.
        let csv4Tail: [UInt8]
    }

    let diagnoses: [Code]
    let procedures: [Code]
    let classes: [DrugClass]
    let products: [Product]
    /// `products[i].classIndex`, flat (read per prescription).
    let productClass: [Int]
    /// Per class: its products and cumulative weights (read per drawn drug).
    let productChoice: [WeightedChoice]
    let diagnosisIndex: [String: Int]
    let procedureIndex: [String: Int]
    let classIndex: [String: Int]

    /// The catalog, parsed once per process.
    static func shared() throws(LeaderError) -> SyntheticCatalog { try cached.get() }

    private static let cached: Result<SyntheticCatalog, LeaderError> = {
        do throws(LeaderError) { return .success(try SyntheticCatalog()) } catch { return .failure(error) }
    }()

    private init() throws(LeaderError) {
        diagnoses = try Self.parseCodes(ICD9Catalog.diagnoses, "ICD9Catalog.diagnoses")
        procedures = try Self.parseCodes(ICD9Catalog.procedures, "ICD9Catalog.procedures")
        diagnosisIndex = Self.index(diagnoses.map(\.code))
        procedureIndex = Self.index(procedures.map(\.code))
        var classes: [DrugClass] = []
        for line in DrugCatalog.classes.split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 2, f[0].count == 4 else { throw .internalError("DrugCatalog.classes: bad line '\(line)'") }
            classes.append(DrugClass(atc3: f[0], whoName: f[1]))
        }
        let classIndex = Self.index(classes.map(\.atc3))
        var products: [Product] = []
        for line in DrugCatalog.products.split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 18, let ci = classIndex[f[0]], let weight = Double(f[17]), weight > 0 else {
                throw .internalError("DrugCatalog.products: bad line '\(line)'")
            }
            // DRUG_TYPE, DRUG, DRUG_NAME_POE, DRUG_NAME_GENERIC, FORMULARY_DRUG_CD, GSN, NDC, PROD_STRENGTH,
            // DOSE_VAL_RX, DOSE_UNIT_RX, FORM_VAL_DISP, FORM_UNIT_DISP, ROUTE
            let tail = [f[15], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11], f[12], f[13], f[14]]
            // MIMIC-IV: drug_type, drug, formulary_drug_cd, gsn, ndc, prod_strength, form_rx, dose_val_rx,
            // dose_unit_rx, form_val_disp, form_unit_disp, doses_per_24_hrs, route
            let tail4 = [f[15], f[3], f[6], f[7], f[8], f[9], "", f[10], f[11], f[12], f[13], "", f[14]]
            func joined(_ fields: [String]) -> [UInt8] {
                var bytes: [UInt8] = []
                for (i, v) in fields.enumerated() {
                    if i > 0 { bytes.append(UInt8(ascii: ",")) }
                    bytes += CSV.escaped(v)
                }
                return bytes
            }
            classes[ci].products.append(products.count)
            classes[ci].cumulativeWeights.append((classes[ci].cumulativeWeights.last ?? 0) + weight)
            products.append(Product(classIndex: ci, atc5: f[1], ingredient: f[2], drug: f[3], ndc: f[8],
                                    mapped: f[16] == "1", csvTail: joined(tail), csv4Tail: joined(tail4)))
        }
        for c in classes where c.products.isEmpty {
            throw .internalError("DrugCatalog: class \(c.atc3) has no product")
        }
        self.classes = classes
        self.products = products
        productClass = products.map(\.classIndex)
        productChoice = classes.map { WeightedChoice(items: $0.products, cumulativeWeights: $0.cumulativeWeights) }
        self.classIndex = classIndex
    }

    private static func parseCodes(_ text: String, _ what: String) throws(LeaderError) -> [Code] {
        var out: [Code] = []
        for line in text.split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 3, !f[0].isEmpty else { throw .internalError("\(what): bad line '\(line)'") }
            out.append(Code(code: f[0], shortTitle: f[1], longTitle: f[2], csv: CSV.escaped(f[0])))
        }
        return out
    }

    private static func index(_ keys: [String]) -> [String: Int] {
        var d: [String: Int] = [:]
        for (i, k) in keys.enumerated() { d[k] = i }
        return d
    }
}

/// Items with cumulative weights, drawn by weight.
final class WeightedChoice: Sendable {
    let items: [Int]
    let cumulativeWeights: [Double]
    init(items: [Int], cumulativeWeights: [Double]) {
        self.items = items
        self.cumulativeWeights = cumulativeWeights
    }
    func pick(_ rng: inout Xoshiro256) -> Int { CompiledSpec.pick(items, cumulativeWeights, &rng) }
}

/// Minimal RFC 4180 field escaping, as MIMIC-III's CSVs need it: a field containing a comma, quote, CR or LF is
/// quoted, with quotes doubled.
enum CSV {
    static func escaped(_ s: String) -> [UInt8] {
        let u = Array(s.utf8)
        guard u.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else { return u }
        var out: [UInt8] = [0x22]
        for b in u {
            if b == 0x22 { out.append(0x22) }
            out.append(b)
        }
        out.append(0x22)
        return out
    }
}

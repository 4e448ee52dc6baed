import FoundationEssentials

/// Teacher hidden states for offline distillation: one row of `dim` floats per training example (row i =
/// `train[i]`), kept in memory.
public struct TeacherFeatures: Sendable {
    public let dim: Int
    public let values: [Float]
    public init(dim: Int, values: [Float], rows: Int) throws(LeaderError) {
        guard dim > 0, values.count == (try Checked.product(rows, dim, "teacher features")) else {
            throw .invalidArgument("teacher features: \(values.count) values for \(rows) rows × \(dim)")
        }
        self.dim = dim
        self.values = values
    }

    /// Features keyed by dataset sample index: `matrix` holds one row of `dim` floats per sample of the
    /// dataset (row = sample index); the result has the rows of `samples` in order (e.g. the training
    /// examples' sample indices from `StudentDataset.sampleIndices(.train)`).
    public static func gather(matrix: [Float], dim: Int, samples: [Int]) throws(LeaderError) -> TeacherFeatures {
        guard dim > 0, matrix.count % dim == 0 else {
            throw .invalidArgument("teacher features: \(matrix.count) values are not rows of \(dim)")
        }
        let rows = matrix.count / dim
        var out = [Float]()
        out.reserveCapacity(try Checked.product(samples.count, dim, "teacher features"))
        for s in samples {
            guard s >= 0, s < rows else { throw .invalidArgument("teacher features: no row for sample \(s) (\(rows) rows)") }
            out += matrix[(s * dim)..<((s + 1) * dim)]
        }
        return try TeacherFeatures(dim: dim, values: out, rows: samples.count)
    }
}

import CLeaderKernels

/// Concatenation along the last dimension: inputs (..., Cᵢ) with equal leading dimensions → (..., ΣCᵢ).
/// Backward splits dOut and accumulates each slice into the matching input gradient.
public final class Concat {
    private var widths: [Int] = []
    private var leading: [Int] = []
    private var output: Tensor?

    public init() {}

    public func forward(_ inputs: [Tensor], _ ctx: Context) throws(LeaderError) -> Tensor {
        guard let first = inputs.first, first.rank >= 1 else { throw .invalidArgument("concat: no inputs") }
        let lead = Array(first.shape.dropLast())
        var total = 0
        for x in inputs {
            guard x.rank == first.rank, Array(x.shape.dropLast()) == lead, let w = x.shape.last else {
                throw .invalidArgument("concat: shape \(x.shape) does not match \(first.shape) before the last dim")
            }
            total = try Checked.sum(total, w, "concat width")
        }
        let y = try Workspace.ensure(&output, lead + [total])
        let rows = try Shape.count(lead)
        var col = 0
        for x in inputs {
            let w = x.shape[x.rank - 1]
            lk_copy_cols(y.pointer + col, Int64(total), x.pointer, Int64(w), Int64(rows), Int64(w), 0, ctx.t32)
            col += w
        }
        widths = inputs.map { $0.shape[$0.rank - 1] }
        leading = lead
        return y
    }

    /// dIns[i] += the i-th column block of dOut; nil entries are skipped.
    public func backward(_ dOut: Tensor, into dIns: [Tensor?], _ ctx: Context) throws(LeaderError) {
        let total = widths.reduce(0, +)
        guard !widths.isEmpty else { throw .invalidArgument("concat: backward called before forward") }
        try Checks.same(dOut, leading + [total], "concat dOut")
        guard dIns.count == widths.count else {
            throw .invalidArgument("concat: \(dIns.count) gradients for \(widths.count) inputs")
        }
        let rows = dOut.count / max(total, 1)
        var col = 0
        for (dIn, w) in zip(dIns, widths) {
            if let dIn {
                try Checks.same(dIn, leading + [w], "concat dIn")
                lk_copy_cols(dIn.pointer, Int64(w), dOut.pointer + col, Int64(total), Int64(rows), Int64(w), 1,
                             ctx.t32)
            }
            col += w
        }
    }
}

import CLeaderKernels

/// Mean over the first `len[b]` positions of each sequence: (B,T,C) → (B,C); a length-0 sequence gives 0.
public final class MaskedMeanPool {
    private var lengths: IndexTensor?
    private var inputShape: [Int]?
    private var output: Tensor?

    public init() {}

    public func forward(_ x: Tensor, lengths: IndexTensor, _ ctx: Context) throws(LeaderError) -> Tensor {
        guard x.rank == 3 else { throw .invalidArgument("masked mean-pool: expected (B,T,C), got \(x.shape)") }
        let (b, t) = try Checks.sequence(x, lengths: lengths, channels: x.shape[2], "masked mean-pool")
        let c = x.shape[2]
        let y = try Workspace.ensure(&output, [b, c])
        lk_masked_mean_forward(y.pointer, x.pointer, lengths.pointer, Int64(b), Int64(t), Int64(c), ctx.t32)
        self.lengths = lengths
        inputShape = x.shape
        return y
    }

    public func backward(_ dOut: Tensor, into dIn: Tensor, _ ctx: Context) throws(LeaderError) {
        let shape = try Checks.cached(inputShape, "masked mean-pool")
        let lengths = try Checks.cached(lengths, "masked mean-pool")
        try Checks.same(dOut, [shape[0], shape[2]], "masked mean-pool dOut")
        try Checks.same(dIn, shape, "masked mean-pool dIn")
        lk_masked_mean_backward(dIn.pointer, dOut.pointer, lengths.pointer, Int64(shape[0]), Int64(shape[1]),
                                Int64(shape[2]), ctx.t32)
    }
}

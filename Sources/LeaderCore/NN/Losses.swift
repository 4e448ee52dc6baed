import CLeaderKernels

/// Mean binary cross-entropy with logits (PyTorch `BCEWithLogitsLoss`, optional per-element weights).
public final class BCEWithLogitsLoss {
    private var saved: (logits: Tensor, targets: Tensor, weights: Tensor?)?

    public init() {}

    public func forward(_ logits: Tensor, targets: Tensor, weights: Tensor? = nil, _ ctx: Context)
        throws(LeaderError) -> Float
    {
        try Checks.same(targets, logits.shape, "BCE targets")
        if let weights { try Checks.same(weights, logits.shape, "BCE weights") }
        guard logits.count > 0 else { throw .invalidArgument("BCE: empty logits") }
        var loss: Float = 0
        lk_bce_logits_forward(&loss, logits.pointer, targets.pointer, weights?.pointer, Int64(logits.count),
                              ctx.t32)
        saved = (logits, targets, weights)
        return loss
    }

    /// dLogits += dLoss · ∂loss/∂logits.
    public func backward(_ dLoss: Float = 1, into dLogits: Tensor, _ ctx: Context) throws(LeaderError) {
        let s = try Checks.cached(saved, "BCE")
        try Checks.same(dLogits, s.logits.shape, "BCE dLogits")
        lk_bce_logits_backward(dLogits.pointer, dLoss, s.logits.pointer, s.targets.pointer, s.weights?.pointer,
                               Int64(s.logits.count), ctx.t32)
    }
}

/// Mean squared error `mean((a-b)²)`.
public final class MSELoss {
    private var saved: (a: Tensor, b: Tensor)?

    public init() {}

    public func forward(_ a: Tensor, _ b: Tensor, _ ctx: Context) throws(LeaderError) -> Float {
        try Checks.same(b, a.shape, "MSE")
        guard a.count > 0 else { throw .invalidArgument("MSE: empty input") }
        var loss: Float = 0
        lk_mse_forward(&loss, a.pointer, b.pointer, Int64(a.count), ctx.t32)
        saved = (a, b)
        return loss
    }

    /// dA += dLoss·2(a-b)/n and, when given, dB -= the same.
    public func backward(_ dLoss: Float = 1, intoA dA: Tensor?, intoB dB: Tensor? = nil, _ ctx: Context)
        throws(LeaderError)
    {
        let s = try Checks.cached(saved, "MSE")
        if let dA { try Checks.same(dA, s.a.shape, "MSE dA") }
        if let dB { try Checks.same(dB, s.a.shape, "MSE dB") }
        guard dA != nil || dB != nil else { return }
        // The kernel needs a da buffer; when only dB is wanted, accumulate into dB with the sign flipped.
        if let dA {
            lk_mse_backward(dA.pointer, dB?.pointer, dLoss, s.a.pointer, s.b.pointer, Int64(s.a.count), ctx.t32)
        } else if let dB {
            lk_mse_backward(dB.pointer, nil, dLoss, s.b.pointer, s.a.pointer, Int64(s.a.count), ctx.t32)
        }
    }
}

/// Softmax cross-entropy over (rows, classes) logits with one Int32 target per row; rows with a negative
/// target are ignored; the loss is the mean over the others.
public final class CrossEntropyLoss {
    private var probs: Tensor?
    private var targets: IndexTensor?

    public init() {}

    public func forward(_ logits: Tensor, targets: IndexTensor, _ ctx: Context) throws(LeaderError) -> Float {
        guard logits.rank == 2, targets.shape == [logits.shape[0]] else {
            throw .invalidArgument("cross-entropy: logits \(logits.shape) and targets \(targets.shape) disagree")
        }
        let classes = logits.shape[1]
        if let t = targets.firstValue(outside: Int32.min, Int32(clamping: classes)) {
            throw .invalidArgument("cross-entropy: target \(t) outside \(classes) classes")
        }
        let p = try Workspace.ensure(&probs, logits.shape)
        var loss: Float = 0
        lk_cross_entropy_forward(&loss, p.pointer, logits.pointer, targets.pointer, Int64(logits.shape[0]),
                                 Int64(classes), ctx.t32)
        self.targets = targets
        return loss
    }

    public func backward(_ dLoss: Float = 1, into dLogits: Tensor, _ ctx: Context) throws(LeaderError) {
        let p = try Checks.cached(probs, "cross-entropy"), t = try Checks.cached(targets, "cross-entropy")
        try Checks.same(dLogits, p.shape, "cross-entropy dLogits")
        lk_cross_entropy_backward(dLogits.pointer, dLoss, p.pointer, t.pointer, Int64(p.shape[0]),
                                  Int64(p.shape[1]), ctx.t32)
    }
}

/// InfoNCE between paired rows of `a` (N,D) and `b` (N,D): logits = a·bᵀ/τ, target of row i is column i,
/// loss = mean cross-entropy. (Standard InfoNCE: the positive stays in the denominator.)
public final class InfoNCELoss {
    public let temperature: Float
    private let ce = CrossEntropyLoss()
    private var saved: (a: Tensor, b: Tensor)?
    private var logits: Tensor?, dLogits: Tensor?
    private var diagonal: IndexTensor?

    public init(temperature: Float = 1) throws(LeaderError) {
        guard temperature > 0 else { throw .invalidArgument("InfoNCE temperature must be > 0, got \(temperature)") }
        self.temperature = temperature
    }

    public func forward(_ a: Tensor, _ b: Tensor, _ ctx: Context) throws(LeaderError) -> Float {
        guard a.rank == 2, a.shape == b.shape, a.shape[0] > 0 else {
            throw .invalidArgument("InfoNCE: expected two (N,D) inputs of the same shape, got \(a.shape), \(b.shape)")
        }
        let n = a.shape[0], d = a.shape[1]
        let l = try Workspace.ensure(&logits, [n, n])
        Gemm.run(l.pointer, a.pointer, b.pointer, m: n, n: n, k: d, transB: true, alpha: 1 / temperature,
                 threads: ctx.threads)
        let targets = try Workspace.ensure(&diagonal, [n])
        lk_iota_i32(targets.pointer, Int64(n), ctx.t32)
        saved = (a, b)
        return try ce.forward(l, targets: targets, ctx)
    }

    /// dA += dLoss·∂/∂a, dB += dLoss·∂/∂b (either may be nil).
    public func backward(_ dLoss: Float = 1, intoA dA: Tensor?, intoB dB: Tensor?, _ ctx: Context)
        throws(LeaderError)
    {
        let s = try Checks.cached(saved, "InfoNCE")
        let n = s.a.shape[0], d = s.a.shape[1]
        let dl = try Workspace.zeroed(&dLogits, [n, n])
        try ce.backward(dLoss, into: dl, ctx)
        if let dA {
            try Checks.same(dA, s.a.shape, "InfoNCE dA")
            Gemm.run(dA.pointer, dl.pointer, s.b.pointer, m: n, n: d, k: n, alpha: 1 / temperature, beta: 1,
                     threads: ctx.threads)
        }
        if let dB {
            try Checks.same(dB, s.b.shape, "InfoNCE dB")
            Gemm.run(dB.pointer, dl.pointer, s.a.pointer, m: n, n: d, k: n, transA: true, alpha: 1 / temperature,
                     beta: 1, threads: ctx.threads)
        }
    }
}

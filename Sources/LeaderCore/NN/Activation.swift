import CLeaderKernels

/// Pointwise activation functions of `lk_activation_*`.
public enum ActivationKind: Int32, Sendable, Codable {
    case relu = 0, geluTanh = 1, silu = 2, tanh = 3, sigmoid = 4
}

/// `y = f(x)` elementwise.
public final class Activation: Layer {
    public let kind: ActivationKind
    private var input: Tensor?
    private var output: Tensor?

    public init(_ kind: ActivationKind) { self.kind = kind }

    public func forward(_ x: Tensor, _ ctx: Context) throws(LeaderError) -> Tensor {
        let y = try Workspace.ensure(&output, x.shape)
        lk_activation_forward(y.pointer, x.pointer, Int64(x.count), kind.rawValue, ctx.t32)
        input = x
        return y
    }

    public func backward(_ dOut: Tensor, into dIn: Tensor?, _ ctx: Context) throws(LeaderError) {
        let x = try Checks.cached(input, "activation")
        try Checks.same(dOut, x.shape, "activation dOut")
        guard let dIn else { return }
        try Checks.same(dIn, x.shape, "activation dIn")
        lk_activation_backward(dIn.pointer, dOut.pointer, x.pointer, Int64(x.count), kind.rawValue, ctx.t32)
    }
}

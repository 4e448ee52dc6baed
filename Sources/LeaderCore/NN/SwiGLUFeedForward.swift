import CLeaderKernels

/// LLaMA feed-forward: `down(silu(gate(x)) * up(x))`, no biases. Parameters `<name>.gate.weight`,
/// `<name>.up.weight`, `<name>.down.weight`.
public final class SwiGLUFeedForward: Layer {
    public let gate: Linear
    public let up: Linear
    public let down: Linear
    private var gateOut: Tensor?
    private var upOut: Tensor?
    private var hidden: Tensor?
    private var dGate: Tensor?
    private var dUp: Tensor?
    private var dHidden: Tensor?

    public init(_ store: ParameterStore, _ name: String, channels: Int, hidden: Int) throws(LeaderError) {
        gate = try Linear(store, "\(name).gate", inFeatures: channels, outFeatures: hidden, bias: false)
        up = try Linear(store, "\(name).up", inFeatures: channels, outFeatures: hidden, bias: false)
        down = try Linear(store, "\(name).down", inFeatures: hidden, outFeatures: channels, bias: false)
    }

    /// A second instance over the SAME parameters with its own forward caches (weight sharing: apply one
    /// module to several inputs in one step; gradients of all instances accumulate into the same store).
    public init(sharingParametersOf other: SwiGLUFeedForward) {
        gate = Linear(sharingParametersOf: other.gate)
        up = Linear(sharingParametersOf: other.up)
        down = Linear(sharingParametersOf: other.down)
    }

    public func forward(_ x: Tensor, _ ctx: Context) throws(LeaderError) -> Tensor {
        let g = try gate.forward(x, ctx)
        let u = try up.forward(x, ctx)
        let h = try Workspace.ensure(&hidden, g.shape)
        lk_swiglu_forward(h.pointer, g.pointer, u.pointer, Int64(h.count), ctx.t32)
        gateOut = g
        upOut = u
        return try down.forward(h, ctx)
    }

    public func backward(_ dOut: Tensor, into dIn: Tensor?, _ ctx: Context) throws(LeaderError) {
        let h = try Checks.cached(hidden, "\(down.weight.name)")
        let dh = try Workspace.zeroed(&dHidden, h.shape)
        try down.backward(dOut, into: dh, ctx)
        let dg = try Workspace.zeroed(&dGate, h.shape)
        let du = try Workspace.zeroed(&dUp, h.shape)
        let g = try Checks.cached(gateOut, gate.weight.name), u = try Checks.cached(upOut, up.weight.name)
        lk_swiglu_backward(dg.pointer, du.pointer, dh.pointer, g.pointer, u.pointer, Int64(h.count), ctx.t32)
        try gate.backward(dg, into: dIn, ctx)
        try up.backward(du, into: dIn, ctx)
    }
}

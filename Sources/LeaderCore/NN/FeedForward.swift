/// Transformer feed-forward: `Linear(C→F) → activation → Dropout → Linear(F→C)` (BERT / LEADER student).
/// Parameters `<name>.fc1.*`, `<name>.fc2.*`.
public final class FeedForward: Layer {
    public let fc1: Linear
    public let act: Activation
    public let dropout: Dropout
    public let fc2: Linear
    private var dHidden: Tensor?
    private var dAct: Tensor?

    public init(_ store: ParameterStore, _ name: String, channels: Int, hidden: Int,
                activation: ActivationKind = .geluTanh, dropout p: Float = 0, bias: Bool = true) throws(LeaderError)
    {
        fc1 = try Linear(store, "\(name).fc1", inFeatures: channels, outFeatures: hidden, bias: bias)
        act = Activation(activation)
        dropout = try Dropout(p: p)
        fc2 = try Linear(store, "\(name).fc2", inFeatures: hidden, outFeatures: channels, bias: bias)
    }

    /// A second instance over the SAME parameters with its own forward caches (weight sharing: apply one
    /// module to several inputs in one step; gradients of all instances accumulate into the same store).
    public init(sharingParametersOf other: FeedForward) throws(LeaderError) {
        fc1 = Linear(sharingParametersOf: other.fc1)
        act = Activation(other.act.kind)
        dropout = try Dropout(p: other.dropout.p)
        fc2 = Linear(sharingParametersOf: other.fc2)
    }

    public func forward(_ x: Tensor, _ ctx: Context) throws(LeaderError) -> Tensor {
        let h = try fc1.forward(x, ctx)
        let a = try act.forward(h, ctx)
        let d = try dropout.forward(a, ctx)
        return try fc2.forward(d, ctx)
    }

    public func backward(_ dOut: Tensor, into dIn: Tensor?, _ ctx: Context) throws(LeaderError) {
        let shape = Array(dOut.shape.dropLast()) + [fc1.outFeatures]
        let dd = try Workspace.zeroed(&dHidden, shape)
        try fc2.backward(dOut, into: dd, ctx)
        let da = try Workspace.zeroed(&dAct, shape)
        try dropout.backward(dd, into: da, ctx)
        dd.zero()
        try act.backward(da, into: dd, ctx)
        try fc1.backward(dd, into: dIn, ctx)
    }
}

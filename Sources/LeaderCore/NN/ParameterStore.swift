/// A handle to one registered parameter: where its values (and gradients) sit in the flat buffers.
public struct Parameter: Sendable, Equatable {
    public let index: Int
    public let name: String
    public let offset: Int
    public let shape: [Int]
    public let count: Int
}

/// All trainable parameters of a model in ONE contiguous, 64-byte-aligned Float buffer, with a gradient
/// buffer of identical layout. Modules register `name + shape` while they are built and keep the returned
/// `Parameter`; `value(_:)` / `grad(_:)` give views into the flat buffers. Optimisers run one kernel over
/// the whole buffer. Each parameter starts on a 16-float (64-byte) boundary; the padding between them is
/// zero in values and gradients, so it never moves.
///
/// Names are dotted paths (`encoder.layers.0.attn.q.weight`), unique, kept in registration order.
/// Frozen weights (a teacher's base model) go in a store made with `trainable: false`: it has no gradient
/// buffer, modules over it skip their parameter-gradient work (they still pass gradients to their inputs),
/// and optimisers refuse it.
public final class ParameterStore {
    public private(set) var parameters: [Parameter] = []
    private var byName: [String: Int] = [:]
    /// Floats in use (including alignment padding); optimiser state has this size.
    public private(set) var count: Int = 0
    public private(set) var values: AlignedBuffer<Float>
    public private(set) var grads: AlignedBuffer<Float>
    public let seed: UInt64
    public let threads: Int
    /// false: frozen weights, no gradient buffer.
    public let trainable: Bool

    static let alignment = 16

    /// `seed` keys the random initialisers (parameter i uses `SplitMix64.derive(seed, i)`).
    public init(seed: UInt64, threads: Int = 1, trainable: Bool = true) throws(LeaderError) {
        self.seed = seed
        self.trainable = trainable
        self.threads = try Threads.resolve(threads)
        self.values = try AlignedBuffer<Float>(count: 0)
        self.grads = try AlignedBuffer<Float>(count: 0)
    }

    /// Registers a parameter and initialises it. Throws on a duplicate name or a bad shape.
    @discardableResult
    public func register(_ name: String, shape: [Int], initializer: Initializer) throws(LeaderError) -> Parameter {
        guard !name.isEmpty else { throw .invalidArgument("parameter name must not be empty") }
        guard byName[name] == nil else { throw .invalidArgument("parameter \(name) registered twice") }
        let n = try Shape.count(shape, "parameter \(name)")
        let offset = try Checked.product((count + Self.alignment - 1) / Self.alignment, Self.alignment,
                                         "parameter offset")
        let end = try Checked.sum(offset, n, "parameter store size")
        try reserve(end)
        let p = Parameter(index: parameters.count, name: name, offset: offset, shape: shape, count: n)
        parameters.append(p)
        byName[name] = p.index
        count = end
        initializer.fill(value(p), seed: SplitMix64.derive(seed, UInt64(p.index)), threads: threads)
        return p
    }

    /// The parameter called `name`, if any.
    public func parameter(named name: String) -> Parameter? {
        byName[name].map { parameters[$0] }
    }

    /// View of a parameter's values (valid until the next `register`).
    public func value(_ p: Parameter) -> Tensor {
        // Offsets and shapes were validated at registration against the buffer, which only grows.
        Tensor(uncheckedView: values, offset: p.offset, shape: p.shape, count: p.count)
    }

    /// View of a parameter's gradient (valid until the next `register`). Only for trainable stores.
    public func grad(_ p: Parameter) -> Tensor {
        precondition(trainable, "gradient of \(p.name) requested from a frozen parameter store")
        return Tensor(uncheckedView: grads, offset: p.offset, shape: p.shape, count: p.count)
    }

    /// Flat views over everything (what optimisers and clipping use).
    public var flatValues: Tensor { Tensor(uncheckedView: values, offset: 0, shape: [count], count: count) }
    /// All gradients; empty for a frozen store.
    public var flatGrads: Tensor {
        Tensor(uncheckedView: grads, offset: 0, shape: [gradCount], count: gradCount)
    }

    /// Floats in the gradient buffer: `count`, or 0 for a frozen store.
    public var gradCount: Int { trainable ? count : 0 }

    public func zeroGrad() { grads.zero() }

    /// Overwrites the values of `name` (checkpoint loading, fixtures). Shape and count must match.
    public func load(_ name: String, values newValues: [Float], shape: [Int]? = nil) throws(LeaderError) {
        guard let p = parameter(named: name) else { throw .invalidArgument("unknown parameter \(name)") }
        if let shape, shape != p.shape {
            throw .invalidArgument("parameter \(name): shape \(shape) does not match \(p.shape)")
        }
        guard newValues.count == p.count else {
            throw .invalidArgument("parameter \(name): \(newValues.count) values for shape \(p.shape)")
        }
        try value(p).copy(from: newValues)
    }

    /// Number of trainable scalars (without padding).
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    private func reserve(_ needed: Int) throws(LeaderError) {
        guard needed > values.count else { return }
        let capacity = max(needed, values.count > Int.max / 2 ? needed : values.count * 2, 1024)
        let v = try AlignedBuffer<Float>(count: capacity)
        Memory.copy(v.base, from: values.base, count: count)
        values = v
        if trainable {
            let g = try AlignedBuffer<Float>(count: capacity)
            Memory.copy(g.base, from: grads.base, count: count)
            grads = g
        }
    }
}

/// Shape checks shared by the modules; each throws `.invalidArgument` naming the module and shapes.
enum Checks {
    /// Rows of `x` seen as (rows, lastDim); x must have rank >= 1 and last dimension `lastDim`.
    static func rows(_ x: Tensor, lastDim: Int, _ what: @autoclosure () -> String) throws(LeaderError) -> Int {
        guard let last = x.shape.last, last == lastDim, lastDim > 0 else {
            throw .invalidArgument("\(what()): expected last dimension \(lastDim), got shape \(x.shape)")
        }
        return x.count / lastDim
    }

    static func same(_ a: Tensor, _ b: [Int], _ what: @autoclosure () -> String) throws(LeaderError) {
        guard a.shape == b else { throw .invalidArgument("\(what()): expected shape \(b), got \(a.shape)") }
    }

    /// The forward cache a backward needs, or an error when backward runs without a forward.
    static func cached<T>(_ v: T?, _ what: @autoclosure () -> String) throws(LeaderError) -> T {
        guard let v else { throw .invalidArgument("\(what()): backward called before forward") }
        return v
    }

    /// (B,T,C) shape of a sequence batch plus per-sample lengths in [0,T].
    static func sequence(_ x: Tensor, lengths: IndexTensor, channels: Int,
                         _ what: @autoclosure () -> String) throws(LeaderError) -> (b: Int, t: Int) {
        guard x.rank == 3, x.shape[2] == channels else {
            throw .invalidArgument("\(what()): expected (B,T,\(channels)) input, got \(x.shape)")
        }
        guard lengths.shape == [x.shape[0]] else {
            throw .invalidArgument("\(what()): lengths shape \(lengths.shape) does not match batch \(x.shape[0])")
        }
        let t = x.shape[1]
        guard t < Int(Int32.max) else { throw .invalidArgument("\(what()): sequence length \(t) too large") }
        if let l = lengths.firstValue(outside: 0, Int32(t) + 1) {
            throw .invalidArgument("\(what()): sequence length \(l) outside [0, \(t)]")
        }
        return (x.shape[0], t)
    }
}

/// Per-run settings every forward/backward call receives: the explicit thread count, train/eval mode,
/// and the dropout random stream. One context per training loop or serving session; not shared by threads.
///
/// Dropout sites draw a fresh key with `nextDropoutKey()` in forward and keep it for backward, so a step is
/// reproducible from (`seed`, number of keys drawn so far) and independent of the thread count.
public final class Context {
    public let threads: Int
    public var training: Bool
    public let seed: UInt64
    public private(set) var dropoutKeysDrawn: UInt64 = 0

    /// `threads` 0 means "online CPUs"; otherwise 1...1024.
    public init(threads: Int = 1, training: Bool = false, seed: UInt64 = 0) throws(LeaderError) {
        self.threads = try Threads.resolve(threads)
        self.training = training
        self.seed = seed
    }

    /// A new seed for one dropout application.
    public func nextDropoutKey() -> UInt64 {
        defer { dropoutKeysDrawn &+= 1 }
        return SplitMix64.derive(seed, dropoutKeysDrawn)
    }

    /// Restores the random stream position (resuming from a train-state file).
    public func setDropoutKeysDrawn(_ n: UInt64) { dropoutKeysDrawn = n }

    var t32: Int32 { Int32(threads) }
}

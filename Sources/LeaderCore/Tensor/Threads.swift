import CLeaderKernels

/// Thread-count policy: every kernel call gets an explicit count; 0 from a caller means "online CPUs".
public enum Threads {
    /// Number of online CPUs (never reads OMP_NUM_THREADS).
    public static var online: Int { Int(lk_num_cpus()) }

    /// Validates a caller's thread count: 0 → online CPUs, 1...1024 kept, anything else rejected.
    public static func resolve(_ n: Int, _ what: String = "n_threads") throws(LeaderError) -> Int {
        if n == 0 { return online }
        guard (1...1024).contains(n) else { throw .invalidArgument("\(what) must be 0 or 1...1024, got \(n)") }
        return n
    }

    /// Name of the kernel ISA in use ("avx512", "avx2" or "generic").
    public static var isaName: String { String(cString: lk_isa_name(lk_isa_active())) }
}

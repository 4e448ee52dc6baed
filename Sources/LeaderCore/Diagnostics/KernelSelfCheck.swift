import CLeaderKernels

/// A quick end-to-end check of the GEMM kernels on this machine: each ISA the CPU supports against the
/// naive reference, at 1 and `threads` threads, plus throughput. Used by `leader demo`.
public struct KernelSelfCheck: Sendable {
    public struct Result: Sendable, Codable {
        public var isa: String
        public var shape: [Int]
        public var threads: Int
        public var maxRelativeError: Double
        public var gflops: Double
        public var passed: Bool
    }

    public init() {}

    public func run(threads: Int, seed: UInt64 = 42) -> [Result] {
        let shapes = [(64, 1536, 384), (129, 70, 33), (256, 256, 256)]
        var results: [Result] = []
        for isa in Int32(LK_ISA_GENERIC)...lk_isa_best() {
            for (m, n, k) in shapes {
                for t in Set([1, threads]).sorted() {
                    results.append(check(isa: isa, m: m, n: n, k: k, threads: t, seed: seed))
                }
            }
        }
        return results
    }

    private func check(isa: Int32, m: Int, n: Int, k: Int, threads: Int, seed: UInt64) -> Result {
        var a = [Float](repeating: 0, count: m * k)
        var b = [Float](repeating: 0, count: k * n)
        a.withUnsafeMutableBufferPointer { lk_rng_fill_uniform($0.baseAddress, Int64(m * k), -1, 1, seed, 0, 1) }
        b.withUnsafeMutableBufferPointer { lk_rng_fill_uniform($0.baseAddress, Int64(k * n), -1, 1, seed, 1 << 32, 1) }
        var fast = [Float](repeating: 0, count: m * n)
        var ref = [Float](repeating: 0, count: m * n)
        lk_sgemm_ref(&ref, Int64(n), a, Int64(k), b, Int64(n), Int64(m), Int64(n), Int64(k), 0, 0, 1, 0)
        let clock = ContinuousClock()
        var best = Duration.seconds(1_000)
        for _ in 0..<5 {
            let t0 = clock.now
            lk_sgemm_isa(isa, &fast, Int64(n), a, Int64(k), b, Int64(n), Int64(m), Int64(n), Int64(k), 0, 0, 1, 0,
                         Int32(threads))
            best = min(best, clock.now - t0)
        }
        var worst = 0.0
        for i in 0..<(m * n) {
            let err = abs(Double(fast[i]) - Double(ref[i])) / max(1, abs(Double(ref[i])))
            worst = max(worst, err)
        }
        let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) * 1e-18
        let gflops = 2.0 * Double(m * n * k) / max(seconds, 1e-9) / 1e9
        return Result(isa: String(cString: lk_isa_name(isa)), shape: [m, n, k], threads: threads,
                      maxRelativeError: worst, gflops: gflops, passed: worst < 1e-4)
    }
}

import CLeader
import CLeaderKernels
import LeaderCore

@c @implementation
public func leader_sgemm(_ m: Int64, _ n: Int64, _ k: Int64, _ alpha: Float,
                         _ a: UnsafePointer<Float>?, _ lda: Int64, _ b: UnsafePointer<Float>?, _ ldb: Int64,
                         _ beta: Float, _ c: UnsafeMutablePointer<Float>?, _ ldc: Int64,
                         _ nThreads: Int32) -> Int32 {
    boundary { () throws(LeaderError) in
        let f = "leader_sgemm"
        guard m >= 0, n >= 0, k >= 0 else { throw .invalidArgument("\(f): negative size (m=\(m), n=\(n), k=\(k))") }
        guard lda >= max(k, 1), ldb >= max(n, 1), ldc >= max(n, 1) else {
            throw .invalidArgument("\(f): leading dimension too small (lda=\(lda) k=\(k), ldb=\(ldb) n=\(n), ldc=\(ldc) n=\(n))")
        }
        _ = try Checked.product(Int(m), Int(lda), "\(f): A")
        _ = try Checked.product(Int(k), Int(ldb), "\(f): B")
        _ = try Checked.product(Int(m), Int(ldc), "\(f): C")
        let threads = try Threads.resolve(Int(nThreads), "\(f): n_threads")
        let c = try required(c, "c", f)
        if m == 0 || n == 0 { return }
        let a = k == 0 ? nil : try required(a, "a", f)
        let b = k == 0 ? nil : try required(b, "b", f)
        lk_sgemm(c, ldc, a, lda, b, ldb, m, n, k, 0, 0, alpha, beta, Int32(threads))
    }
}

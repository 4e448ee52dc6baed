import CLeaderKernels

/// Row-major matrix products over `CLeaderKernels` (`C = alpha*op(A)*op(B) + beta*C`). Callers pass
/// contiguous matrices; leading dimensions follow from the stored shapes.
enum Gemm {
    /// One product: op(A) is (m,k), op(B) is (k,n), C is (m,n).
    static func run(_ c: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                    m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
                    alpha: Float = 1, beta: Float = 0, threads: Int) {
        let lda = transA ? m : k
        let ldb = transB ? k : n
        lk_sgemm(c, Int64(n), a, Int64(lda), b, Int64(ldb), Int64(m), Int64(n), Int64(k),
                 transA ? 1 : 0, transB ? 1 : 0, alpha, beta, Int32(threads))
    }

    /// `batch` independent products over consecutive (m,k)/(k,n)/(m,n) blocks (strides are the block sizes).
    static func batched(_ c: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                        batch: Int, m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
                        alpha: Float = 1, beta: Float = 0, threads: Int) {
        let lda = transA ? m : k
        let ldb = transB ? k : n
        lk_sgemm_batched(c, Int64(n), Int64(m * n), a, Int64(lda), Int64(m * k), b, Int64(ldb), Int64(k * n),
                         Int64(batch), Int64(m), Int64(n), Int64(k), transA ? 1 : 0, transB ? 1 : 0, alpha, beta,
                         Int32(threads))
    }
}

import CLeaderKernels
import Foundation
import Testing

/// The teacher kernels (lk_teacher_ops.h) against their `_ref` twins, at 1 and 2 threads.
@Suite struct TeacherKernelTests {
    func values(_ n: Int, _ seed: Float) -> [Float] { (0..<n).map { sin(Float($0) * 0.731 + seed) * 1.7 } }

    @Test(arguments: [Int32(LK_DTYPE_F32), Int32(LK_DTYPE_F16), Int32(LK_DTYPE_BF16), Int32(LK_DTYPE_Q8_0),
                      Int32(LK_DTYPE_Q4_0), Int32(LK_DTYPE_Q4_1)])
    func quantisedEmbedding(_ dtype: Int32) {
        let vocab = 37, dim = 96
        let rowBytes = Int(lk_dtype_block_bytes(dtype)) * dim / Int(lk_dtype_block_size(dtype))
        var table = [UInt8](repeating: 0, count: vocab * rowBytes)
        let src = values(vocab * dim, 0.3)
        table.withUnsafeMutableBytes { t in
            for v in 0..<vocab {
                src.withUnsafeBufferPointer { s in
                    lk_quantize_row_ref(t.baseAddress! + v * rowBytes, s.baseAddress! + v * dim, Int64(dim), dtype)
                }
            }
        }
        let ids: [Int32] = [3, -1, 36, 0, 3, 17, -5, 9, 22, 1, 35]
        var want = [Float](repeating: .nan, count: ids.count * dim)
        lk_qembedding_forward_ref(&want, table, ids, Int64(ids.count), Int64(dim), dtype)
        for threads: Int32 in [1, 2] {
            var got = [Float](repeating: .nan, count: ids.count * dim)
            lk_qembedding_forward(&got, table, ids, Int64(ids.count), Int64(dim), dtype, threads)
            #expect(got == want)
        }
        // row 3 is the dequantised row, padding rows are zero
        var row = [Float](repeating: 0, count: dim)
        table.withUnsafeBytes { t in lk_dequantize_row_ref(&row, t.baseAddress! + 3 * rowBytes, Int64(dim), dtype) }
        #expect(Array(want[0..<dim]) == row)
        #expect(want[dim..<(2 * dim)].allSatisfy { $0 == 0 })
        #expect(zip(row, src[(3 * dim)..<(4 * dim)]).allSatisfy { abs($0 - $1) < 0.25 })
    }

    @Test func gatherLast() {
        let (b, t, c) = (4, 7, 33)
        let x = values(b * t * c, 1.1), dout = values(b * c, 2.2)
        let len: [Int32] = [7, 1, 0, 4]
        var want = [Float](repeating: .nan, count: b * c)
        lk_gather_last_forward_ref(&want, x, len, Int64(b), Int64(t), Int64(c))
        #expect(Array(want[0..<c]) == Array(x[(6 * c)..<(7 * c)]))
        #expect(want[(2 * c)..<(3 * c)].allSatisfy { $0 == 0 })
        var dWant = values(b * t * c, 3.3)
        let d0 = dWant
        lk_gather_last_backward_ref(&dWant, dout, len, Int64(b), Int64(t), Int64(c))
        #expect(dWant[(3 * t + 3) * c] == d0[(3 * t + 3) * c] + dout[3 * c])
        for threads: Int32 in [1, 2] {
            var got = [Float](repeating: .nan, count: b * c)
            lk_gather_last_forward(&got, x, len, Int64(b), Int64(t), Int64(c), threads)
            #expect(got == want)
            var d = d0
            lk_gather_last_backward(&d, dout, len, Int64(b), Int64(t), Int64(c), threads)
            #expect(d == dWant)
        }
    }

    @Test func argmaxRows() {
        var x = values(5 * 300, 0.7)
        x[2 * 300 + 17] = 9
        x[2 * 300 + 18] = 9                       // tie: the first wins
        x[3 * 300 + 0] = .nan                     // NaN never wins
        x[4 * 300 + 250] = .infinity
        var want = [Int32](repeating: -1, count: 5)
        lk_argmax_rows_ref(&want, x, 5, 300)
        #expect(want[2] == 17 && want[4] == 250 && want[3] != 0)
        for threads: Int32 in [1, 2] {
            var got = [Int32](repeating: -1, count: 5)
            lk_argmax_rows(&got, x, 5, 300, threads)
            #expect(got == want)
        }
    }
}

import CLeaderKernels

/// How the frozen quantised products (`QuantLinear`'s `x Wᵀ`) are computed.
/// - `fp32`: W's blocks are dequantised to f32 and multiplied with the f32 input (`lk_qgemm`): the exact product
///   of the stored weights; the golden tests against transformers use it.
/// - `int8`: the input rows are quantised to int8 blocks of 32 (`lk_quantize_q8a`, scale max|x|/127) and
///   multiplied with integer dot products (`lk_qgemm_q8`, AVX512-VNNI where available), as llama.cpp does for its
///   quantised matrices. Only for Q8_0 / Q4_0 / Q4_1 weights; other dtypes stay on the fp32 path. The LM head
///   (`LlamaDecoder.logits`, greedy decoding) follows it. The input gradient (`lk_qgemm_backward_input`) and the
///   LoRA adapter products stay fp32 in both modes.
/// - `bf16`: input and weight rounded to bfloat16, products summed in f32 (`lk_qgemm_bf16`; PyTorch's bf16
///   autocast arithmetic) on AMX tiles where the CPU has them (`lk_amx_available`), else with AVX512-BF16 dot
///   products (`VDPBF16PS`; int8 is faster there), else on a slow portable loop with the same rounding. Any
///   weight dtype. The input gradient through W (`lk_qgemm_bf16_backward_input`) is bf16 too; the LoRA adapter
///   products stay fp32. Products with fewer than 16 rows (decoding) stay fp32: converting the weight per call
///   would dominate.
/// The student's serving precision is its own type (`StudentPrecision`: no int8).
/// JSON / CLI spelling: `"fp32"`, `"int8"`, `"bf16"`.
public enum QuantPrecision: String, Codable, Sendable, CaseIterable {
    case fp32, int8, bf16

    /// Parses the CLI / JSON spelling.
    public init(parsing s: String) throws(LeaderError) {
        guard let p = QuantPrecision(rawValue: s) else {
            throw .invalidArgument("precision: expected fp32, int8 or bf16, got '\(s)'")
        }
        self = p
    }

    /// The integer code path `int8` takes on this CPU (`avx512-vnni`, `avx-vnni`, `avx2`, `generic`).
    public static var int8Path: String { String(cString: lk_qgemm_q8_path_name(lk_qgemm_q8_path_active())) }

    /// The path `bf16` takes in this process (`amx`, `avx512-bf16` or `portable`).
    public static var bf16Path: String { String(cString: lk_bf16_path_name(lk_bf16_path_active())) }
}

/// An input (rows, in) already quantised to int8 blocks (`lk_quantize_q8a`), shared by the linears that read the
/// same input (q/k/v, gate/up). A view of a scratch buffer: valid until the next quantisation into it.
public struct QuantizedInput {
    let source: UnsafeMutablePointer<Float>   // the x it was made from (identity check only)
    let blocks: Tensor                         // Q8A bytes, stored in f32 slots
    let rows: Int, width: Int

    /// x (rows, width; width a multiple of 32) quantised into `buffer` (grown as needed); `name` labels the
    /// size errors.
    init(_ x: Tensor, rows: Int, width: Int, into buffer: inout Tensor?, name: String, _ ctx: Context)
        throws(LeaderError)
    {
        let rowBytes = try Checked.product(width / 32, Int(LK_Q8A_BLOCK_BYTES), "\(name) int8 row")
        let bytes = try Checked.product(rows, rowBytes, "\(name) int8 input")
        let q = try Workspace.ensure(&buffer, [max(1, (bytes + 3) / 4)])
        lk_quantize_q8a(q.pointer, x.pointer, Int64(width), Int64(rows), Int64(width), ctx.t32)
        (source, blocks, self.rows, self.width) = (x.pointer, q, rows, width)
    }
}

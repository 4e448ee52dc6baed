import CLeaderKernels

/// The arithmetic of the student's serving linear layers (those after the code table; the table, attention,
/// norms and activations are always fp32).
/// - `fp32`: the packed fp32 GEMM micro-kernels; scores agree with `StudentModel` to ~1e-6.
/// - `bf16`: inputs and weights rounded to bfloat16, products summed in f32 (`lk_bf16_linear_forward`), on AMX
///   tiles where the CPU has them, else with AVX512-BF16 dot products (`VDPBF16PS`), else on a portable loop with
///   the same rounding; scores differ from fp32 by ~1e-3 (docs/student.md "Serving").
/// The student has no int8 path: that is a teacher option (`QuantPrecision`). JSON / CLI spelling: `"fp32"`,
/// `"bf16"`, and `"auto"` where a choice is asked for (`resolving(_:)`).
public enum StudentPrecision: String, Codable, Sendable, CaseIterable {
    case fp32, bf16

    /// `"fp32"`, `"bf16"`, or `"auto"` (bf16 where the CPU has a fast bf16 path, AMX tiles or AVX512-BF16: on
    /// AMD Zen 4 1.3–1.6× faster than fp32 per patient and 1.7× in batches, docs/benchmarks-student.md; else
    /// fp32); nil for anything else.
    public static func resolving(_ s: String) -> StudentPrecision? {
        s == "auto" ? (bf16Path == "portable" ? .fp32 : .bf16) : StudentPrecision(rawValue: s)
    }

    /// The path `bf16` takes in this process (`amx`, `avx512-bf16` or `portable`).
    public static var bf16Path: String { String(cString: lk_bf16_path_name(lk_bf16_path_active())) }
}

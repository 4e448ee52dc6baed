// Which kernel code paths this test run exercised, as one summary line, and a failure for any path the CPU
// supports that did not run. The dispatchers record every path they pick (lk_paths.h); this test runs one
// reference comparison per family and path (the same checks as the family's own tests) and then reads the
// record, so a dispatcher that silently falls back to a lower path (a clamp bug, a wrong CPU check) fails here.
import CLeaderKernels
import Testing

private struct Family {
    let id: Int32
    let name: String
    /// (path number, name, whether this CPU has it, the check that runs it)
    let paths: [(Int32, String, Bool, () -> Void)]
}

/// The LK_ISA_* paths; a check that loops over every ISA itself (`loopsOverISAs`) runs once, with the first.
private func isaPaths(loopsOverISAs: Bool = false, _ check: @escaping (Int32) -> Void) -> [(Int32, String, Bool, () -> Void)] {
    allISAs.map { isa in
        (isa, String(cString: lk_isa_name(isa)), isa <= lk_isa_best(),
         { if !loopsOverISAs || isa == allISAs[0] { check(isa) } })
    }
}

private func families() -> [Family] { [
    Family(id: Int32(LK_KFAM_SGEMM), name: "sgemm", paths: isaPaths { sgemmMatchesReference(isa: $0) }),
    Family(id: Int32(LK_KFAM_OPS), name: "ops", paths: isaPaths(loopsOverISAs: true) { _ in layernormMatchesReference(2) }),
    Family(id: Int32(LK_KFAM_CONVERT), name: "f16-convert",
           paths: isaPaths(loopsOverISAs: true) { _ in convertF32ToF16MatchesRef() }),
    Family(id: Int32(LK_KFAM_DEQUANT), name: "dequant", paths: isaPaths { dequantizeMatchesReferenceBitwise(isa: $0) }),
    Family(id: Int32(LK_KFAM_Q8), name: "int8",
           paths: [Int32(LK_Q8_PATH_GENERIC), Int32(LK_Q8_PATH_AVX2), Int32(LK_Q8_PATH_AVX_VNNI),
                   Int32(LK_Q8_PATH_AVX512_VNNI)].map { p in
               (p, String(cString: lk_qgemm_q8_path_name(p)), lk_qgemm_q8_path_clamp(p) == p,
                { int8GemmMatchesReference(path: p) })
           }),
    Family(id: Int32(LK_KFAM_BF16), name: "bf16",
           paths: allBf16Paths.map { p in
               (p, String(cString: lk_bf16_path_name(p)), lk_bf16_path_clamp(p) == p, { bf16LinearMatchesReference(path: p) })
           }),
] }

@Test func everyKernelPathTheCPUSupportsIsExercised() {
    var summary: [String] = []
    for family in families() {
        var parts: [String] = []
        for (path, name, supported, check) in family.paths {
            if supported { check() }
            let seen = lk_kpath_seen(family.id, path) != 0
            if supported && !seen {
                Issue.record("\(family.name) path \(name): the CPU has it, but the dispatcher never ran it")
            }
            parts.append("\(name) " + (seen ? "exercised" : supported ? "NOT EXERCISED" : "not on this CPU"))
        }
        summary.append("\(family.name) [\(parts.joined(separator: ", "))]")
    }
    print("kernel paths (best ISA \(String(cString: lk_isa_name(lk_isa_best())))): " + summary.joined(separator: "; "))
}

// The thread-local ISA override used by every ops test: it returns the previous value, clamps to the CPU, and
// really switches builds (otherwise the per-ISA tests would test one build three times).
import Testing
import CLeaderKernels

@Test func plainKernelIsItsISATwinWithTheActiveISA() {
    let n = 4096
    let x = bulkFloats(n, -5, 5, seed: 9)
    func gelu(_ isa: Int32?) -> [UInt32] {
        var y = [Float](repeating: 0, count: n)
        if let isa {
            lk_activation_forward_isa(isa, &y, x, Int64(n), Int32(LK_ACT_GELU_TANH), 1)
        } else {
            lk_activation_forward(&y, x, Int64(n), Int32(LK_ACT_GELU_TANH), 1)
        }
        return bits(y)
    }
    #expect(gelu(nil) == gelu(lk_isa_active()))
    #expect(gelu(99) == gelu(Int32(LK_ISA_GENERIC)), "an unknown ISA value runs the portable build")
}

@Test func isaTwinsSwitchBuilds() {
    // Generic code has no FMA; the AVX2/AVX-512 builds contract a*b+c, so GELU's polynomial rounds differently
    // in some elements. Only meaningful where the CPU has more than the baseline.
    guard lk_isa_best() > Int32(LK_ISA_GENERIC) else { return }
    let n = 4096
    let x = bulkFloats(n, -5, 5, seed: 9)
    func gelu(_ isa: Int32) -> [UInt32] {
        withISA(isa) {
            var y = [Float](repeating: 0, count: n)
            lk_activation_forward_isa(testISA, &y, x, Int64(n), Int32(LK_ACT_GELU_TANH), 1)
            return bits(y)
        }
    }
    #expect(gelu(Int32(LK_ISA_GENERIC)) != gelu(lk_isa_best()), "generic and \(isaName(lk_isa_best())) builds agree bitwise")
}

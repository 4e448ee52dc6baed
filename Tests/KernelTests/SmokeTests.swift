import Testing
import CLeaderKernels

@Test func isaIsKnown() {
    #expect(["avx512", "avx2", "generic"].contains(String(cString: lk_isa_name(lk_isa_active()))))
}

import CLeader
import Testing
@testable import Leader

@Test func abiVersionMatchesHeader() {
    #expect(leader_abi_version() == LEADER_ABI_VERSION)
}

import CLeader
import Testing
@testable import Leader
import CLeader

@Test func abiVersionMatchesHeader() {
    #expect(leader_abi_version() == LEADER_ABI_VERSION)
}

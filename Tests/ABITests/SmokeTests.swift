import Testing
@testable import Leader
import CLeader

@Test func abiVersion() { #expect(leader_abi_version() == 1) }

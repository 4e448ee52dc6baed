import Testing
@testable import Leader

@Test func abiVersion() { #expect(leader_abi_version() == 1) }

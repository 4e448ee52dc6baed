import Testing
@testable import LeaderCore

@Test func checkedProductOverflows() {
    expectError(.overflow, "x: 9223372036854775807 x 2 overflows") { try Checked.product(Int.max, 2, "x") }
    #expect((try? Checked.product(3, 4, "x")) == 12)
}

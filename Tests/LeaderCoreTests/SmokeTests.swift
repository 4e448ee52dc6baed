import Testing
@testable import LeaderCore

@Test func checkedProductOverflows() {
    #expect(throws: LeaderError.self) { try Checked.product(Int.max, 2, "x") }
    #expect((try? Checked.product(3, 4, "x")) == 12)
}

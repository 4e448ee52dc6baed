/// Element count of a shape, with checked arithmetic (shapes may come from callers or files).
public enum Shape {
    public static func count(_ shape: [Int], _ what: @autoclosure () -> String = "tensor") throws(LeaderError) -> Int {
        var n = 1
        for d in shape {
            guard d >= 0 else { throw .invalidArgument("\(what()): negative dimension in shape \(shape)") }
            n = try Checked.product(n, d, "\(what()) shape \(shape)")
        }
        return n
    }
}

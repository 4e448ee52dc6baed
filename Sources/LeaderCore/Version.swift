/// Library version and build facts shared by the CLI, the C ABI and checkpoints.
public enum LeaderVersion {
    public static let string: StaticString = "0.2.0"
    public static let abi: Int32 = 2
}

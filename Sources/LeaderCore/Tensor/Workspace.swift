/// Reusable activation buffers for modules: `Workspace.ensure(&slot, shape)` returns a tensor of `shape`
/// backed by the slot's storage, reallocating only when the storage is too small. Contents are not cleared.
public enum Workspace {
    public static func ensure(_ slot: inout Tensor?, _ shape: [Int]) throws(LeaderError) -> Tensor {
        let n = try Shape.count(shape)
        if let t = slot, t.storage.count >= n {
            let v = try Tensor(viewing: t.storage, offset: 0, shape: shape)
            slot = v
            return v
        }
        let t = try Tensor(zeros: shape)
        slot = t
        return t
    }

    /// As `ensure`, then zeroes the tensor (gradient buffers that backward kernels accumulate into).
    public static func zeroed(_ slot: inout Tensor?, _ shape: [Int]) throws(LeaderError) -> Tensor {
        let t = try ensure(&slot, shape)
        t.zero()
        return t
    }

    public static func ensure(_ slot: inout IndexTensor?, _ shape: [Int]) throws(LeaderError) -> IndexTensor {
        if let t = slot, t.shape == shape { return t }
        let t = try IndexTensor(zeros: shape)
        slot = t
        return t
    }
}

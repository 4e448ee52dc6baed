import CLeaderKernels

extension IndexTensor {
    /// The first value outside `lo..<hi`, or nil when all are inside (one kernel call, no Swift loop).
    public func firstValue(outside lo: Int32, _ hi: Int32) -> Int32? {
        let i = lk_find_out_of_range_i32(pointer, Int64(count), lo, hi)
        return i < 0 ? nil : pointer[Int(i)]
    }
}

extension Array {
    /// Fisher–Yates with j in 0...i drawn as the high word of `next() × (i + 1)` (a multiply, no modulo): the one
    /// seeded shuffle of the project (patient split, epoch order, bootstrap subsets). Unlike the standard library's
    /// `shuffle(using:)`, whose algorithm may change between Swift versions, the same generator state gives the same
    /// permutation everywhere, so splits and training runs reproduce.
    mutating func seededShuffle(using rng: inout some RandomNumberGenerator) {
        guard count > 1 else { return }
        for i in stride(from: count - 1, to: 0, by: -1) {
            swapAt(i, Int(rng.next().multipliedFullWidth(by: UInt64(i + 1)).high))
        }
    }
}

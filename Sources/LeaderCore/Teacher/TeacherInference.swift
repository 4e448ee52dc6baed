import CLeaderKernels

extension TeacherModel {
    /// Runs the model (eval mode, whole decoder) over `examples` in batches of similar length and calls `each`
    /// with the example indices of a batch, the pooled final-norm hidden states (B,C) and the medication
    /// logits (B,|Med|) (views valid during the call).
    /// `lowerOutput`, when given, supplies the frozen lower layers' output of a batch (cached during training),
    /// so only the adapted layers run.
    public func predict(_ examples: [TeacherExample], batchSize: Int, threads: Int,
                        lowerOutput: (([Int], TeacherBatch) throws(LeaderError) -> Tensor?)? = nil,
                        each: ([Int], Tensor, Tensor) throws(LeaderError) -> Void) throws(LeaderError) {
        guard batchSize >= 1 else { throw .invalidArgument("batch size must be >= 1") }
        let ctx = try Context(threads: threads)
        let order = examples.indices.sorted { examples[$0].tokens.count < examples[$1].tokens.count }
        for start in stride(from: 0, to: order.count, by: batchSize) {
            let idx = Array(order[start..<min(order.count, start + batchSize)])
            let batch = try TeacherBatch(sequences: idx.map { examples[$0].tokens })
            let (h, l) = try forward(batch, lowerOutput: try lowerOutput?(idx, batch), ctx)
            try each(idx, h, l)
        }
    }
}

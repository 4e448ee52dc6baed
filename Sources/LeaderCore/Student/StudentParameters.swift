/// The student's parameters as a table derived from the config and the vocabulary sizes alone: every
/// tensor's name and shape, in registration order (llm.c's `fill_in_parameter_sizes`). `StudentModel`
/// registers exactly these (tested); checkpoint readers validate a file against them before they allocate
/// anything, and the serving model is built from them without a training model.
public enum StudentParameters {
    /// Whether the profile prompt has its own embedding and head (else one padding vector stands in).
    public static func usesProfile(_ config: StudentConfig, _ sizes: StudentVocabularySizes) -> Bool {
        config.profilePrompt && !sizes.profileCardinalities.isEmpty
    }

    /// (name, shape) of every parameter; validates config and sizes, with checked size arithmetic.
    public static func shapes(config c: StudentConfig, sizes: StudentVocabularySizes) throws(LeaderError)
        -> [(name: String, shape: [Int])]
    {
        try c.validate()
        try sizes.validate()
        let h = c.hidden
        var table: [(name: String, shape: [Int])] = [("embedding.weight", [sizes.unifiedCount, h])]
        func linear(_ name: String, _ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
            table.append(("\(name).weight", [outFeatures, inFeatures]))
            if bias { table.append(("\(name).bias", [outFeatures])) }
        }
        func norm(_ name: String) {
            table.append(("\(name).weight", [h]))
            table.append(("\(name).bias", [h]))
        }
        for block in ["diagnosis_encoder", "procedure_encoder", "medication_encoder", "visit_encoder"] {
            norm("\(block).norm1")
            for p in ["q", "k", "v"] { linear("\(block).attn.\(p)", h, h, bias: false) }
            linear("\(block).attn.o", h, h)
            norm("\(block).norm2")
            linear("\(block).ffn.fc1", h, c.ffnHidden)
            linear("\(block).ffn.fc2", c.ffnHidden, h)
        }
        if usesProfile(c, sizes) {
            table.append(("profile.embedding.weight", [sizes.profileValueCount, h]))
            linear("profile.head", try Checked.product(sizes.profileCardinalities.count, h, "profile width"), h)
        } else {
            table.append(("profile.padding.weight", [1, h]))
        }
        linear("head.fc1", 3 * h, c.headHidden)
        linear("head.fc2", c.headHidden, sizes.medications)
        if c.teacherDim > 0 { linear("distill.projector", c.headHidden, c.teacherDim) }
        if c.beta > 0 {
            linear("align.x_projector", h, h)
            linear("align.y_projector", h, h)
        }
        return table
    }

    /// The number of scalars of `shapes(config:sizes:)`, with checked arithmetic.
    public static func count(config: StudentConfig, sizes: StudentVocabularySizes) throws(LeaderError) -> Int {
        var total = 0
        for (_, shape) in try shapes(config: config, sizes: sizes) {
            var n = 1
            for d in shape { n = try Checked.product(n, d, "student parameter count") }
            total = try Checked.sum(total, n, "student parameter count")
        }
        return total
    }
}

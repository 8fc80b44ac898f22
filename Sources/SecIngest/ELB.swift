import SecModel

/// Elastic Load Balancing access logs: ALB, Classic ELB and NLB (TLS), told apart per line.
enum ELBParser {
    /// Which of the three an input starting with these bytes is, if any.
    static func variant(_ content: UnsafeRawBufferPointer) -> InputFormat? { nil }

    static func parse(_ bytes: UnsafeRawBufferPointer, offset: Int64, line: Int, context: ParseContext,
                      into out: inout ParseOutput) {
        notBuilt("load balancer", bytes, offset: offset, line: line, context: context, into: &out)
    }
}

import SecModel

/// VPC Flow Logs (default and custom formats, Transit Gateway flow logs).
enum VPCFlowParser {
    /// Whether an input starting with these bytes is a VPC flow log.
    static func recognises(_ content: UnsafeRawBufferPointer) -> Bool { false }

    static func parse(_ bytes: UnsafeRawBufferPointer, offset: Int64, line: Int, context: ParseContext,
                      into out: inout ParseOutput) {
        notBuilt("VPC flow", bytes, offset: offset, line: line, context: context, into: &out)
    }
}

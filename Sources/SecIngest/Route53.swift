import SecModel

/// Route 53 Resolver query logs (JSON lines).
enum Route53Parser {
    /// Whether an input whose first JSON text starts here is a resolver query log.
    static func recognises(_ content: UnsafeRawBufferPointer) -> Bool { false }

    static func parse(_ bytes: UnsafeRawBufferPointer, offset: Int64, line: Int, context: ParseContext,
                      into out: inout ParseOutput) {
        notBuilt("Route 53", bytes, offset: offset, line: line, context: context, into: &out)
    }
}

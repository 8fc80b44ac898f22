import SecModel

/// S3 server access logs.
enum S3AccessParser {
    static func recognises(_ content: UnsafeRawBufferPointer) -> Bool { false }

    static func parse(_ bytes: UnsafeRawBufferPointer, offset: Int64, line: Int, context: ParseContext,
                      into out: inout ParseOutput) {
        notBuilt("S3 access", bytes, offset: offset, line: line, context: context, into: &out)
    }
}

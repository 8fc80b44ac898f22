import SecModel

/// CloudFront standard logs (W3C extended format).
enum CloudFrontParser {
    static func recognises(_ content: UnsafeRawBufferPointer) -> Bool { false }

    static func parse(_ bytes: UnsafeRawBufferPointer, offset: Int64, line: Int, context: ParseContext,
                      into out: inout ParseOutput) {
        notBuilt("CloudFront", bytes, offset: offset, line: line, context: context, into: &out)
    }
}

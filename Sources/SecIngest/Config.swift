import SecModel

/// AWS Config snapshot and history files, configuration item change notifications.
enum ConfigParser {
    static func recognises(_ content: UnsafeRawBufferPointer) -> Bool { false }

    static func parse(_ bytes: UnsafeRawBufferPointer, offset: Int64, line: Int, context: ParseContext,
                      into out: inout ParseOutput) {
        notBuilt("AWS Config", bytes, offset: offset, line: line, context: context, into: &out)
    }
}

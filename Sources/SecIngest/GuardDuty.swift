import SecModel

/// GuardDuty findings: S3 export (JSON lines), EventBridge envelopes, `{"findings":[...]}`.
enum GuardDutyParser {
    static func recognises(_ content: UnsafeRawBufferPointer) -> Bool { false }

    static func parse(_ bytes: UnsafeRawBufferPointer, offset: Int64, line: Int, context: ParseContext,
                      into out: inout ParseOutput) {
        notBuilt("GuardDuty", bytes, offset: offset, line: line, context: context, into: &out)
    }
}

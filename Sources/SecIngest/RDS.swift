import SecModel

/// RDS database logs: PostgreSQL logs as exported, MySQL/MariaDB audit logs.
enum RDSParser {
    static func recognisesPostgres(_ content: UnsafeRawBufferPointer) -> Bool { false }
    static func recognisesMySQL(_ content: UnsafeRawBufferPointer) -> Bool { false }

    static func parsePostgres(_ bytes: UnsafeRawBufferPointer, offset: Int64, line: Int, context: ParseContext,
                              into out: inout ParseOutput) {
        notBuilt("PostgreSQL", bytes, offset: offset, line: line, context: context, into: &out)
    }

    /// Emits the entry the last piece left open.
    static func finishPostgres(context: ParseContext, into out: inout ParseOutput) {}

    static func parseMySQL(_ bytes: UnsafeRawBufferPointer, offset: Int64, line: Int, context: ParseContext,
                           into out: inout ParseOutput) {
        notBuilt("MySQL audit", bytes, offset: offset, line: line, context: context, into: &out)
    }
}

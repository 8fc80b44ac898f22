import SecModel

/// Reusable buffers and caches for parsing (the JSON tape, the string interner, the
/// address cache), so a worker parsing many chunks allocates them once and repeated
/// strings are shared across chunks.
///
/// Not `Sendable`: use one per task or thread, never from two at once.
public final class ParseScratch {
    let cloudTrail = CloudTrailNormaliser()
    private(set) lazy var route53 = Route53Normaliser()
    private(set) lazy var guardDuty = GuardDutyNormaliser()
    private(set) lazy var config = ConfigNormaliser()
    private(set) lazy var archive = ArchiveNormaliser()
    /// Strings that repeat from line to line in the text formats (interface ids, load
    /// balancer names, user agents), shared by the inputs this thread parses. Exclusivity
    /// checks are off for speed: one thread at a time, one parser call at a time.
    @exclusivity(unchecked) var strings = StringInterner()

    public init() {}
}

/// Parsing any supported log format: the entry point a pipeline calls.
///
/// A pipeline reads inputs with ``InputReader`` (bounded memory, gzip, digest callback),
/// detects each input's format once from its first chunk, and hands chunks to workers,
/// each with its own ``ParseScratch``:
///
/// ```swift
/// for path in try IngestInput.files(under: paths) {
///     let reader = try InputReader(path: path, onRawBytes: { digest.update($0) })
///     let context = ParseContext(file: path, scratch: scratch)
///     var format: InputFormat?
///     while let chunk = reader.next() {
///         format = format ?? InputFormat.detect(prefix: chunk.bytes, path: path)
///         guard let format else { /* unknown format: report the file */ break }
///         let out = IngestParser.parse(chunk: chunk, format: format, context: context)
///         // out.events -> store; out.quarantined -> quarantine; out.warnings -> log
///     }
///     // then IngestParser.finish(format:context:) for what the last chunk left open
///     if let error = reader.error { /* the input was cut: report it; what came before is in */ }
/// }
/// ```
///
/// Chunks of one input are parsed in order through one ``ParseContext`` (a header line
/// names the columns of the lines after it); outputs are in input order within each
/// chunk, and chunks carry their offset and first line number.
public enum IngestParser {
    /// Parses a whole input, or a piece of one that needs no state from the pieces
    /// before it (CloudTrail, JSON lines); a fresh ``ParseContext`` is made for it.
    ///
    /// - Parameters:
    ///   - offset, line: where `bytes` starts in the decompressed input (for quarantine
    ///     entries), 0 and 1 for a whole input.
    ///   - scratch: reusable buffers for this thread; fresh ones when nil.
    public static func parse(bytes: UnsafeRawBufferPointer, file: String, format: InputFormat,
                             offset: Int64 = 0, line: Int = 1, scratch: ParseScratch? = nil,
                             account: String? = nil) -> ParseOutput {
        let context = ParseContext(file: file, defaultAccount: account, scratch: scratch)
        var out = parse(bytes: bytes, format: format, offset: offset, line: line, context: context)
        out.append(finish(format: format, context: context))
        return out
    }

    /// Parses the next piece of an input whose earlier pieces went through the same
    /// `context`; call ``finish(format:context:)`` after the last one.
    public static func parse(bytes: UnsafeRawBufferPointer, format: InputFormat, offset: Int64, line: Int,
                             context: ParseContext) -> ParseOutput {
        var out = ParseOutput()
        out.inputBytes = bytes.count
        switch format {
        case .cloudtrail:
            return CloudTrailParser.parse(bytes: bytes, offset: offset, line: line, context: context)
        case .cloudtrailDigest:
            if offset == 0 { out.warnings.append("\(context.file): CloudTrail digest file, not events; skipped") }
        case .vpcflow: VPCFlowParser.parse(bytes, offset: offset, line: line, context: context, into: &out)
        case .alb, .elb, .nlb: ELBParser.parse(bytes, offset: offset, line: line, context: context, into: &out)
        case .s3access: S3AccessParser.parse(bytes, offset: offset, line: line, context: context, into: &out)
        case .cloudfront: CloudFrontParser.parse(bytes, offset: offset, line: line, context: context, into: &out)
        case .route53: return Route53Parser.parse(bytes: bytes, offset: offset, line: line, context: context)
        case .rdsPostgres: RDSParser.parsePostgres(bytes, offset: offset, line: line, context: context, into: &out)
        case .rdsMySQL: RDSParser.parseMySQL(bytes, offset: offset, line: line, context: context, into: &out)
        case .guardduty: return GuardDutyParser.parse(bytes: bytes, offset: offset, line: line, context: context)
        case .config: return ConfigParser.parse(bytes: bytes, offset: offset, line: line, context: context)
        case .archive: return ArchiveParser.parse(bytes: bytes, offset: offset, line: line, context: context)
        }
        return out
    }

    /// Parses one chunk from an ``InputReader``; its quarantined lines come first.
    public static func parse(chunk: InputChunk, format: InputFormat, context: ParseContext) -> ParseOutput {
        var out = ParseOutput()
        out.quarantined = chunk.quarantined
        out.records = chunk.quarantined.count
        out.append(chunk.bytes.withUnsafeBytes {
            parse(bytes: $0, format: format, offset: chunk.offset, line: chunk.line, context: context)
        })
        return out
    }

    /// What an input's last piece left unfinished (a PostgreSQL entry whose
    /// continuation lines might have followed).
    public static func finish(format: InputFormat, context: ParseContext) -> ParseOutput {
        var out = ParseOutput()
        if format == .rdsPostgres { RDSParser.finishPostgres(context: context, into: &out) }
        return out
    }
}

import ArgumentParser
import Foundation
import SecDetect
import SecEngine
import SecIngest
import SecModel
import SecStore

struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Read log files and directory trees into the store.",
        discussion: """
        Accepts files (plain or .gz), directories (read recursively, in path order) and '-' \
        for standard input. Reads CloudTrail, VPC flow logs, ALB/Classic ELB/NLB access logs, \
        S3 server access logs, CloudFront standard logs, Route 53 Resolver query logs, RDS \
        PostgreSQL logs and MySQL audit logs, GuardDuty findings and AWS Config files, and \
        secq's own archives ('secq retention apply --archive DIR': each event restored as \
        it was, once). The format is recognised from the S3 key layout \
        (AWSLogs/<account>/<service>/...), an archive's layout, or the content; --format \
        overrides.

        A record's account is its own when it carries one, else the path's \
        (AWSLogs/<account>/... or a directory named by 12 digits), else --account. Each \
        record goes to the bank that owns its account; a record no bank owns, or one no \
        account can be found for, is quarantined with the reason, and the rest of its file \
        goes in. Running the same ingest again stores nothing twice.

        Examples:
          secq ingest AWSLogs/
          secq ingest --bank acme-bank acme-logs/
          secq ingest --account 111122223333 cloudfront-logs/
          zcat trail.json.gz | secq ingest -
          secq ingest --detect --threat-list bad-ips.txt AWSLogs/
          secq ingest /archive/secq/source=cloudtrail/bank=acme-bank/
        """)

    @OptionGroup var options: StoreOptions
    @Argument(help: "Files or directories to read ('-' for standard input).") var paths: [String]
    @Option(help: "Accept only this bank's accounts; quarantine the rest.") var bank: String?
    @Option(help: "Skip format detection: \(InputFormat.allCases.map(\.rawValue).joined(separator: ", ")).") var format: String?
    @Option(help: ArgumentHelp("Account for records that carry none and whose path names none (S3 access, CloudFront, RDS).",
                                valueName: "12-digits")) var account: String?
    @Option(help: "Parser threads (default: one per core).") var jobs: Int?
    @Option(help: "Events per write transaction (memory grows with it).") var batch: Int = 4096
    @Flag(help: "Exit with status 2 when any record was quarantined.") var strict = false
    @Flag(help: "Print the summary as one JSON object.") var json = false
    @Flag(name: .customLong("no-progress"), help: "Do not show progress, even on a terminal.") var noProgress = false
    @Flag(name: .customLong("no-projections"),
          help: "Do not bring projections up to date at the end (run 'secq projection catch-up' later).")
    var noProjections = false
    @Flag(help: "Then run the threat detectors over what is new in each bank ('secq detect'; findings counted in the summary).")
    var detect = false
    @Option(name: .customLong("threat-list"), help: ArgumentHelp("With --detect: bad IPs, CIDRs and domains (see 'secq detect').", valueName: "file"))
    var threatList: String?
    @Option(name: .customLong("learning-period"), help: ArgumentHelp("With --detect: how long an entity's baseline learns before the behavioural detectors judge it (default 7d).", valueName: "span"))
    var learningPeriod: String?
    @Option(name: .customLong("trusted-ips"), help: ArgumentHelp("With --detect: addresses that are never a threat.", valueName: "file"))
    var trustedIPs: String?

    func validate() throws {
        if paths.isEmpty { throw ValidationError("name at least one file or directory (or '-' for standard input)") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if let account, !Org.isAccountID(account) {
            throw ValidationError("--account must be a 12-digit AWS account id, not '\(account)'")
        }
        if let l = learningPeriod, Span(l) == nil {
            throw ValidationError("--learning-period: '\(l)' is not a span (like 2d, 36h, 90m)")
        }
        if !detect && (threatList != nil || trustedIPs != nil || learningPeriod != nil) {
            throw ValidationError("--threat-list, --trusted-ips and --learning-period go with --detect")
        }
        if let format, InputFormat(rawValue: format) == nil {
            throw ValidationError("unknown format '\(format)'; known: \(InputFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        try reportingErrors {
            let store = try Store(path: options.path)
            var opts = IngestOptions(paths: paths)
            opts.bank = bank
            opts.account = account
            opts.format = format.flatMap(InputFormat.init(rawValue:))
            if let jobs { opts.jobs = max(1, jobs) }
            opts.batchSize = batch
            opts.progress = !noProgress && !json && Terminal.stderrIsTTY
            var s = try IngestPipeline(store: store, options: opts).run()
            // Projections catch up once, at the end, bank by bank: folding after each
            // batch would hold the bank's writer between ingest commits.
            // Also when nothing new was stored: an ingest killed before this point left
            // projections behind.
            var projectionSeconds = 0.0
            if !noProjections {
                let started = Date()
                try catchUpProjections(store)
                projectionSeconds = Date().timeIntervalSince(started)
                s.seconds += projectionSeconds
            }
            // Detection after the projections, over every bank's events not yet read.
            var findings = (new: 0, updated: 0)
            var detectSeconds = 0.0
            if detect {
                let started = Date()
                let engine = try DetectionSetup.engine(store: options.path, threatList: threatList, trustedIPs: trustedIPs,
                                                       learningPeriod: learningPeriod,
                                                       extra: try ruleDetectors(store: options.path, rules: [], sigma: []))
                for r in try engine.run(banks: try selectedBanks(store, []).map { try store.bank($0) }) {
                    findings.new += r.newFindings
                    findings.updated += r.updatedFindings
                }
                detectSeconds = Date().timeIntervalSince(started)
                s.seconds += detectSeconds
            }
            let rate = s.seconds > 0 ? Double(s.records) / s.seconds : 0
            let mbs = s.seconds > 0 ? Double(s.parsedBytes) / s.seconds / 1e6 : 0
            if json {
                print(JSONLine.object([
                    ("files", .int(Int64(s.files))), ("duplicate_files", .int(Int64(s.duplicateFiles))),
                    ("records", .int(Int64(s.records))), ("stored", .int(Int64(s.stored))),
                    ("duplicates", .int(Int64(s.duplicates))), ("quarantined", .int(Int64(s.quarantined))),
                    ("cut_files", .int(Int64(s.cutFiles))), ("input_bytes", .int(s.inputBytes)),
                    ("parsed_bytes", .int(s.parsedBytes)), ("seconds", .double((s.seconds * 1000).rounded() / 1000)),
                    ("records_per_second", .int(Int64(rate))),
                    ("projection_seconds", .double((projectionSeconds * 1000).rounded() / 1000)),
                ] + (detect ? [
                    ("new_findings", .int(Int64(findings.new))), ("updated_findings", .int(Int64(findings.updated))),
                    ("detect_seconds", .double((detectSeconds * 1000).rounded() / 1000)),
                ] : [])))
            } else {
                print("files \(s.files) (\(s.duplicateFiles) already ingested)  records \(s.records)  stored \(s.stored)  "
                      + "duplicates \(s.duplicates)  quarantined \(s.quarantined)")
                print(String(format: "%.2f s  %.0f records/s  %.1f MB/s", s.seconds, rate, mbs))
                if detect { print("findings \(findings.new) new, \(findings.updated) updated  (see 'secq findings')") }
                for w in s.warnings.prefix(5) { Terminal.err("warning: \(w)") }
                if s.quarantined > 0 { Terminal.err("\(s.quarantined) record(s) quarantined: see 'secq quarantine'") }
            }
            if strict && s.quarantined > 0 { throw ExitCode(2) }
        }
    }
}

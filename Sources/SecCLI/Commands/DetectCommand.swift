#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import SecDetect
import SecEngine
import SecModel
import SecRules
import SecStore

struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Run the threat detectors over each bank's new events and keep the findings.",
        discussion: """
        Detection is a durable subscriber named 'detect' in each bank: it starts at the \
        bank's first event and, on every run, reads the events after its checkpoint in \
        sequence order, a batch at a time (--batch). For each batch the detectors' state \
        is restored, the events are observed, each occurrence is merged into its finding \
        (same type and aggregation key: the count grows, first/last seen widen), and the \
        state, the findings and the checkpoint are written in ONE write transaction of \
        the bank. Killing the command (even with SIGKILL) loses no batch and repeats \
        none: the next run gives the same findings with the same counts.

        Imported GuardDuty findings (events of class detection_finding) become findings \
        too, with detector 'guardduty', keyed by GuardDuty's finding id.

        Without --follow the command stops at each bank's head and prints, per bank, \
        the events read and the findings created and updated. With --follow it then \
        waits for appends ('secq ingest' wakes it) until SIGINT or SIGTERM, printing a \
        line per bank after catching up and then one per bank with new events.

        Each new or updated finding is also appended to the bank's log, in the same \
        transaction, as an event of source 'finding' (action created, updated, \
        archived or unarchived; its raw record the finding): \
        secq query 'where source == "finding" | fields time, action, finding_type, principal'.

        Threat intelligence: every list in STORE/threat-lists/ (*.txt, *.csv, *.list) \
        and --threat-list; trusted addresses in STORE/threat-lists/trusted/ and \
        --trusted-ips (plain text or CSV, one IP, CIDR or domain per line, '#' \
        comments; trusted wins; private and reserved addresses never match). Keep the \
        same lists from run to run: a finding depends on the lists in force when its \
        events were read.

        Suppression rules (secq findings suppress --help) archive matching findings \
        as they are created; they are kept, not dropped.

        The behavioural detectors (IAMUser/AnomalousBehavior, S3/AnomalousBehavior, \
        InstanceCredentialExfiltration.OutsideAWS, NetworkPortUnusual, \
        TrafficVolumeUnusual) compare with the 'baselines' projection (caught up first) \
        and say nothing about an entity in its learning period, counted from its first \
        event: --learning-period, default 7d (GuardDuty learns for 7 to 14 days). Keep \
        it the same from run to run, as the lists.

        Rule files in STORE/rules (and --rules folders) and Sigma rules (--sigma) run \
        beside the built-in detectors; 'secq rules check' validates them first.

        Findings: 'secq findings', or the 'findings' table of 'secq query'.

        Examples:
          secq detect
          secq detect --bank acme-bank --threat-list feeds/bad-ips.txt
          secq detect --follow
          secq findings --severity high --since 24h
        """)

    @OptionGroup var options: StoreOptions
    @Option(name: .customLong("bank"), help: "Only this bank (repeatable; default: every bank).") var banks: [String] = []
    @Flag(help: "After catching up, wait for new events (until SIGINT or SIGTERM).") var follow = false
    @Option(help: ArgumentHelp("Events per batch (per transaction).", valueName: "n")) var batch: Int = DetectionEngine.defaultBatch
    @Option(name: .customLong("threat-list"), help: ArgumentHelp("Known-bad IPs, CIDRs and domains.", valueName: "file"))
    var threatList: String?
    @Option(name: .customLong("trusted-ips"), help: ArgumentHelp("Addresses and domains that never match the threat list.", valueName: "file"))
    var trustedIPs: String?
    @Option(name: .customLong("learning-period"), help: ArgumentHelp("How long an entity's baseline learns before the behavioural detectors judge it (default 7d).", valueName: "span"))
    var learningPeriod: String?
    @Option(name: .customLong("rules"), help: ArgumentHelp("Also run the rule files in this folder or file (repeatable; STORE/rules always).", valueName: "dir"))
    var ruleDirs: [String] = []
    @Option(name: .customLong("sigma"), help: ArgumentHelp("Also run the Sigma rules (aws/cloudtrail) in this folder or file (repeatable).", valueName: "dir"))
    var sigmaDirs: [String] = []

    func validate() throws {
        guard batch > 0 else { throw ValidationError("--batch must be at least 1") }
        if let l = learningPeriod, Span(l) == nil {
            throw ValidationError("--learning-period: '\(l)' is not a span (like 2d, 36h, 90m)")
        }
    }

    func run() throws {
        try reportingErrors {
            let store = try Store(path: options.path)
            let bankStores = try selectedBanks(store, banks).map { try store.bank($0) }
            let engine = try DetectionSetup.engine(store: options.path, threatList: threatList, trustedIPs: trustedIPs,
                                                   learningPeriod: learningPeriod,
                                                   extra: try ruleDetectors(store: options.path, rules: ruleDirs, sigma: sigmaDirs))

            // With --follow, SIGINT and SIGTERM stop it between batches.
            let interrupts = follow ? try Interrupts.install() : nil
            let interrupted: @Sendable () -> Bool = { interrupts?.happened() ?? false }

            let out = Output()
            let watcher = interrupts.map { AppendWatcher(banks: bankStores, wake: $0.fd) }
            var firstPass = true
            while true {
                if interrupted() { break }
                // The banks side by side, one per core; lines in bank order.
                for s in try engine.run(banks: bankStores, batch: batch, stop: interrupted) {
                    if firstPass || s.events > 0 {
                        let suppressed = s.suppressedFindings > 0 ? " (\(s.suppressedFindings) archived by suppression rules)" : ""
                        out.line("\(s.bank): \(s.events) event\(s.events == 1 ? "" : "s"), \(s.newFindings) new finding\(s.newFindings == 1 ? "" : "s")\(suppressed), \(s.updatedFindings) updated (checkpoint \(s.checkpoint))")
                        out.flush()
                    }
                }
                firstPass = false
                guard let watcher, !interrupted() else { break }
                if watcher.wait(timeout: 1) { break }
            }
            out.flush()
        }
    }
}

import ArgumentParser

/// `secq`: the security data store's command-line tool.
public struct SecqCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "secq",
        abstract: "Store, search and verify many banks' AWS logs in one place.",
        discussion: """
        A store holds one partition per bank (its own LMDB file, sequence and integrity \
        chain). Start with 'secq init --org org.json', then 'secq ingest' log files or \
        directories, and ask questions with 'secq query'.

        Examples:
          secq init --org org.json
          secq ingest AWSLogs/
          secq query 'events | since 24h | where action == "ConsoleLogin" and outcome == "failure" | stats count() by principal, src_ip'
          secq verify
        """,
        subcommands: [
            InitCommand.self, OrgCommand.self, IngestCommand.self, QueryCommand.self, QueriesCommand.self, ExplainCommand.self,
            StatsCommand.self, VerifyCommand.self, QuarantineCommand.self,
            ProjectionCommand.self, BaselineCommand.self,
            SubscribeCommand.self, SubscribersCommand.self,
            DetectCommand.self, FindingsCommand.self,
            RulesCommand.self,
            ComplianceCommand.self, ConfigCommand.self,
            RetentionCommand.self, ArchiveCommand.self, CompactCommand.self,
        ]
    )

    public init() {}
}

/// Options every command shares.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The store directory.", discussion: "Defaults to $SECQ_STORE, else ./secq-store.", valueName: "dir"))
    var store: String?

    var path: String {
        store ?? ProcessEnv.get("SECQ_STORE") ?? "./secq-store"
    }
}

extension SecqCommand {
    /// Runs the tool. Options every command shares (`--store DIR`) may also come before
    /// the command name (`secq --store DIR query ...`); they are moved after it.
    public static func runMain() {
        var args = Array(CommandLine.arguments.dropFirst())
        var global: [String] = []
        while let first = args.first, first.hasPrefix("--store") {
            if first == "--store", args.count >= 2 {
                global += args.prefix(2); args.removeFirst(2)
            } else if first.hasPrefix("--store=") {
                global.append(first); args.removeFirst()
            } else {
                break
            }
        }
        if !global.isEmpty {
            if let end = args.firstIndex(of: "--") { args.insert(contentsOf: global, at: end) } else { args += global }
        }
        main(args)
    }
}

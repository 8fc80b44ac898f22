import Foundation
@testable import SecCLI
import Testing

@Suite struct SavedQueryTests {
    static let file = """
    # Failed console logins by user and address.
      # Ranked by failures.
    events | where action == "ConsoleLogin" and outcome == "$outcome"
           | stats count() as n by principal, src_ip | where n >= $min and n < $min$$ | sort n desc
    """

    let q = SavedQuery(name: "failed", path: "/x/queries/failed.secq", text: SavedQueryTests.file)

    @Test func describesItselfFromItsCommentLines() {
        #expect(q.description == "Failed console logins by user and address. Ranked by failures.")
        #expect(q.parameters == ["outcome", "min"])
    }

    @Test func parametersAreReplacedAndLinesKept() throws {
        let text = try q.resolved(["outcome": "failure", "min": "5"])
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 4)
        #expect(lines[0].isEmpty && lines[1].isEmpty, "comment lines are blanked, so errors keep the file's line numbers")
        #expect(lines[2] == #"events | where action == "ConsoleLogin" and outcome == "failure""#)
        #expect(lines[3] == "       | stats count() as n by principal, src_ip | where n >= 5 and n < 5$ | sort n desc")
    }

    @Test func everyParameterAndNoOther() {
        #expect(throws: CLIError.self) { try q.resolved(["outcome": "failure"]) }
        #expect(throws: CLIError.self) { try q.resolved(["outcome": "failure", "min": "1", "max": "2"]) }
        do {
            _ = try q.resolved(["min": "1"])
            Issue.record("a missing parameter must be refused")
        } catch let e as CLIError {
            #expect(e.message == "@failed needs --param outcome=VALUE")
            #expect(e.code == 2)
        } catch { Issue.record("\(error)") }
    }

    @Test(arguments: [("key-activity", true), ("a_b-9", true), ("", false), ("../etc/passwd", false), ("x.y", false), ("q w", false)])
    func names(_ name: String, _ valid: Bool) {
        #expect(SavedQuery.isValidName(name) == valid)
    }

    /// Through the CLI: a saved query gives what the same query typed gives.
    @Test func runsLikeTheQueryItHolds() throws {
        let data = GeneratedData.shared
        let store = temporaryDirectory("saved")
        defer { try? FileManager.default.removeItem(atPath: store) }
        #expect(try secq(["init", "--store", store, "--org", data.dir + "/org.json"]).status == 0)
        #expect(try secq(["ingest", "--store", store, data.dir + "/AWSLogs"]).status == 0)
        try FileManager.default.createDirectory(atPath: store + "/queries", withIntermediateDirectories: true)
        try Data(Self.file.utf8).write(to: URL(fileURLWithPath: store + "/queries/failed.secq"))
        let typed = #"events | where action == "ConsoleLogin" and outcome == "failure" | stats count() as n by principal, src_ip | where n >= 2 and n < 2$ | sort n desc"#
        // `2$` is not valid: the saved query must fail exactly as the typed one does.
        let a = try secq(["query", "--store", store, "--format", "json", typed])
        let b = try secq(["query", "--store", store, "--format", "json", "@failed", "--param", "outcome=failure", "--param", "min=2"])
        #expect(a.status == 2 && b.status == 2)
        // A valid one: equal answers.
        let good = "# Calls per action.\nevents | where principal_type == \"$type\" | stats count() by action | sort action\n"
        try Data(good.utf8).write(to: URL(fileURLWithPath: store + "/queries/per-action.secq"))
        let c = try secq(["query", "--store", store, "--format", "json", #"events | where principal_type == "IAMUser" | stats count() by action | sort action"#])
        let d = try secq(["query", "--store", store, "--format", "json", "@per-action", "--param", "type=IAMUser"])
        #expect(c.status == 0 && d.status == 0, "\(d.err)")
        #expect(!c.out.isEmpty && c.out == d.out)
        let list = try secq(["queries", "--store", store, "--format", "json"])
        let names = list.out.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["name"] as? String
        }
        #expect(names == ["failed", "per-action"])
    }
}

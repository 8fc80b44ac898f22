import Foundation
import SecDetect
import SecIngest
import SecModel
@testable import SecRules

let account = "111122223333"
let aliceIdentity = #"{"type":"IAMUser","principalId":"AIDAALICE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAALICE","userName":"alice"}"#

/// Milliseconds of `2026-11-02T10:00:00Z` plus `seconds`.
func at(_ seconds: Int) -> Int64 { Timestamp.parse("2026-11-02T10:00:00Z")! + Int64(seconds) * 1000 }

/// A CloudTrail record as AWS writes it, through the project's own parser.
func ct(_ name: String, source: String = "iam.amazonaws.com", identity: String = aliceIdentity,
        params: String = "null", extra: String = "", ip: String = "44.10.20.30",
        seconds: Int = 0, error: String? = nil, ua: String = "aws-cli/2.15.0 Python/3.11") -> Event {
    let time = Timestamp.rfc3339(millis: at(seconds))
    let err = error.map { #","errorCode":"\#($0)","errorMessage":"denied""# } ?? ""
    let json = """
    {"eventVersion":"1.08","userIdentity":\(identity),"eventTime":"\(time)","eventSource":"\(source)",\
    "eventName":"\(name)","awsRegion":"us-east-1","sourceIPAddress":"\(ip)","userAgent":"\(ua)",\
    "requestParameters":\(params),"responseElements":null,"eventID":"ev-\(name)-\(seconds)-\(ip)",\
    "eventType":"AwsApiCall","recipientAccountId":"\(account)"\(extra)\(err)}
    """
    return parsed(json)
}

/// One CloudTrail record (JSON text) through the real parser.
func parsed(_ json: String) -> Event {
    let out = CloudTrailParser.parse(bytes: Array(json.utf8), file: "test.json")
    precondition(out.events.count == 1, "fixture did not parse: \(out.quarantined.map(\.reason)) \(json)")
    var e = out.events[0]
    e.bank = "acme"
    return e
}

/// Feeds events in order, numbered as the store would (`Detector.observe(all:)`).
func run<D: Detector>(_ d: inout D, _ events: [Event]) -> [FindingDraft] { d.observe(all: events) }

func run<D: Detector>(_ d: D, _ events: [Event]) -> [FindingDraft] {
    var d = d
    return run(&d, events)
}

func types(_ drafts: [FindingDraft]) -> [String] { drafts.map(\.type.description) }

func builtIn(_ id: String) -> RuleDetector {
    BuiltInRules.rules.first { $0.id == id }!.detector
}

/// The shared corpus beside the project, or nil (and a line saying so) without it.
func corpus(_ sub: String) -> URL? {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0 ..< 3 { url.deleteLastPathComponent() }
    let dir = url.appendingPathComponent("../shared/corpus").appendingPathComponent(sub).standardizedFileURL
    guard FileManager.default.fileExists(atPath: dir.path) else {
        print("corpus not found at \(dir.path); skipping")
        return nil
    }
    return dir
}

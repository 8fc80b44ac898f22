import Foundation
import SecIngest
import SecModel
@testable import SecDetect

let account = "111122223333"
let aliceIdentity = #"{"type":"IAMUser","principalId":"AIDAALICE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAALICE","userName":"alice"}"#
let rootIdentity = #"{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"}"#

/// Milliseconds of `2026-11-02T10:00:00Z` plus `seconds`.
func at(_ seconds: Int) -> Int64 { Timestamp.parse("2026-11-02T10:00:00Z")! + Int64(seconds) * 1000 }

/// A CloudTrail record as AWS writes it, normalised by the project's own parser (so
/// detectors see the same event and raw bytes the store would hold).
func ct(_ name: String, source: String = "iam.amazonaws.com", identity: String = aliceIdentity,
        params: String = "null", response: String = "null", extra: String = "", ip: String = "44.10.20.30",
        seconds: Int = 0, error: String? = nil, ua: String = "aws-cli/2.15.0 Python/3.11") -> Event {
    let time = Timestamp.rfc3339(millis: at(seconds))
    let err = error.map { #","errorCode":"\#($0)","errorMessage":"denied""# } ?? ""
    let json = """
    {"eventVersion":"1.08","userIdentity":\(identity),"eventTime":"\(time)","eventSource":"\(source)",\
    "eventName":"\(name)","awsRegion":"us-east-1","sourceIPAddress":"\(ip)","userAgent":"\(ua)",\
    "requestParameters":\(params),"responseElements":\(response),"eventID":"\(UUID().uuidString.lowercased())",\
    "eventType":"AwsApiCall","recipientAccountId":"\(account)"\(extra)\(err)}
    """
    let out = CloudTrailParser.parse(bytes: Array(json.utf8), file: "test.json")
    precondition(out.events.count == 1, "fixture did not parse: \(out.quarantined.map(\.reason)) \(json)")
    var e = out.events[0]
    e.bank = "acme"
    return e
}

/// A console log-in record.
func login(_ identity: String = aliceIdentity, ok: Bool = true, mfa: Bool = false, ip: String = "44.10.20.30", seconds: Int = 0) -> Event {
    ct("ConsoleLogin", source: "signin.amazonaws.com", identity: identity,
       response: ok ? #"{"ConsoleLogin":"Success"}"# : #"{"ConsoleLogin":"Failure"}"#,
       extra: #","additionalEventData":{"LoginTo":"https://console.aws.amazon.com/","MobileVersion":"No","MFAUsed":"\#(mfa ? "Yes" : "No")"}"#,
       ip: ip, seconds: seconds, error: nil)
}

/// An event of another source, built field by field.
func event(_ source: Source, _ cls: EventClass, seconds: Int, _ fields: [Field: Value]) -> Event {
    var e = Event(time: at(seconds), account: account, source: source, eventClass: cls, raw: Array("{}".utf8))
    e.bank = "acme"
    for (f, v) in fields { e.set(f, v) }
    return e
}

func flow(_ src: String, _ dst: String, port: Int64, seconds: Int, packets: Int64 = 4, proto: Int64 = 6) -> Event {
    event(.vpcflow, .networkActivity, seconds: seconds, [
        .srcIP: .ip(IPAddress(src)!), .dstIP: .ip(IPAddress(dst)!), .dstPort: .int(port), .srcPort: .int(40000),
        .proto: .int(proto), .packets: .int(packets), .bytes: .int(packets * 60), .action: .string("ACCEPT"),
        .resource: .string("eni-0abc"),
    ])
}

func dns(_ name: String, seconds: Int, instance: String = "i-0abc") -> Event {
    event(.route53, .dnsActivity, seconds: seconds, [
        .queryName: .string(name), .srcIP: .ip(IPAddress("10.0.0.5")!), .resource: .string(instance), .action: .string("TXT"),
    ])
}

func rdsAuth(_ action: String, ok: Bool, ip: String, seconds: Int) -> Event {
    event(.rds, .authentication, seconds: seconds, [
        .action: .string(action), .outcome: .string(ok ? "success" : "failure"), .srcIP: .ip(IPAddress(ip)!),
        .principal: .string("app"), .resource: .string("db-main"),
    ])
}

/// Feeds events in order, numbered as the store would (`Detector.observe(all:)`).
func run<D: Detector>(_ d: inout D, _ events: [Event]) -> [FindingDraft] { d.observe(all: events) }

func run<D: Detector>(_ d: D, _ events: [Event]) -> [FindingDraft] {
    var d = d
    return run(&d, events)
}

/// The Stratus Red Team detonation records of a technique, parsed, or nil when the
/// corpus is not beside the project.
func stratus(_ technique: String) -> [Event]? {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let candidates = [root.appendingPathComponent("../shared/corpus"), URL(fileURLWithPath: "/work/shared/corpus")]
    for c in candidates {
        let f = c.appendingPathComponent("stratus-red-team/detonation-logs/\(technique).json")
        if let data = try? Data(contentsOf: f) {
            let out = CloudTrailParser.parse(bytes: Array(data), file: f.lastPathComponent)
            return out.events.map { var e = $0; e.bank = "acme"; return e }
        }
    }
    return nil
}

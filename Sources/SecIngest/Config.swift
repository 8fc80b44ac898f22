import SecModel

/// AWS Config: configuration snapshot and history files
/// (`{"fileVersion":"1.0",...,"configurationItems":[...]}`), configuration item change
/// notifications (as delivered to S3 or SNS, in EventBridge envelopes, or in a Config
/// rule's invocation event), and configuration items alone or in lists
/// (`configurationItems` / `baseConfigurationItems` of the API and CLI).
///
/// Records are walked by ``DocumentWalker``; see ``ConfigNormaliser`` for the mapping.
enum ConfigParser {
    /// Whether an input whose first JSON text starts here is AWS Config's, by the first
    /// object's own keys: `configurationItems`, `baseConfigurationItems`,
    /// `configurationItem`, `configurationItemSummary`, a `messageType` of Config's,
    /// `detail-type` "Config Configuration Item Change", an SNS notification or rule
    /// invocation event carrying a configuration item, or an item alone
    /// (`configurationItemCaptureTime` and `resourceType`).
    static func recognises(_ content: UnsafeRawBufferPointer) -> Bool {
        let probe = JSONProbe(content)
        for key: StaticString in ["configurationItems", "baseConfigurationItems", "configurationItem",
                                  "configurationItemSummary"] where probe.has(key) {
            return true
        }
        if let type = probe.string("messageType"), ConfigNormaliser.isConfigMessage(type) { return true }
        if probe.string("detail-type") == "Config Configuration Item Change" { return true }
        if probe.string("Type") == "Notification", probe.valueMentions("Message", "configurationItem") { return true }
        if probe.valueMentions("invokingEvent", "configurationItem") { return true }
        return probe.has("configurationItemCaptureTime") && probe.has("resourceType")
    }

    /// Parses a piece of an input (whole lines, or the whole input).
    static func parse(bytes: UnsafeRawBufferPointer, offset: Int64, line: Int, context: ParseContext) -> ParseOutput {
        var walker = DocumentWalker(buf: bytes, context: context, baseOffset: offset, baseLine: line,
                                    norm: context.scratch.config)
        return walker.run()
    }
}

/// Turns AWS Config records into `config_item` events, one per configuration item.
///
/// ## Records
///
/// - A snapshot, history or API/CLI document: each element of its `configurationItems`
///   (or `baseConfigurationItems`) array is a record; `raw` is the item's bytes.
/// - A configuration item alone: `raw` is the item.
/// - A notification (`messageType` `ConfigurationItemChangeNotification`): the event
///   comes from its `configurationItem`, and `raw` is the whole notification, so
///   `configurationItemDiff` is kept. An `OversizedConfigurationItemChangeNotification`
///   (or `...DeliveryFailed`) carries only `configurationItemSummary`: the event comes
///   from the summary. The first notification format's `configurationItem` array of
///   several items gives one event per item, each item its own `raw` (one `raw` shared
///   by several events would make them one in the store).
/// - A notification in an envelope, whose `raw` is the whole envelope: EventBridge
///   (`detail-type` "Config Configuration Item Change", the notification in `detail`),
///   SNS (`"Type":"Notification"`, the notification in `Message`, as an object or as a
///   JSON string), or a Config rule's invocation event (in the JSON string
///   `invokingEvent`).
/// - Other Config messages (snapshot delivery, compliance change, scheduled rule
///   invocation) are refused: `not a configuration item (messageType '...')`.
///
/// ## Mapping
///
/// - `time`: `configurationItemCaptureTime`, RFC 3339 or (from the API and CLI) seconds
///   since the epoch; else the notification's `notificationCreationTime`, else the
///   envelope's `time` (EventBridge) or `Timestamp` (SNS).
/// - `account`: `awsAccountId`, else `accountId`, else the envelope's `account` or the
///   rule event's `accountId`, else the path's, else `--account`.
/// - `region`: `awsRegion`, else the envelope's `region`, else the path's.
/// - `resource`: `ARN` (or `arn`), else `resourceId`; `resource_type`: `resourceType`
///   (`AWS::EC2::SecurityGroup`); `title`: `resourceName`.
/// - `action`: `configurationItemStatus` (`OK`, `ResourceDiscovered`,
///   `ResourceDeleted`, `ResourceNotRecorded`, `ResourceDeletedNotRecorded`).
/// - `event_id`: `configurationStateId` (a number or a string; `configurationStateID`
///   in old items): the item's sequence for its resource, not unique across resources.
/// - `outcome`: `unknown`.
///
/// `configuration` is left as it is, an object or a JSON string (both occur), and read
/// through `raw.configuration`. An item with neither `resourceType` nor `resourceId`
/// is refused: `not a configuration item (no resourceType or resourceId)`.
final class ConfigNormaliser: JSONRecordNormaliser {
    let tape = TapeReader()
    var scanner: JSONScanner { tape.scanner }
    /// A notification carried in a JSON string, unescaped.
    private var nested: [UInt8] = []

    static let layout = JSONLayout(
        recordName: "AWS Config configuration item", documentKeys: ["configurationItems", "baseConfigurationItems"],
        documentFirstKeys: ["fileVersion", "configurationItems", "baseConfigurationItems"],
        recordStartKeys: ["relatedEvents", "configurationItemVersion"],
        recordKeys: [
            "relatedEvents", "relationships", "configuration", "supplementaryConfiguration", "tags",
            "configurationItemVersion", "configurationItemCaptureTime", "configurationStateId", "awsAccountId",
            "accountId", "configurationItemStatus", "resourceType", "resourceId", "resourceName", "ARN", "arn",
            "awsRegion", "availabilityZone", "configurationStateMd5Hash", "configurationItemMD5Hash",
            "resourceCreationTime", "version",
        ])

    /// Whether a `messageType` is one of AWS Config's (`ConfigurationItemChangeNotification`,
    /// `OversizedConfigurationItemChangeNotification`, `ConfigurationSnapshotDeliveryCompleted`,
    /// `ComplianceChangeNotification`, `ConfigRulesEvaluationStarted`, ...).
    static func isConfigMessage(_ type: String) -> Bool {
        type.hasPrefix("Configuration") || type.hasPrefix("OversizedConfiguration")
            || type.hasPrefix("ComplianceChange") || type.hasPrefix("ConfigRules")
    }

    /// What an envelope supplies when the item lacks it, read before a nested
    /// notification is scanned over the envelope's tape.
    private struct Envelope {
        var account: String?
        var region: String?
        var time: Int64?
    }

    func normalise(_ record: UnsafeRawBufferPointer, context: ParseContext,
                   into events: inout [Event]) -> JSONRecordResult {
        guard scanner.count > 0, scanner[0].kind == .object else {
            return .refused("not a configuration item (not a JSON object)")
        }
        for key: StaticString in ["configurationItems", "baseConfigurationItems"]
        where tape.isKind(scanner.member(0, key), .array) {
            return .document
        }
        let detailType = scanner.member(0, "detail-type")
        if detailType >= 0 {
            guard tape.textIs(detailType, "Config Configuration Item Change") else {
                return .refused("not a configuration item (EventBridge '\(tape.quotedValue(detailType))')")
            }
            let detail = tape.object(scanner.member(0, "detail"))
            guard detail >= 0 else { return .refused("not a configuration item (EventBridge event has no detail object)") }
            let env = Envelope(account: tape.text(scanner.member(0, "account")),
                               region: tape.text(scanner.member(0, "region")),
                               time: tape.time(scanner.member(0, "time")))
            return message(detail, record: record, envelope: env, context: context, into: &events)
        }
        let snsMessage = scanner.member(0, "Message")
        if snsMessage >= 0 && tape.textIs(scanner.member(0, "Type"), "Notification") {
            let env = Envelope(time: tape.time(scanner.member(0, "Timestamp")))
            if tape.isKind(snsMessage, .string) {
                return nestedMessage(snsMessage, named: "Message", record: record, envelope: env, context: context,
                                     into: &events)
            }
            guard tape.isKind(snsMessage, .object) else { return .refused("not a configuration item (SNS Message is not an object)") }
            return message(snsMessage, record: record, envelope: env, context: context, into: &events)
        }
        let invokingEvent = scanner.member(0, "invokingEvent")
        if tape.isKind(invokingEvent, .string) {
            let env = Envelope(account: tape.text(scanner.member(0, "accountId")))
            return nestedMessage(invokingEvent, named: "invokingEvent", record: record, envelope: env,
                                 context: context, into: &events)
        }
        return message(0, record: record, envelope: Envelope(), context: context, into: &events)
    }

    /// A notification held in the JSON string at `i`: unescaped and scanned over the
    /// envelope's tape (the envelope's values were read before).
    private func nestedMessage(_ i: Int, named what: String, record: UnsafeRawBufferPointer, envelope: Envelope,
                               context: ParseContext, into events: inout [Event]) -> JSONRecordResult {
        nested.removeAll(keepingCapacity: true)
        JSONScanner.unescape(scanner.bytes(i), into: &nested)
        return nested.withUnsafeBytes { text in
            var start = 0
            while start < text.count && JSONScanner.isSpace(text[start]) { start += 1 }
            let body = UnsafeRawBufferPointer(rebasing: text[start...])
            let end = scanner.scan(body)
            guard end >= 0 else {
                return .refused("invalid JSON at byte \(start + scanner.failureOffset) of \(what): \(scanner.failureMessage)")
            }
            guard scanner[0].kind == .object else { return .refused("not a configuration item (\(what) is not an object)") }
            return message(0, record: record, envelope: envelope, context: context, into: &events)
        }
    }

    /// A notification (or an item alone) at tape index `m`.
    private func message(_ m: Int, record: UnsafeRawBufferPointer, envelope: Envelope, context: ParseContext,
                         into events: inout [Event]) -> JSONRecordResult {
        var env = envelope
        if let created = tape.time(scanner.member(m, "notificationCreationTime")) { env.time = created }
        var item = scanner.member(m, "configurationItem")
        if tape.isKind(item, .array) {
            if scanner.element(item, 1) >= 0 { return items(item, envelope: env, context: context, into: &events) }
            item = scanner.element(item, 0)
        }
        var source = tape.object(item)
        if source < 0 { source = tape.object(scanner.member(m, "configurationItemSummary")) }
        if source < 0 {
            let type = scanner.member(m, "messageType")
            if tape.isText(type) { return .refused("not a configuration item (messageType '\(tape.quotedValue(type))')") }
            source = m
        }
        switch event(source, raw: record, envelope: env, context: context) {
        case .success(let ev):
            events.append(ev)
            return .events
        case .failure(let refusal):
            return .refused(refusal.reason)
        }
    }

    /// The items of a first-format notification's `configurationItem` array of several:
    /// an event each, its `raw` the item (the notification would be the same for all).
    /// One bad item refuses the whole notification.
    private func items(_ array: Int, envelope: Envelope, context: ParseContext,
                       into events: inout [Event]) -> JSONRecordResult {
        var made: [Event] = []
        var i = array + 1
        while i < Int(scanner[array].next) {
            guard scanner[i].kind == .object else {
                return .refused("not a configuration item (configurationItem element is not an object)")
            }
            switch event(i, raw: scanner.rawText(i), envelope: envelope, context: context) {
            case .success(let ev): made.append(ev)
            case .failure(let refusal): return .refused(refusal.reason)
            }
            i = Int(scanner[i].next)
        }
        events.append(contentsOf: made)
        return .events
    }

    /// The event of the configuration item (or item summary) at tape index `c`.
    private func event(_ c: Int, raw: UnsafeRawBufferPointer, envelope env: Envelope,
                       context: ParseContext) -> Result<Event, Refusal> {
        let resourceType = scanner.member(c, "resourceType")
        let resourceId = scanner.member(c, "resourceId")
        guard tape.isText(resourceType) || tape.isText(resourceId) else {
            return .failure(Refusal("not a configuration item (no resourceType or resourceId)"))
        }
        let captured = scanner.member(c, "configurationItemCaptureTime")
        let time: Int64
        switch captureTime(captured) {
        case .some(let t): time = t
        case nil where captured >= 0 && scanner[captured].kind != .null:
            return .failure(Refusal("configurationItemCaptureTime '\(tape.quotedValue(captured))' is not a time"))
        case nil:
            guard let t = env.time else {
                return .failure(Refusal("configuration item has no configurationItemCaptureTime"))
            }
            time = t
        }
        let own = tape.text(scanner.member(c, "awsAccountId")) ?? tape.text(scanner.member(c, "accountId"))
        guard let account = context.account(record: own ?? env.account) else {
            return .failure(Refusal(ParseContext.noAccountReason))
        }
        var ev = Event(time: time, account: account, source: .config, eventClass: .configItem, raw: Array(raw))
        ev.region = tape.text(scanner.member(c, "awsRegion")) ?? env.region ?? context.pathRegion
        ev.resource = tape.text(scanner.member(c, "ARN")) ?? tape.text(scanner.member(c, "arn")) ?? tape.text(resourceId)
        ev.resourceType = tape.text(resourceType)
        ev.action = tape.text(scanner.member(c, "configurationItemStatus"))
        ev.title = tape.text(scanner.member(c, "resourceName"))
        var state = scanner.member(c, "configurationStateId")
        if state < 0 { state = scanner.member(c, "configurationStateID") }
        if tape.isKind(state, .number) {
            ev.eventID = String(decoding: scanner.bytes(state), as: UTF8.self)
        } else {
            ev.eventID = tape.uniqueText(state)
        }
        return .success(ev)
    }

    /// `configurationItemCaptureTime`: RFC 3339 text, or seconds since the epoch (with a
    /// fraction) as the API and CLI print it.
    private func captureTime(_ i: Int) -> Int64? {
        guard i >= 0 else { return nil }
        switch scanner[i].kind {
        case .string: return tape.time(i)
        case .number:
            guard let seconds = tape.double(i), seconds.isFinite, abs(seconds) < 1e14 else { return nil }
            return Int64((seconds * 1000).rounded())
        default: return nil
        }
    }
}

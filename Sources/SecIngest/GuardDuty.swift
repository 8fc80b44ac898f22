import SecModel

/// GuardDuty findings: the S3 export (JSON lines, one finding a line, gzip'd), findings
/// in EventBridge envelopes (`"detail-type":"GuardDuty Finding"`), and
/// `{"findings":[...]}` lists as GetFindings returns them (`{"Findings":[...]}` with
/// capitalised keys from the AWS CLI and SDKs).
///
/// Records are walked by ``DocumentWalker``; see ``GuardDutyNormaliser`` for the mapping.
enum GuardDutyParser {
    /// Whether an input whose first JSON text starts here holds GuardDuty findings, by
    /// the first object's own keys: a `findings` array, `detail-type` "GuardDuty
    /// Finding", or `schemaVersion` and `type` with `severity`, `service` or `resource`
    /// (any of them capitalised). A CloudTrail record never has these at its top, even
    /// one about GuardDuty, so this is asked before CloudTrail.
    static func recognises(_ content: UnsafeRawBufferPointer) -> Bool {
        let probe = JSONProbe(content)
        if probe.opensArray("findings") || probe.opensArray("Findings") { return true }
        if probe.string("detail-type") == "GuardDuty Finding" { return true }
        func has(_ camel: StaticString, _ pascal: StaticString) -> Bool { probe.has(camel) || probe.has(pascal) }
        return has("schemaVersion", "SchemaVersion") && has("type", "Type")
            && (has("severity", "Severity") || has("service", "Service") || has("resource", "Resource"))
    }

    /// Parses a piece of an input (whole lines, or the whole input).
    static func parse(bytes: UnsafeRawBufferPointer, offset: Int64, line: Int, context: ParseContext) -> ParseOutput {
        var walker = DocumentWalker(buf: bytes, context: context, baseOffset: offset, baseLine: line,
                                    norm: context.scratch.guardDuty)
        return walker.run()
    }
}

/// Turns one GuardDuty finding into a `detection_finding` event.
///
/// Keys are matched whatever the case of their first letter, so the API's `accountId`
/// and the SDKs' `AccountId` both read. For an EventBridge envelope the finding is its
/// `detail` and `raw` the whole envelope; otherwise `raw` is the finding.
///
/// ## Mapping
///
/// - `time`: `updatedAt`, the finding's last update (each update of a finding is an
///   event of its own); else `createdAt`. `createdAt`, `service.eventFirstSeen` and
///   `service.eventLastSeen` are in `raw`.
/// - `account`: `accountId` (else the envelope's `account`, the path's, `--account`);
///   `region`: `region` (else the envelope's, the path's).
/// - `finding_type`: `type` (`Recon:EC2/PortProbeUnprotectedPort`); `severity`:
///   `severity`; `title`: `title`; `event_id`: `id`; `outcome`: `unknown`.
/// - `resource_type`: `resource.resourceType` as GuardDuty names it (`Instance`,
///   `AccessKey`, `S3Bucket`, `EKSCluster`, ...); `resource`: the identifier in the
///   details of that type: `instanceDetails.instanceId`, `s3BucketDetails[0].arn` (else
///   `name`), `eksClusterDetails.name`, `ecsClusterDetails.name`,
///   `rdsDbInstanceDetails.dbInstanceIdentifier`, `lambdaDetails.functionName`,
///   `containerDetails.name` (else `id`), `accessKeyDetails.userName` (else
///   `accessKeyId`); for another type, the first of these present.
/// - `principal`: `accessKeyDetails.principalId`, else `userName`; `principal_type`:
///   `accessKeyDetails.userType`; `access_key`: `accessKeyDetails.accessKeyId`.
/// - `action`: `service.action.actionType` (`NETWORK_CONNECTION`, `PORT_PROBE`,
///   `AWS_API_CALL`, `DNS_REQUEST`, `KUBERNETES_API_CALL`, `RDS_LOGIN_ATTEMPT`).
/// - Endpoints, from the action's details (`ipAddressV4`, else `ipAddressV6`):
///   - `networkConnectionAction`: the remote end (`remoteIpDetails`,
///     `remotePortDetails.port`) is the source and the local end (`localIpDetails`,
///     `localPortDetails.port`) the destination, except for `connectionDirection`
///     `OUTBOUND`, where the instance is the source; `protocol` from `protocol`.
///   - `portProbeAction.portProbeDetails[0]`: the prober is the source, the local
///     address and port probed the destination.
///   - `awsApiCallAction`, `kubernetesApiCallAction`, `rdsLoginAttemptAction`: the
///     caller (`remoteIpDetails`) is the source.
/// - `service`: `awsApiCallAction.serviceName`; `error_code`:
///   `awsApiCallAction.errorCode`; `user_agent`: the action's `userAgent`.
/// - `query_name`: `dnsRequestAction.domain`, lower-cased without its trailing dot as for
///   Route 53; `protocol` from its `protocol`.
///
/// A record without a `type` is refused (`not a GuardDuty finding (no type)`), as is one
/// without `updatedAt` or `createdAt`. A `severity` that is not a number is left empty.
final class GuardDutyNormaliser: JSONRecordNormaliser {
    let tape = TapeReader()
    var scanner: JSONScanner { tape.scanner }
    /// The DNS name being normalised.
    private var name: [UInt8] = []

    static let layout = JSONLayout(
        recordName: "GuardDuty finding", documentKeys: ["findings", "Findings"],
        documentFirstKeys: ["findings", "Findings"], recordStartKeys: ["schemaVersion", "SchemaVersion"],
        recordKeys: [
            "schemaVersion", "accountId", "region", "partition", "id", "arn", "type", "resource", "service",
            "severity", "createdAt", "updatedAt", "title", "description",
        ])

    /// Member `key` of object `obj`, the key's first letter in either case.
    @inline(__always) private func member(_ obj: Int, _ key: StaticString) -> Int {
        scanner.member(obj, key, eitherInitialCase: true)
    }

    func normalise(_ record: UnsafeRawBufferPointer, context: ParseContext,
                   into events: inout [Event]) -> JSONRecordResult {
        guard scanner.count > 0, scanner[0].kind == .object else {
            return .refused("not a GuardDuty finding (not a JSON object)")
        }
        var finding = 0
        var envAccount = -1, envRegion = -1
        let detailType = member(0, "detail-type")
        if detailType >= 0 {
            guard tape.textIs(detailType, "GuardDuty Finding") else {
                return .refused("not a GuardDuty finding (EventBridge event of another type)")
            }
            finding = tape.object(member(0, "detail"))
            guard finding >= 0 else { return .refused("not a GuardDuty finding (EventBridge event has no detail object)") }
            envAccount = member(0, "account")
            envRegion = member(0, "region")
        }
        let type = member(finding, "type")
        guard type >= 0, scanner[type].kind != .null else {
            if finding == 0 && tape.isKind(member(0, "findings"), .array) { return .document }
            return .refused("not a GuardDuty finding (no type)")
        }
        guard tape.isText(type) else { return .refused("not a GuardDuty finding (type is not a non-empty string)") }

        var timeKey = "updatedAt"
        var timeIndex = member(finding, "updatedAt")
        if timeIndex < 0 || scanner[timeIndex].kind == .null {
            timeKey = "createdAt"
            timeIndex = member(finding, "createdAt")
        }
        guard timeIndex >= 0, scanner[timeIndex].kind != .null else { return .refused("finding has no updatedAt or createdAt") }
        guard let time = tape.time(timeIndex) else {
            return .refused("\(timeKey) '\(tape.quotedValue(timeIndex))' is not RFC 3339")
        }
        guard let account = context.account(record: tape.text(member(finding, "accountId")) ?? tape.text(envAccount)) else {
            return .refused(ParseContext.noAccountReason)
        }
        var ev = Event(time: time, account: account, source: .guardduty, eventClass: .detectionFinding, raw: Array(record))
        ev.region = tape.text(member(finding, "region")) ?? tape.text(envRegion) ?? context.pathRegion
        ev.findingType = tape.text(type)
        ev.severity = tape.double(member(finding, "severity"))
        ev.title = tape.uniqueText(member(finding, "title"))
        ev.eventID = tape.uniqueText(member(finding, "id"))
        applyResource(tape.object(member(finding, "resource")), to: &ev)
        applyAction(tape.object(member(tape.object(member(finding, "service")), "action")), to: &ev)
        events.append(ev)
        return .events
    }

    // MARK: - Resource

    /// Per resource type: the details object naming it, and the keys identifying it
    /// there, best first (an array of details gives its first element).
    private static let resourceDetails: [(type: StaticString, details: StaticString, ids: [StaticString])] = [
        ("Instance", "instanceDetails", ["instanceId"]),
        ("S3Bucket", "s3BucketDetails", ["arn", "name"]),
        ("EKSCluster", "eksClusterDetails", ["name", "arn"]),
        ("ECSCluster", "ecsClusterDetails", ["name", "arn"]),
        ("RDSDBInstance", "rdsDbInstanceDetails", ["dbInstanceIdentifier", "dbInstanceArn"]),
        ("Lambda", "lambdaDetails", ["functionName", "functionArn"]),
        ("Container", "containerDetails", ["name", "id"]),
        ("AccessKey", "accessKeyDetails", ["userName", "accessKeyId"]),
    ]

    private func applyResource(_ resource: Int, to ev: inout Event) {
        guard resource >= 0 else { return }
        let typeIndex = member(resource, "resourceType")
        ev.resourceType = tape.text(typeIndex)
        /// The identifier in the details a row names, if present.
        func identifier(_ row: (type: StaticString, details: StaticString, ids: [StaticString])) -> String? {
            var details = member(resource, row.details)
            if tape.isKind(details, .array) { details = scanner.element(details, 0) }
            details = tape.object(details)
            guard details >= 0 else { return nil }
            for key in row.ids { if let id = tape.text(member(details, key)) { return id } }
            return nil
        }
        if tape.isText(typeIndex), let row = Self.resourceDetails.first(where: { tape.textIs(typeIndex, $0.type) }) {
            ev.resource = identifier(row)
        }
        if ev.resource == nil { ev.resource = Self.resourceDetails.lazy.compactMap(identifier).first }

        let key = tape.object(member(resource, "accessKeyDetails"))
        ev.accessKey = tape.text(member(key, "accessKeyId"))
        ev.principal = tape.text(member(key, "principalId")) ?? tape.text(member(key, "userName"))
        ev.principalType = tape.text(member(key, "userType"))
    }

    // MARK: - Action

    private func applyAction(_ action: Int, to ev: inout Event) {
        guard action >= 0 else { return }
        ev.action = tape.text(member(action, "actionType"))
        let connection = tape.object(member(action, "networkConnectionAction"))
        if connection >= 0 {
            let remote = address(member(connection, "remoteIpDetails"))
            let remotePort = tape.integer(member(tape.object(member(connection, "remotePortDetails")), "port"))
            let local = address(member(connection, "localIpDetails"))
            let localPort = tape.integer(member(tape.object(member(connection, "localPortDetails")), "port"))
            if tape.textIs(member(connection, "connectionDirection"), "OUTBOUND") {
                (ev.srcIP, ev.srcPort, ev.dstIP, ev.dstPort) = (local, localPort, remote, remotePort)
            } else {
                (ev.srcIP, ev.srcPort, ev.dstIP, ev.dstPort) = (remote, remotePort, local, localPort)
            }
            ev.proto = protocolNumber(member(connection, "protocol"))
            return
        }
        let probe = tape.object(scanner.element(member(tape.object(member(action, "portProbeAction")), "portProbeDetails"), 0))
        if probe >= 0 {
            ev.srcIP = address(member(probe, "remoteIpDetails"))
            ev.dstIP = address(member(probe, "localIpDetails"))
            ev.dstPort = tape.integer(member(tape.object(member(probe, "localPortDetails")), "port"))
            return
        }
        let api = tape.object(member(action, "awsApiCallAction"))
        if api >= 0 {
            ev.srcIP = address(member(api, "remoteIpDetails"))
            ev.service = tape.text(member(api, "serviceName"))
            ev.errorCode = tape.text(member(api, "errorCode"))
            ev.userAgent = tape.text(member(api, "userAgent"))
            return
        }
        let dns = tape.object(member(action, "dnsRequestAction"))
        if dns >= 0 {
            let domain = member(dns, "domain")
            if tape.isText(domain) {
                ev.queryName = tape.withText(domain) { b in
                    Text.dnsName(b, into: &name)
                    return name.withUnsafeBytes { tape.intern($0) }
                }
            }
            ev.proto = protocolNumber(member(dns, "protocol"))
            return
        }
        for key: StaticString in ["kubernetesApiCallAction", "rdsLoginAttemptAction"] {
            let call = tape.object(member(action, key))
            guard call >= 0 else { continue }
            ev.srcIP = address(member(call, "remoteIpDetails"))
            ev.userAgent = tape.text(member(call, "userAgent"))
            return
        }
    }

    /// The address in an `ipDetails` object: `ipAddressV4`, else `ipAddressV6`.
    private func address(_ details: Int) -> IPAddress? {
        let d = tape.object(details)
        return tape.ip(member(d, "ipAddressV4")) ?? tape.ip(member(d, "ipAddressV6"))
    }

    private func protocolNumber(_ i: Int) -> Int64? {
        tape.isText(i) ? tape.withText(i) { Text.ipProtocol($0) } : nil
    }
}

extension Event {
    /// Sets one core field from a value, the inverse of `value(of:)`. A value of the
    /// wrong kind, or `.null`, leaves the field `nil`; `time`, `seq`, `bank`, `account`,
    /// `source` and `class` are set only from a value of their own kind.
    public mutating func set(_ field: Field, _ v: Value) {
        func string() -> String? { if case .string(let s) = v { s } else { nil } }
        func int() -> Int64? { if case .int(let i) = v { i } else { nil } }
        func ip() -> IPAddress? { if case .ip(let a) = v { a } else { nil } }
        switch field {
        case .time: if case .time(let t) = v { time = t }
        case .seq: if let i = int() { seq = UInt64(bitPattern: i) }
        case .bank: if let s = string() { bank = s }
        case .account: if let s = string() { account = s }
        case .source: if let s = string().flatMap(Source.init(rawValue:)) { source = s }
        case .eventClass: if let c = string().flatMap(EventClass.init(rawValue:)) { eventClass = c }
        case .outcome: outcome = string().flatMap(Outcome.init(rawValue:)) ?? .unknown
        case .ou: ou = string()
        case .region: region = string()
        case .action: action = string()
        case .principal: principal = string()
        case .principalType: principalType = string()
        case .accessKey: accessKey = string()
        case .mfa:
            switch v {
            case .bool(let b): mfa = b
            case .int(let i): mfa = i != 0
            default: mfa = nil
            }
        case .srcIP: srcIP = ip()
        case .srcService: srcService = string()
        case .srcPort: srcPort = int()
        case .dstIP: dstIP = ip()
        case .dstPort: dstPort = int()
        case .proto: proto = int()
        case .bytes: bytes = int()
        case .packets: packets = int()
        case .service: service = string()
        case .resource: resource = string()
        case .resourceType: resourceType = string()
        case .userAgent: userAgent = string()
        case .errorCode: errorCode = string()
        case .httpStatus: httpStatus = int()
        case .url: url = string()
        case .queryName: queryName = string()
        case .eventID: eventID = string()
        case .severity:
            switch v {
            case .double(let d): severity = d
            case .int(let i): severity = Double(i)
            default: severity = nil
            }
        case .findingType: findingType = string()
        case .title: title = string()
        }
    }
}

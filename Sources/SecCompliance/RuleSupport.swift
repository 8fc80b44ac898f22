import Foundation

/// Reading a security group's `ipPermissions`.
enum SecurityGroup {
    static let world: Set<String> = ["0.0.0.0/0", "::/0"]

    /// The first inbound permission that lets tcp `port` in from anywhere, as
    /// `tcp/22 from 0.0.0.0/0` (`all traffic from ::/0` for protocol -1); nil when none.
    static func worldOpen(_ conf: JSONValue, port: Int) -> String? {
        for perm in conf.member("ipPermissions")?.array ?? [] {
            let proto = perm.member("ipProtocol")?.string ?? (perm.member("ipProtocol")?.number.map { String(Int($0)) } ?? "")
            let all = proto == "-1" || proto.lowercased() == "all"
            guard all || proto.lowercased() == "tcp" || proto == "6" else { continue }
            if !all {
                let from = perm.member("fromPort")?.number.map(Int.init)
                let to = perm.member("toPort")?.number.map(Int.init)
                if let from, let to, from != -1, !(from...max(from, to)).contains(port) { continue }
            }
            for cidr in cidrs(perm) where world.contains(cidr) {
                return all ? "all traffic from \(cidr)" : "tcp/\(port) from \(cidr)"
            }
        }
        return nil
    }

    /// The source ranges of a permission: `ipv4Ranges[].cidrIp`, `ipRanges` (strings or
    /// objects), `ipv6Ranges[].cidrIpv6`.
    static func cidrs(_ perm: JSONValue) -> [String] {
        var out: [String] = []
        for key in ["ipv4Ranges", "ipRanges", "ipv6Ranges"] {
            for r in perm.member(key)?.array ?? [] {
                if let s = r.string { out.append(s) }
                if let s = r.member("cidrIp")?.string { out.append(s) }
                if let s = r.member("cidrIpv6")?.string { out.append(s) }
            }
        }
        return out
    }
}

/// Reading an S3 bucket's supplementary configuration.
enum S3Bucket {
    static let blockFlags = ["blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets"]

    /// The statements of the bucket policy (`BucketPolicy.policyText`).
    static func statements(_ item: ConfigItem) -> [JSONValue] {
        guard let text = item.supplementary("BucketPolicy")?.member("policyText") else { return [] }
        return IAMPolicy.statements(text.unwrapped)
    }

    /// Why the bucket is publicly readable (or writable), nil when it is not: an Allow
    /// statement to everyone without a condition, or an ACL grant to AllUsers or
    /// AuthenticatedUsers, unless the bucket's Block Public Access overrides it
    /// (`restrictPublicBuckets` for policies, `ignorePublicAcls` for ACLs).
    static func publicGrant(_ item: ConfigItem, write: Bool) -> String? {
        let bpa = item.supplementary("PublicAccessBlockConfiguration")
        let verbs = write ? ["s3:putobject", "s3:deleteobject", "s3:put*", "s3:*", "*"]
                          : ["s3:getobject", "s3:get*", "s3:listbucket", "s3:list*", "s3:*", "*"]
        if bpa?.member("restrictPublicBuckets")?.bool != true {
            for s in statements(item) where s.member("Effect")?.string == "Allow" && s.member("Condition") == nil {
                guard IAMPolicy.isEveryone(s.member("Principal")) else { continue }
                let actions = (s.member("Action")?.list ?? []).compactMap { $0.string?.lowercased() }
                if let a = actions.first(where: verbs.contains) {
                    return "bucket policy grants \(a == "*" ? "*" : "s3:" + a.dropFirst(3).capitalizedFirst) to Principal *"
                }
            }
        }
        if bpa?.member("ignorePublicAcls")?.bool != true {
            let acl = item.supplementary("AccessControlList")
            let perms = write ? ["write", "fullcontrol", "write_acp"] : ["read", "fullcontrol"]
            for g in acl?.member("grantList")?.array ?? [] {
                let grantee = g.member("grantee")
                let who = grantee?.string ?? grantee?.member("uri")?.string ?? grantee?.member("URI")?.string ?? ""
                guard who.contains("AllUsers") || who.contains("AuthenticatedUsers") else { continue }
                let p = (g.member("permission")?.string ?? "").lowercased().replacingOccurrences(of: "_", with: "")
                if perms.contains(p) || perms.contains(g.member("permission")?.string?.lowercased() ?? "") {
                    return "ACL grants \(g.member("permission")?.string ?? "") to \(who.contains("AllUsers") ? "AllUsers" : "AuthenticatedUsers")"
                }
            }
        }
        return nil
    }
}

extension StringProtocol {
    var capitalizedFirst: String {
        // s3 actions are shown as AWS spells them: GetObject, PutObject, Get*.
        let names = ["getobject": "GetObject", "putobject": "PutObject", "deleteobject": "DeleteObject",
                     "listbucket": "ListBucket", "get*": "Get*", "put*": "Put*", "list*": "List*", "*": "*"]
        return names[String(self)] ?? String(self)
    }
}

/// Reading IAM policy documents.
enum IAMPolicy {
    /// The statements of a policy document (`Statement` as one object or a list).
    static func statements(_ doc: JSONValue) -> [JSONValue] {
        doc.member("Statement")?.list ?? []
    }

    /// A policy document from a policy version's `document`: an object, JSON text, or
    /// URL-encoded JSON text (as IAM returns it).
    static func document(_ v: JSONValue?) -> JSONValue? {
        guard let v else { return nil }
        if v.object != nil { return v }
        guard var s = v.string else { return nil }
        if !s.hasPrefix("{"), let decoded = s.removingPercentEncoding { s = decoded }
        return JSONValue(parsing: s)
    }

    /// Whether a `Principal` is everyone: `*` or `{"AWS": "*"}`.
    static func isEveryone(_ p: JSONValue?) -> Bool {
        guard let p else { return false }
        if p.string == "*" { return true }
        return (p.member("AWS")?.list ?? []).contains(.string("*"))
    }
}

/// cloudtrail-enabled and multi-region-cloudtrail-enabled over an account's trails.
enum Trails {
    static func verdict(_ scope: ConfigItem, _ ctx: RuleContext, multiRegion: Bool) -> Verdict {
        let everRecorded = ctx.accountItems.contains { $0.resourceType == ManagedRules.trailType }
        guard everRecorded else { return .insufficient("no AWS::CloudTrail::Trail recorded in the account") }
        let trails = ctx.live(ManagedRules.trailType).filter { t in
            guard let c = t.configuration else { return false }
            if c.member("isLogging")?.bool == false { return false }
            let multi = c.member("isMultiRegionTrail")?.bool == true
            return multiRegion ? multi : (multi || t.region == scope.region || c.member("homeRegion")?.string == scope.region)
        }
        if trails.isEmpty {
            return .nonCompliant(multiRegion ? "no logging multi-region trail (isMultiRegionTrail)"
                                             : "no logging trail covers \(scope.region)")
        }
        let p = ctx.parameters
        let matching = trails.filter { t in
            let c = t.configuration!
            if let b = p.string("s3BucketName"), c.member("s3BucketName")?.string != b { return false }
            if let s = p.string("snsTopicArn"), c.member("snsTopicARN")?.string != s && c.member("snsTopicArn")?.string != s { return false }
            if let g = p.string("cloudWatchLogsLogGroupArn"), c.member("cloudWatchLogsLogGroupArn")?.string != g { return false }
            if multiRegion, let rw = p.string("readWriteType") {
                let selectors = c.member("eventSelectors")?.array ?? []
                if !selectors.isEmpty && !selectors.contains(where: { $0.member("readWriteType")?.string == rw || $0.member("readWriteType")?.string == "All" }) {
                    return false
                }
            }
            return true
        }
        guard let t = matching.first else {
            return .nonCompliant("no trail matches the parameters (s3BucketName, snsTopicArn, cloudWatchLogsLogGroupArn, readWriteType)")
        }
        return .compliant("trail \(t.resourceName ?? t.resourceId)")
    }
}

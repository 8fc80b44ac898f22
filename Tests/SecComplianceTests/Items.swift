import Foundation
@testable import SecCompliance

/// Configuration items written in the shape AWS Config delivers them (snapshot and
/// history files, change notifications): every top-level key Config writes, the
/// `configuration` as the service describes the resource, supplementary values as
/// Config writes them (S3's as JSON text).
enum Items {
    static let account = "111122223333"

    static func json(_ type: String, id: String, arn: String? = nil, region: String = "eu-west-1", status: String = "OK",
                     time: String = "2026-11-03T10:00:00.000Z", conf: String, supp: String = "{}") -> String {
        let arnText = arn.map { "\"\($0)\"" } ?? "null"
        return """
        {"relatedEvents":[],"relationships":[],"configuration":\(conf),"supplementaryConfiguration":\(supp),\
        "tags":{},"configurationItemVersion":"1.3","configurationItemCaptureTime":"\(time)",\
        "configurationStateId":1762164000000,"awsAccountId":"\(account)","configurationItemStatus":"\(status)",\
        "resourceType":"\(type)","resourceId":"\(id)","resourceName":"\(id)","ARN":\(arnText),"awsRegion":"\(region)",\
        "availabilityZone":"Not Applicable","configurationStateMd5Hash":"","resourceCreationTime":"2025-01-20T12:00:00.000Z"}
        """
    }

    static func item(_ text: String) -> ConfigItem {
        guard let i = ConfigItem(raw: Array(text.utf8), account: "000000000000", region: nil, time: 0) else {
            fatalError("not an item: \(text)")
        }
        return i
    }

    // MARK: security groups

    static func perm(_ port: Int?, _ cidr: String, proto: String = "tcp") -> String {
        let ports = port.map { "\"fromPort\":\($0),\"toPort\":\($0)," } ?? "\"fromPort\":null,\"toPort\":null,"
        let v6 = cidr.contains(":")
        return "{\(ports)\"ipProtocol\":\"\(proto)\",\"ipv6Ranges\":[\(v6 ? "{\"cidrIpv6\":\"\(cidr)\"}" : "")],\"prefixListIds\":[],"
            + "\"userIdGroupPairs\":[],\"ipv4Ranges\":[\(v6 ? "" : "{\"cidrIp\":\"\(cidr)\"}")],\"ipRanges\":[\(v6 ? "" : "\"\(cidr)\"")]}"
    }

    static func sg(_ perms: [String], name: String = "web", egress: [String] = [], status: String = "OK") -> String {
        json("AWS::EC2::SecurityGroup", id: "sg-0a1b2c3d4e5f", arn: "arn:aws:ec2:eu-west-1:\(account):security-group/sg-0a1b2c3d4e5f",
             status: status,
             conf: "{\"description\":\"x\",\"groupName\":\"\(name)\",\"ownerId\":\"\(account)\",\"groupId\":\"sg-0a1b2c3d4e5f\","
                 + "\"ipPermissions\":[\(perms.joined(separator: ","))],\"ipPermissionsEgress\":[\(egress.joined(separator: ","))],"
                 + "\"tags\":[],\"vpcId\":\"vpc-0123\"}")
    }

    // MARK: buckets (supplementary values as JSON text, as Config writes them)

    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static let bpaOn = "{\"blockPublicAcls\":true,\"ignorePublicAcls\":true,\"blockPublicPolicy\":true,\"restrictPublicBuckets\":true}"
    static let bpaOff = "{\"blockPublicAcls\":false,\"ignorePublicAcls\":false,\"blockPublicPolicy\":false,\"restrictPublicBuckets\":false}"
    static let sslDeny = "{\"Sid\":\"ssl\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::b/*\",\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}}"
    static let publicRead = "{\"Sid\":\"pub\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}"
    static let publicWrite = "{\"Sid\":\"pubw\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":[\"s3:PutObject\"],\"Resource\":\"arn:aws:s3:::b/*\"}"
    static let sse = "{\"rules\":[{\"applyServerSideEncryptionByDefault\":{\"sseAlgorithm\":\"aws:kms\",\"kmsMasterKeyID\":\"k\"},\"bucketKeyEnabled\":true}]}"

    static func bucket(bpa: String? = bpaOn, statements: [String] = [sslDeny], sse: String? = sse,
                       versioning: String = "Enabled", logging: String? = "logs-bucket", acl: String? = nil,
                       status: String = "OK") -> String {
        var supp: [String] = []
        if let bpa { supp.append("\"PublicAccessBlockConfiguration\":\(quoted(bpa))") }
        let policy = statements.isEmpty ? "null" : quoted("{\"Version\":\"2012-10-17\",\"Statement\":[\(statements.joined(separator: ","))]}")
        supp.append("\"BucketPolicy\":{\"policyText\":\(policy)}")
        if let sse { supp.append("\"ServerSideEncryptionConfiguration\":\(quoted(sse))") }
        supp.append("\"BucketVersioningConfiguration\":{\"status\":\"\(versioning)\",\"isMfaDeleteEnabled\":null}")
        if let logging { supp.append("\"BucketLoggingConfiguration\":{\"destinationBucketName\":\"\(logging)\",\"logFilePrefix\":\"s3/\"}") }
        else { supp.append("\"BucketLoggingConfiguration\":{\"destinationBucketName\":null,\"logFilePrefix\":null}") }
        if let acl { supp.append("\"AccessControlList\":\(quoted(acl))") }
        return json("AWS::S3::Bucket", id: "b", arn: "arn:aws:s3:::b", status: status,
                    conf: "{\"name\":\"b\",\"owner\":{\"displayName\":null,\"id\":\"abc\"},\"creationDate\":\"2024-03-11T09:21:07.000Z\"}",
                    supp: "{" + supp.joined(separator: ",") + "}")
    }
}

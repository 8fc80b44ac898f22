import SecModel
import Testing
@testable import SecDetect

/// Each rule fires on a positive and stays quiet on a near miss.
@Suite struct CloudTrailRuleTests {
    func types(_ drafts: [FindingDraft]) -> [String] { drafts.map(\.type.description) }

    @Test func rootCredentialUsage() {
        let r = RootCredentialUsageRule()
        let hit = run(r, [ct("ListBuckets", source: "s3.amazonaws.com", identity: rootIdentity)])
        #expect(types(hit) == ["Policy:IAMUser/RootCredentialUsage"])
        #expect(hit.first?.aggregationKey == ["arn:aws:iam::111122223333:root"])
        #expect(hit.first?.severity == 2.0)
        // Near misses: an IAM user; a call a service made on root's behalf.
        let invoked = #"{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333","invokedBy":"support.amazonaws.com"}"#
        #expect(run(r, [ct("ListBuckets", source: "s3.amazonaws.com"), ct("ListBuckets", identity: invoked)]).isEmpty)
    }

    @Test func cloudTrailLoggingDisabled() {
        let r = CloudTrailLoggingDisabledRule()
        let src = "cloudtrail.amazonaws.com"
        let hits = run(r, [
            ct("StopLogging", source: src, params: #"{"name":"main"}"#),
            ct("DeleteTrail", source: src, params: #"{"name":"main"}"#),
            ct("UpdateTrail", source: src, params: #"{"name":"main","isMultiRegionTrail":false}"#),
            ct("PutEventSelectors", source: src, params: #"{"trailName":"main","eventSelectors":[{"includeManagementEvents":false,"readWriteType":"All"}]}"#),
        ])
        #expect(types(hits) == Array(repeating: "Stealth:IAMUser/CloudTrailLoggingDisabled", count: 4))
        #expect(Set(hits.map(\.findingID)).count == 1, "one trail, one finding")
        // Near misses: a failed StopLogging, StartLogging, an UpdateTrail that keeps
        // logging, selectors still logging management events.
        #expect(run(r, [
            ct("StopLogging", source: src, params: #"{"name":"main"}"#, error: "AccessDenied"),
            ct("StartLogging", source: src, params: #"{"name":"main"}"#),
            ct("UpdateTrail", source: src, params: #"{"name":"main","isMultiRegionTrail":true}"#),
            ct("PutEventSelectors", source: src, params: #"{"trailName":"main","eventSelectors":[{"includeManagementEvents":true}]}"#),
        ]).isEmpty)
    }

    @Test func privilegedLoginWithoutMFA() {
        let r = PrivilegedConsoleLoginWithoutMFARule()
        let admin = #"{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ops-Admin","accountId":"111122223333","userName":"ops-Admin"}"#
        #expect(types(run(r, [login(rootIdentity), login(admin)])) == Array(repeating: "Policy:IAMUser/PrivilegedConsoleLoginWithoutMFA.Custom", count: 2))
        // Near misses: an admin with MFA, a plain user without, a failed admin log-in.
        #expect(run(r, [login(admin, mfa: true), login(aliceIdentity), login(admin, ok: false)]).isEmpty)
    }

    @Test func s3Rules() {
        let r = S3PolicyRules()
        let s3 = "s3.amazonaws.com"
        let bpaOff = #"{"bucketName":"b1","PublicAccessBlockConfiguration":{"BlockPublicAcls":true,"IgnorePublicAcls":true,"BlockPublicPolicy":false,"RestrictPublicBuckets":true},"publicAccessBlock":""}"#
        let bpaOn = #"{"bucketName":"b1","PublicAccessBlockConfiguration":{"BlockPublicAcls":true,"IgnorePublicAcls":true,"BlockPublicPolicy":true,"RestrictPublicBuckets":true}}"#
        let open = #"{"bucketName":"b1","bucketPolicy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b1/*"}]}}"#
        let openAWS = #"{"bucketName":"b2","bucketPolicy":{"Statement":{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":"s3:*","Resource":"*"}}}"#
        let denyAll = #"{"bucketName":"b1","bucketPolicy":{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}}"#
        let oneAccount = #"{"bucketName":"b1","bucketPolicy":{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"*"}]}}"#
        let aclPublic = #"{"bucketName":"b3","AccessControlPolicy":{"AccessControlList":{"Grant":[{"Grantee":{"xsi:type":"Group","URI":"http://acs.amazonaws.com/groups/global/AllUsers"},"Permission":"READ"}]}}}"#
        let aclPrivate = #"{"bucketName":"b3","AccessControlPolicy":{"AccessControlList":{"Grant":[{"Grantee":{"xsi:type":"CanonicalUser","ID":"abc"},"Permission":"FULL_CONTROL"}]}}}"#
        let logOff = #"{"bucketName":"b1","BucketLoggingStatus":{"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/"},"logging":""}"#
        let logOn = #"{"bucketName":"b1","BucketLoggingStatus":{"LoggingEnabled":{"TargetBucket":"logs","TargetPrefix":"b1/"}},"logging":""}"#
        let hits = run(r, [
            ct("PutBucketPublicAccessBlock", source: s3, params: bpaOff),
            ct("DeleteBucketPublicAccessBlock", source: s3, params: #"{"bucketName":"b1"}"#),
            ct("PutAccountPublicAccessBlock", source: s3, params: #"{"PublicAccessBlockConfiguration":{"BlockPublicAcls":false}}"#),
            ct("PutBucketPolicy", source: s3, params: open),
            ct("PutBucketPolicy", source: s3, params: openAWS),
            ct("PutBucketAcl", source: s3, params: aclPublic),
            ct("PutBucketAcl", source: s3, params: #"{"bucketName":"b4","x-amz-acl":["public-read"]}"#),
            ct("PutBucketLogging", source: s3, params: logOff),
        ])
        #expect(types(hits) == ["Policy:S3/BucketBlockPublicAccessDisabled", "Policy:S3/BucketBlockPublicAccessDisabled",
                                "Policy:S3/AccountBlockPublicAccessDisabled", "Policy:S3/BucketAnonymousAccessGranted",
                                "Policy:S3/BucketAnonymousAccessGranted", "Policy:S3/BucketAnonymousAccessGranted",
                                "Policy:S3/BucketAnonymousAccessGranted", "Stealth:S3/ServerAccessLoggingDisabled"])
        #expect(hits.map(\.resource) == ["b1", "b1", nil, "b1", "b2", "b3", "b4", "b1"])
        #expect(hits[3].severity == 8.0)
        #expect(run(r, [
            ct("PutBucketPublicAccessBlock", source: s3, params: bpaOn),
            ct("PutBucketPolicy", source: s3, params: denyAll),
            ct("PutBucketPolicy", source: s3, params: oneAccount),
            ct("PutBucketPolicy", source: s3, params: open, error: "AccessDenied"),
            ct("PutBucketAcl", source: s3, params: aclPrivate),
            ct("PutBucketAcl", source: s3, params: #"{"bucketName":"b4","x-amz-acl":["private"]}"#),
            ct("PutBucketLogging", source: s3, params: logOn),
        ]).isEmpty)
    }

    @Test func securityGroupOpenedOnAdminPort() {
        let r = SecurityGroupOpenRule()
        let ec2 = "ec2.amazonaws.com"
        let items = #"{"groupId":"sg-1","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":3380,"toPort":3390,"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]},"ipv6Ranges":{}}]}}"#
        let v6 = #"{"groupId":"sg-2","ipPermissions":{"items":[{"ipProtocol":"-1","ipv6Ranges":{"items":[{"cidrIpv6":"::/0"}]}}]}}"#
        let hits = run(r, [ct("AuthorizeSecurityGroupIngress", source: ec2, params: items),
                           ct("AuthorizeSecurityGroupIngress", source: ec2, params: v6)])
        #expect(hits.map(\.aggregationKey).first == ["sg-1", "3389"])
        #expect(hits.filter { $0.resource == "sg-2" }.count == AdminPorts.ports.count)
        // Near misses: port 443 to the world; port 22 to a /8.
        let web = #"{"groupId":"sg-1","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":443,"toPort":443,"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]}}]}}"#
        let narrow = #"{"groupId":"sg-1","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipRanges":{"items":[{"cidrIp":"10.0.0.0/8"}]}}]}}"#
        #expect(run(r, [ct("AuthorizeSecurityGroupIngress", source: ec2, params: web),
                        ct("AuthorizeSecurityGroupIngress", source: ec2, params: narrow)]).isEmpty)
    }

    @Test func accessKeyForAnotherUser() {
        let r = AccessKeyForOtherUserRule()
        #expect(types(run(r, [ct("CreateAccessKey", params: #"{"userName":"bob"}"#)])) == ["Persistence:IAMUser/AccessKeyCreatedForOtherUser.Custom"])
        #expect(run(r, [ct("CreateAccessKey", params: #"{"userName":"alice"}"#), ct("CreateAccessKey")]).isEmpty)
    }

    @Test func adminPolicyAttached() {
        let r = AdminPolicyAttachedRule()
        let inline = #"{"roleName":"r1","policyName":"p","policyDocument":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}"#
        let hits = run(r, [ct("AttachRolePolicy", params: #"{"roleName":"r1","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}"#),
                           ct("PutRolePolicy", params: inline)])
        #expect(hits.map(\.resource) == ["r1", "r1"])
        let narrow = #"{"roleName":"r1","policyName":"p","policyDocument":"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}]}"}"#
        #expect(run(r, [ct("AttachRolePolicy", params: #"{"roleName":"r1","policyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}"#),
                        ct("PutRolePolicy", params: narrow)]).isEmpty)
    }

    // MARK: Stratus Red Team detonations (real records)

    func stratusFindings(_ technique: String, _ d: any Detector) -> [FindingDraft]? {
        guard let events = stratus(technique) else {
            print("skipping \(technique): ../shared/corpus/stratus-red-team is not present")
            return nil
        }
        #expect(!events.isEmpty)
        var set = DetectorSet([d])
        return events.flatMap { set.observe($0) }
    }

    @Test func stratusPositives() {
        let cases: [(String, any Detector, String)] = [
            ("aws.defense-evasion.cloudtrail-stop", CloudTrailLoggingDisabledRule(), "Stealth:IAMUser/CloudTrailLoggingDisabled"),
            ("aws.defense-evasion.cloudtrail-delete", CloudTrailLoggingDisabledRule(), "Stealth:IAMUser/CloudTrailLoggingDisabled"),
            ("aws.defense-evasion.cloudtrail-event-selectors", CloudTrailLoggingDisabledRule(), "Stealth:IAMUser/CloudTrailLoggingDisabled"),
            ("aws.exfiltration.ec2-security-group-open-port-22-ingress", SecurityGroupOpenRule(), "Policy:EC2/SecurityGroupAdminPortOpen.Custom"),
            ("aws.persistence.iam-backdoor-user", AccessKeyForOtherUserRule(), "Persistence:IAMUser/AccessKeyCreatedForOtherUser.Custom"),
            ("aws.persistence.iam-create-admin-user", AdminPolicyAttachedRule(), "PrivilegeEscalation:IAMUser/AdministrativePolicyAttached.Custom"),
            ("aws.persistence.iam-create-admin-user", AccessKeyForOtherUserRule(), "Persistence:IAMUser/AccessKeyCreatedForOtherUser.Custom"),
        ]
        for (technique, d, type) in cases {
            guard let found = stratusFindings(technique, d) else { continue }
            #expect(found.map(\.type.description) == [type], "\(technique)")
        }
        // The role variant attaches AdministratorAccess to a new role.
        if let found = stratusFindings("aws.persistence.iam-create-backdoor-role", AdminPolicyAttachedRule()) {
            #expect(found.count == 1)
        }
    }

    @Test func stratusConsoleLoginWithoutMFAIsNotPrivileged() {
        // The detonation's user is an ordinary user: the privileged rule stays quiet,
        // and the same record for an admin-named user fires.
        guard let events = stratus("aws.initial-access.console-login-without-mfa") else {
            print("skipping: ../shared/corpus/stratus-red-team is not present"); return
        }
        #expect(events.count == 1 && events[0].mfa == false)
        #expect(run(PrivilegedConsoleLoginWithoutMFARule(), events).isEmpty)
        var admin = events[0]
        admin.principal = "arn:aws:iam::562283505220:user/stratus-admin"
        #expect(run(PrivilegedConsoleLoginWithoutMFARule(), [admin]).count == 1)
    }

    @Test func stratusBackgroundIsQuiet() {
        // Techniques none of these rules covers produce nothing from them.
        let rules: [any Detector] = BuiltInDetectors.all().filter { $0.sources.contains(.cloudtrail) }
        for technique in ["aws.credential-access.secretsmanager-retrieve-secrets", "aws.execution.ssm-send-command",
                          "aws.discovery.ec2-download-user-data", "aws.persistence.lambda-overwrite-code"] {
            guard let events = stratus(technique) else { print("skipping \(technique): corpus not present"); continue }
            var set = DetectorSet(rules)
            let found = events.flatMap { set.observe($0) }
            #expect(found.isEmpty, "\(technique): \(found.map(\.type.description))")
        }
    }
}

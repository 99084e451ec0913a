import Foundation
@testable import Records
import Testing

@Suite struct RedactionTests {
    @Test(arguments: [
        ("token", true), ("githubToken", true), ("GIT_TOKEN", true), ("refresh-token", true),
        ("password", true), ("dbPassword", true), ("passwd", true), ("client_secret", true),
        ("Authorization", true), ("proxy-authorization", true), ("access_key", true), ("accessKeyId", true),
        ("AWS_SECRET_ACCESS_KEY", true), ("secret_key", true), ("private_key_pem", true), ("apiKey", true),
        ("credentials", true),
        ("key", false), ("artifactKey", false), ("cache_key", false), ("keys", false), ("repo", false),
        ("ref", false), ("author", false), ("workload", false),
    ])
    func recognisesSecretKeys(key: String, isSecret: Bool) {
        #expect(Redaction.isSecretKey(key) == isSecret)
    }

    @Test(arguments: [
        ("https://user:tok@github.com/org/repo.git", "https://***@github.com/org/repo.git"),
        ("https://x-access-token:ghp_abc@host", "https://***@host"),
        (
            "clone https://u:p@a.example/r and s3://AKIA:sk@bucket/k",
            "clone https://***@a.example/r and s3://***@bucket/k"
        ),
        ("https://github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("https://host/path?email=a@b.c", "https://host/path?email=a@b.c"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("not a url: ://x@y", "not a url: ://x@y"),
    ])
    func stripsURLUserinfo(text: String, expected: String) {
        #expect(Redaction.redactURLUserinfo(text) == expected)
    }

    /// The byte scan that skips most strings never skips one the full masking would change:
    /// random texts of URL pieces, whitespace, Unicode whitespace and combining marks.
    @Test func skippingTextsWithoutUserinfoChangesNothing() {
        let pieces = [
            "://", "https", "s3", "u", ":", "p", "@", "/", "?", "#", " ", "\t", "\r\n", "\u{A0}", "\u{2028}",
            "\u{301}", "\u{600}", "é", "host", ".", "x-y", "1",
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let text = (0..<Int.random(in: 1...12, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }
                .joined()
            #expect(Redaction.redactURLUserinfo(text) == Redaction.maskingUserinfo(text), "\(text.debugDescription)")
        }
    }

    @Test func redactsNestedDocumentsAndKeepsArtifactKeys() throws {
        let input = """
            {"repo": "https://bot:ghp_123@github.com/o/r.git", "ref": "main", "token": "ghp_123",
             "registry": {"password": "hunter2", "username": "bot", "auth": null},
             "artifacts": [{"key": "contexts/abc.tar.gz", "size": 10}],
             "env": [{"name": "NPM_TOKEN", "value": "x"}], "authorization": {"scheme": "Bearer"},
             "cache": true, "retries": 3, "apiToken": null}
            """
        let output = try Redaction.redact(jsonText: input)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        #expect(object["repo"] as? String == "https://***@github.com/o/r.git")
        #expect(object["ref"] as? String == "main")
        #expect(object["token"] as? String == "***")
        #expect(object["authorization"] as? String == "***")
        #expect(object["apiToken"] is NSNull)
        let registry = try #require(object["registry"] as? [String: Any])
        #expect(registry["password"] as? String == "***")
        #expect(registry["username"] as? String == "bot")
        let artifacts = try #require(object["artifacts"] as? [[String: Any]])
        #expect(artifacts.first?["key"] as? String == "contexts/abc.tar.gz")
        #expect(object["cache"] as? Bool == true)
        #expect(object["retries"] as? Int == 3)
        #expect(!output.contains("ghp_123") && !output.contains("hunter2"))
        // Values are redacted by their key, not their content: `value` next to a secret-looking name stays.
        #expect(output.contains(#""value":"x""#))
    }

    @Test func redactsScalarDocuments() throws {
        #expect(try Redaction.redact(jsonText: #""https://a:b@h/x""#) == #""https://***@h/x""#)
    }

    @Test func rejectsInvalidJSON() {
        #expect(throws: (any Error).self) { try Redaction.redact(jsonText: "{not json") }
    }
}

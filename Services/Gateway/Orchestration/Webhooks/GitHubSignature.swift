import Digests
import ServiceKit

/// GitHub's `X-Hub-Signature-256: sha256=<hex>`: HMAC-SHA256 of the raw body under the
/// webhook's secret, compared in constant time.
public enum GitHubSignature {
    public static func isValid(_ header: String?, body: [UInt8], secret: Secret) -> Bool {
        guard let header, header.hasPrefix("sha256="), let given = Hex.decode(String(header.dropFirst(7))) else {
            return false
        }
        let expected = HMACSHA256.authenticate(body, key: Array(secret.value.utf8)).bytes
        return BearerAuthMiddleware<ServiceRequestContext>.constantTimeEquals(given, expected)
    }

    /// The header GitHub would send for `body` (tests, and anyone scripting a delivery).
    public static func header(for body: [UInt8], secret: Secret) -> String {
        "sha256=" + HMACSHA256.authenticate(body, key: Array(secret.value.utf8)).hex
    }
}

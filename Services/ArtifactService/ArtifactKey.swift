import ServiceKit
import StageClients

/// A validated artifact key (`ArtifactKeyRule`): a relative path such as
/// `images/<workload>/<service>/<commit>.tar`.
struct ArtifactKey: Sendable, Hashable, CustomStringConvertible {
    let value: String

    init(_ text: String) throws(ServiceError) {
        if let violation = ArtifactKeyRule.violation(in: text) {
            throw ServiceError.badRequest("artifact key \"\(String(text.prefix(200)))\": \(violation)", code: "INVALID_KEY")
        }
        value = text
    }

    var description: String { value }

    /// Where the key's artifact is served: `/v1/artifacts/<key>`, the key as it is.
    var path: String { Self.pathPrefix + value }
    static let pathPrefix = "/v1/artifacts/"
}

import ServiceKit

/// A validated artifact key: a relative path such as
/// `images/<workload>/<service>/<commit>.tar`.
struct ArtifactKey: Sendable, Hashable, CustomStringConvertible {
    let value: String

    static let maxLength = 1024

    init(_ text: String) throws(ServiceError) {
        func refuse(_ reason: String) -> ServiceError {
            ServiceError.badRequest("artifact key \"\(String(text.prefix(200)))\": \(reason)", code: "INVALID_KEY")
        }
        guard !text.isEmpty else { throw refuse("is empty") }
        guard text.utf8.count <= Self.maxLength else { throw refuse("is longer than \(Self.maxLength) bytes") }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw refuse("contains a control character")
        }
        guard !text.contains("\\") else { throw refuse("contains a backslash") }
        for segment in text.split(separator: "/", omittingEmptySubsequences: false) {
            if segment.isEmpty { throw refuse("has an empty segment (leading, trailing or double slash)") }
            if segment == "." || segment == ".." { throw refuse("has a \"\(segment)\" segment") }
        }
        value = text
    }

    var description: String { value }
}

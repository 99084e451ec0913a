import Dockerfile
import Foundation
import OCI

/// Pins each rewritten reference to the digest the proxy registry serves
/// for it (`name:tag` → `name:tag@sha256:…`), so a rebuild pulls the same
/// bases. A reference that cannot be resolved is an error naming it.
struct ReferencePinner: Sendable {
    let registry: RegistryClient

    struct Failure: Error, CustomStringConvertible {
        let reference: String
        let reason: String
        var description: String { "cannot pin \(reference): \(reason)" }
    }

    func pin(_ result: RewriteResult) async throws -> (text: String, changes: [Change]) {
        var lines = Self.lines(of: result.text)
        var changes: [Change] = []
        var digests: [String: String] = [:]
        for change in result.changes {
            guard !change.to.contains("@") else {
                changes.append(change)
                continue
            }
            guard !change.to.contains("$") else {
                throw Failure(reference: change.to, reason: "it names a variable; pass the value as a build arg")
            }
            let digest: String
            if let known = digests[change.to] {
                digest = known
            } else {
                do {
                    digest = try await registry.resolveDigest(try OCIReference(parsing: change.to))
                } catch {
                    throw Failure(reference: change.to, reason: "\(error)")
                }
                digests[change.to] = digest
            }
            let pinned = "\(change.to)@\(digest)"
            let index = change.line - 1
            guard lines.indices.contains(index), let range = lines[index].range(of: change.to) else {
                throw Failure(reference: change.to, reason: "not found on line \(change.line)")
            }
            lines[index].replaceSubrange(range, with: pinned)
            changes.append(
                Change(line: change.line, instruction: change.instruction, from: change.from, to: pinned, form: change.form))
        }
        return (lines.joined(), changes)
    }

    /// The text's lines with their terminators (split on LF bytes, so CRLF stays whole).
    static func lines(of text: String) -> [String] {
        var lines: [String] = []
        var current: [UInt8] = []
        for byte in text.utf8 {
            current.append(byte)
            if byte == UInt8(ascii: "\n") {
                lines.append(String(decoding: current, as: UTF8.self))
                current.removeAll(keepingCapacity: true)
            }
        }
        if !current.isEmpty { lines.append(String(decoding: current, as: UTF8.self)) }
        return lines
    }
}

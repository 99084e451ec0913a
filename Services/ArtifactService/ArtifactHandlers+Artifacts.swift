import ArtifactAPI
import Foundation
import HTTPTypes
import Records
import ServiceKit

extension ArtifactHandlers {
    func deleteArtifact(_ input: Operations.DeleteArtifact.Input) async throws -> Operations.DeleteArtifact.Output {
        let key = try ArtifactKey(input.path.key)
        _ = try await record(of: key)
        try await answeringStoreErrors { try await backend.delete(key) }
        try await index.remove(key.value)
        return .noContent(.init())
    }

    /// A page of records by key prefix, in key order.
    func listArtifacts(_ input: Operations.ListArtifacts.Input) async throws -> Operations.ListArtifacts.Output {
        let limit = input.query.limit ?? 100
        guard (1...1000).contains(limit) else {
            throw ServiceError.badRequest("limit must be an integer from 1 to 1000", code: "INVALID_LIMIT")
        }
        let cursor = try input.query.cursor.map(Cursor.decode)
        let items = try await index.list(prefix: input.query.prefix ?? "", after: cursor, limit: limit + 1)
        let page = Array(items.prefix(limit))
        let next = items.count > limit ? page.last.map { Cursor.encode($0.key) } : nil
        return .ok(.init(body: .json(.init(items: page.map(\.typed), nextCursor: next))))
    }

    /// A URL anyone can GET the artifact from for a while (S3 store only).
    func presignArtifact(_ input: Operations.PresignArtifact.Input) async throws -> Operations.PresignArtifact.Output {
        guard case .json(let body) = input.body else { throw ServiceError.badRequest("expected a JSON body") }
        let key = try ArtifactKey(body.key)
        let seconds = body.expiresSeconds ?? 3600
        guard (1...presignMaxSeconds).contains(seconds) else {
            throw ServiceError.badRequest("expires_seconds must be from 1 to \(presignMaxSeconds)", code: "INVALID_EXPIRY")
        }
        _ = try await record(of: key)
        guard let url = try backend.presignedURL(for: key, expires: .seconds(seconds)) else {
            throw ServiceError.conflict("the filesystem store has no presigned URLs", code: "PRESIGN_UNSUPPORTED")
        }
        return .ok(.init(body: .json(.init(url: url, expiresAt: Date().addingTimeInterval(TimeInterval(seconds))))))
    }
}

import Foundation
import ServiceKit

/// Opaque list cursors: the last key of a page, base64url.
enum Cursor {
    static func encode(_ key: String) -> String {
        Data(key.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
    }

    static func decode(_ text: String) throws -> String {
        let base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let padded = base64 + String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: padded), let key = String(data: data, encoding: .utf8) else {
            throw ServiceError.badRequest("cursor is not one this service gave out", code: "INVALID_CURSOR")
        }
        return key
    }
}

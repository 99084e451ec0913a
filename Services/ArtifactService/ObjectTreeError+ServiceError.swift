import HTTPTypes
import Logging
import ServiceKit

extension ObjectTreeError {
    /// How the client hears of it; a failure of the filesystem itself is logged, not told.
    func serviceError(logger: Logger) -> ServiceError {
        switch self {
        case .outsideStore: return .badRequest(description, code: "INVALID_KEY")
        case .occupied: return .conflict(description, code: "KEY_CONFLICT")
        case .system:
            logger.error("filesystem store failed", metadata: ["error": "\(self)"])
            return ServiceError(.serviceUnavailable, code: "STORE_UNAVAILABLE", detail: "the artifact store failed")
        }
    }
}

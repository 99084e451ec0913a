import OCI
import ServiceKit

extension OCIReference {
    /// A reference from a request's `field`; one that does not parse is a 400 with `code`.
    init(requestField field: String, _ text: String, code: String) throws {
        do {
            self = try OCIReference(parsing: text)
        } catch {
            throw ServiceError.badRequest("\(field): \(error)", code: code)
        }
    }
}

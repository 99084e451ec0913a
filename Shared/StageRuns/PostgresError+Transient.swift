import Postgres
import ServiceKit

/// A database that is away (restarting, refusing or dropping connections) is a 503 with
/// `Retry-After`, not a 500: every service that opens the database links this module.
extension PostgresError: TransientDependencyError {
    public var dependency: String { "the database" }
}

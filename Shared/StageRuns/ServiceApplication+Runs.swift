import Records
import ServiceKit

extension ServiceApplication {
    /// The executor of this service's runs over `store`: recorded under the service's name and
    /// owned by this process, with the common run settings.
    public func runExecutor(store: RunStore) -> RunExecutor {
        RunExecutor(store: store, service: name, owner: configuration.processOwner, logger: logger, settings: configuration.runs)
    }
}

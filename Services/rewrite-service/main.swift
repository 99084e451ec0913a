import RewriteService
import ServiceKit

await RewriteCommand.runIfRequested()

await ServiceMain.run(
    "rewrite-service",
    configuration: RewriteConfiguration.init(reading:),
    common: { $0.common },
    application: { configuration, registry in try await buildApplication(configuration: configuration, registry: registry) })

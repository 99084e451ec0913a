import BuildService
import ServiceKit

await ServiceMain.run(
    "build-service",
    configuration: BuildConfiguration.init(reading:),
    common: { $0.common },
    application: { configuration, registry in try await buildApplication(configuration: configuration, registry: registry) })

import ArtifactService
import ServiceKit

await ServiceMain.run(
    "artifact-service",
    configuration: ArtifactConfiguration.init(reading:),
    common: { $0.common },
    application: { configuration, registry in try await buildApplication(configuration: configuration, registry: registry) })

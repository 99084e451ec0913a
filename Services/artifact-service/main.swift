import ArtifactService
import ServiceKit

#if canImport(Glibc)
    import Glibc

    // Uploads allocate and free one part (16 MiB by default) after another.
    // Once such a block is freed, glibc raises its mmap threshold above the
    // block's size and from then on keeps freed parts in its arenas: resident
    // memory grew by several parts beyond those in flight. With a fixed
    // threshold every part is mapped and unmapped, so its memory is returned
    // as soon as it is sent. mallopt is in <malloc.h>, which the Glibc module
    // does not include: it is looked up by name.
    if let mallopt = dlsym(nil, "mallopt") {
        let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
        _ = unsafeBitCast(mallopt, to: (@convention(c) (Int32, Int32) -> Int32).self)(mmapThreshold, 1 << 20)
    }
#endif

await ServiceMain.run(
    "artifact-service",
    configuration: ArtifactConfiguration.init(reading:),
    common: { $0.common },
    application: { configuration, registry in try await buildApplication(configuration: configuration, registry: registry) })

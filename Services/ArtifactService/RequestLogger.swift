import Hummingbird
import Logging

/// The request's logger, with its `request.id`, for the generated handlers, which are handed
/// no Hummingbird context.
enum RequestLogger {
    @TaskLocal static var current: Logger?
}

struct RequestLoggerMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        try await RequestLogger.$current.withValue(context.logger) { try await next(request, context) }
    }
}

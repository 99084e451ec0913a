import Testing

@testable import ServiceKit

@Suite struct NULRefusalTests {
    @Test(arguments: [
        ("/v1/jobs/%00", true), ("/v1/jobs?state=a%00b", true), ("/a%%00", true), ("/a\u{0}b", true), ("%00", true),
        ("/v1/jobs/%0", false), ("/v1/jobs?x=%0a0", false), ("/v1/jobs?x=%100", false), ("/v1/jobs/0%20", false), ("", false),
    ])
    func findsNULAndPercentZeroZero(url: String, expected: Bool) {
        #expect(NULRefusalMiddleware<ServiceRequestContext>.carriesNUL(url) == expected, "\(url)")
    }
}

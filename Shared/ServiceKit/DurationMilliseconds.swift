extension Duration {
    /// Whole milliseconds, for timings in results and logs.
    public var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}

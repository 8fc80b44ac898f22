import ArgumentParser

public struct SecqCommand: AsyncParsableCommand {
    public init() {}
    public func run() async throws {}
}

import ArgumentParser
import SecStore

/// Turns library errors into a message and an exit code, without stack traces.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    var code: Int32 = 1
    var description: String { message }
}

/// Runs a command body, printing `error: ...` for anything it throws.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as CLIError {
        Terminal.err("error: " + e.message)
        throw ExitCode(e.code)
    } catch let e as StoreError {
        Terminal.err("error: " + e.description)
        throw ExitCode(1)
    } catch let e as ExitCode {
        throw e
    } catch let e as CleanExit {
        throw e
    } catch {
        Terminal.err("error: \(error)")
        throw ExitCode(1)
    }
}

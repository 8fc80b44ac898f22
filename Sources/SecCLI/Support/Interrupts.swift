#if canImport(Glibc)
import Glibc
#endif

/// The write end of the pipe SIGINT and SIGTERM write a byte to (a signal handler may
/// only make async-signal-safe calls).
nonisolated(unsafe) private var interruptPipeWrite: Int32 = -1

/// SIGINT and SIGTERM turned into a byte on a pipe, for commands that run until told to
/// stop (`--follow`) and check between batches; the pipe's read end can also wake a
/// `poll` (see `AppendWatcher`).
struct Interrupts {
    /// The read end: readable once a signal came.
    let fd: Int32

    /// Installs the handlers. `ignoringSIGPIPE`: a closed standard output becomes an
    /// EPIPE write error to handle rather than the end of the process.
    static func install(ignoringSIGPIPE: Bool = false) throws -> Interrupts {
        if ignoringSIGPIPE { signal(SIGPIPE, SIG_IGN) }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw CLIError(message: "pipe: \(String(cString: strerror(errno)))") }
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
        interruptPipeWrite = fds[1]
        let handler: @convention(c) (Int32) -> Void = { _ in
            var b: UInt8 = 1
            _ = Glibc.write(interruptPipeWrite, &b, 1)
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        // A parent may have started this process with them blocked.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for s in [SIGINT, SIGTERM] + (ignoringSIGPIPE ? [SIGPIPE] : []) { sigaddset(&unblock, s) }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        return Interrupts(fd: fds[0])
    }

    /// Whether SIGINT or SIGTERM came.
    func happened() -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) > 0
    }
}

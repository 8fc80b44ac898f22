#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A mutex with a condition variable, for the few places that must wait.
///
/// `@unchecked Sendable`: the pthread objects are heap-allocated once, never moved,
/// and pthread functions are thread-safe by contract.
final class PThreadCondition: @unchecked Sendable {
    private let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let c = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(m, nil)
        pthread_cond_init(c, nil)
    }

    deinit {
        pthread_cond_destroy(c); pthread_mutex_destroy(m)
        c.deallocate(); m.deallocate()
    }

    func lock() { pthread_mutex_lock(m) }
    func unlock() { pthread_mutex_unlock(m) }
    func wait() { pthread_cond_wait(c, m) }
    func broadcast() { pthread_cond_broadcast(c) }
}

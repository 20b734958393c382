#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A POSIX thread (pthread_create(3)) running one blocking loop (a vCPU's `KVM_RUN`, a
/// relay between descriptors), kept off the Swift concurrency pool as
/// docs/architecture.md's concurrency rule asks. A new thread inherits its creator's
/// signal mask, which blocks nearly everything when the creator is a Dispatch or test
/// worker: the signals in `unblocking` are unblocked in it before `body` runs.
public struct PosixThread: Sendable {
    public let handle: pthread_t

    private final class Start {
        let body: @Sendable () -> Void
        let unblocking: [Int32]
        init(_ body: @escaping @Sendable () -> Void, unblocking: [Int32]) {
            self.body = body
            self.unblocking = unblocking
        }
    }

    /// Starts `body` on a new thread; join or detach it.
    public init(unblocking signals: [Int32] = [], _ body: @escaping @Sendable () -> Void) throws(SwiftletError) {
        let context = Unmanaged.passRetained(Start(body, unblocking: signals)).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(&handle, nil, { raw in
            guard let raw else { return nil }
            let start = Unmanaged<Start>.fromOpaque(raw).takeRetainedValue()
            if !start.unblocking.isEmpty {
                var set = sigset_t()
                sigemptyset(&set)
                for signal in start.unblocking { sigaddset(&set, signal) }
                pthread_sigmask(SIG_UNBLOCK, &set, nil)
            }
            start.body()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<Start>.fromOpaque(context).release()
            throw SwiftletError("pthread_create", errno: result)
        }
        self.handle = handle
    }

    /// Starts `body` on a thread nobody joins.
    public static func detached(_ body: @escaping @Sendable () -> Void) throws(SwiftletError) {
        pthread_detach(try PosixThread(body).handle)
    }

    /// Waits for the thread to end.
    public func join() {
        pthread_join(handle, nil)
    }

    /// Sends `signal` to the thread (to interrupt a blocking system call in it).
    public func signal(_ signal: Int32) {
        pthread_kill(handle, signal)
    }
}

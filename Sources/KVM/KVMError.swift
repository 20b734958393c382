#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux

/// A failed system call against KVM (or another kernel interface the VMM uses):
/// which call, with which request, and the errno it returned.
public struct KVMError: Error, Equatable, CustomStringConvertible {
    /// What was called, e.g. `ioctl(KVM_CREATE_VM)` or `open(/dev/kvm)`.
    public let call: String
    /// The errno value, or 0 when the call succeeded but returned something unusable.
    public let code: Int32
    /// Extra explanation for failures that are not a plain errno.
    public let detail: String?

    public init(call: String, code: Int32, detail: String? = nil) {
        self.call = call
        self.code = code
        self.detail = detail
    }

    public var description: String {
        if let detail {
            return code == 0 ? "\(call): \(detail)" : "\(call): \(detail): \(String(cString: strerror(code))) (errno \(code))"
        }
        return "\(call) failed: \(String(cString: strerror(code))) (errno \(code))"
    }
}

/// The one place system calls are made from: retries `EINTR` and turns a `-1` return
/// into a ``KVMError`` naming the call and errno.
public enum Syscall {
    /// Runs `body` until it returns something other than `-1`/`EINTR`.
    ///
    /// - Parameters:
    ///   - name: the call as shown in errors, e.g. `ioctl(KVM_RUN)`.
    ///   - retryingInterrupts: false only for calls whose interruption is a result
    ///     (`KVM_RUN` kicked by a signal); those throw with `code == EINTR`.
    @discardableResult
    public static func call(_ name: @autoclosure () -> String, retryingInterrupts: Bool = true,
                            _ body: () -> Int32) throws(KVMError) -> Int32 {
        while true {
            let result = body()
            if result != -1 { return result }
            let err = errno
            if err == EINTR && retryingInterrupts { continue }
            throw KVMError(call: name(), code: err)
        }
    }

    /// `ioctl(fd, request, pointer)` through ``call(_:retryingInterrupts:_:)``.
    @discardableResult
    public static func ioctl(_ fd: Int32, _ request: UInt, _ name: String, _ argument: UnsafeMutableRawPointer?,
                             retryingInterrupts: Bool = true) throws(KVMError) -> Int32 {
        try call("ioctl(\(name))", retryingInterrupts: retryingInterrupts) {
            cl_ioctl_pointer(fd, request, argument)
        }
    }

    /// `ioctl(fd, request, value)` through ``call(_:retryingInterrupts:_:)``.
    @discardableResult
    public static func ioctl(_ fd: Int32, _ request: UInt, _ name: String, value: UInt) throws(KVMError) -> Int32 {
        try call("ioctl(\(name))") { cl_ioctl_value(fd, request, value) }
    }

    /// An ioctl whose argument is one C struct passed by pointer.
    @discardableResult
    public static func ioctl<T>(_ fd: Int32, _ request: UInt, _ name: String, _ argument: inout T) throws(KVMError) -> Int32 {
        let result: Int32 = try withUnsafeMutablePointer(to: &argument) { (pointer) throws(KVMError) -> Int32 in
            try ioctl(fd, request, name, UnsafeMutableRawPointer(pointer))
        }
        return result
    }
}

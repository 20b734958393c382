#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KVM

/// A regular file on the host, read with plain syscalls (the boot path links no
/// Foundation): whole into memory, or straight into guest RAM.
struct HostFile: ~Copyable {
    let path: String
    let fd: Int32
    let size: UInt64

    init(path: String) throws(KVMError) {
        self.path = path
        let fd = try Syscall.call("open(\(path))") { open(path, O_RDONLY | O_CLOEXEC) }
        var info = stat()
        do throws(KVMError) {
            try Syscall.call("fstat(\(path))") { fstat(fd, &info) }
        } catch {
            close(fd)
            throw error
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw KVMError(call: "open(\(path))", code: 0, detail: "not a regular file")
        }
        self.fd = fd
        size = UInt64(info.st_size)
    }

    deinit { close(fd) }

    /// Reads exactly `buffer.count` bytes from the start of the file into `buffer`.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(KVMError) {
        var done = 0
        while done < buffer.count {
            let n = try Syscall.call("read(\(path))") {
                Int32(truncatingIfNeeded: pread(fd, buffer.baseAddress! + done, min(buffer.count - done, 1 << 30), off_t(done)))
            }
            guard n > 0 else { throw KVMError(call: "read(\(path))", code: 0, detail: "file shrank while reading") }
            done += Int(n)
        }
    }

    /// The whole file.
    func readAll() throws(KVMError) -> [UInt8] {
        guard let count = Int(exactly: size) else { throw KVMError(call: "read(\(path))", code: EFBIG) }
        var bytes = [UInt8](repeating: 0, count: count)
        var failure: KVMError?
        bytes.withUnsafeMutableBytes { buffer in
            do throws(KVMError) { try read(into: buffer) } catch { failure = error }
        }
        if let failure { throw failure }
        return bytes
    }
}

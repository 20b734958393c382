#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KVM

/// The host side of the guest's serial console: when stdin is a terminal, puts it in
/// raw mode (so keys, including Ctrl-C, go to the guest) and restores the saved
/// settings on ``restore()``; a reader thread forwards stdin bytes to the guest console.
public final class HostConsole: Sendable {
    private let savedSettings: termios?

    /// Switches stdin to raw mode if it is a terminal.
    public init() {
        var settings = termios()
        guard isatty(0) == 1, tcgetattr(0, &settings) == 0 else {
            savedSettings = nil
            return
        }
        savedSettings = settings
        var raw = settings
        cfmakeraw(&raw)
        raw.c_oflag |= tcflag_t(OPOST | ONLCR)
        tcsetattr(0, TCSANOW, &raw)
    }

    /// Whether stdin is a terminal in raw mode.
    public var isInteractive: Bool { savedSettings != nil }

    /// Puts the terminal back as it was.
    public func restore() {
        guard var settings = savedSettings else { return }
        tcsetattr(0, TCSANOW, &settings)
    }

    /// Starts the thread that reads stdin until EOF and hands the bytes to `machine`;
    /// it calls `confine(.consoleInput)` first and stops if that throws. The thread is
    /// not joined: it ends with the process.
    public func forwardInput(to machine: Machine, confine: @escaping ThreadConfinement = { _ in }) throws(KVMError) {
        _ = try HostThread {
            do {
                try confine(.consoleInput)
            } catch {
                StandardError.write("swiftlet boot: console input stopped: \(error)\n")
                return
            }
            var buffer = [UInt8](repeating: 0, count: 256)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                machine.receiveConsoleInput(Array(buffer[0..<n]))
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A signal typed by a user (`kill -s TERM`, `SIGKILL`, `9`; Docker's `--signal` and the
/// API's `signal=`): a name with or without `SIG`, any case, or a number from 1 to 64.
public enum SignalName {
    static let numbers: [String: Int32] = [
        "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "KILL": SIGKILL, "USR1": SIGUSR1, "USR2": SIGUSR2,
        "TERM": SIGTERM, "CONT": SIGCONT, "STOP": SIGSTOP, "WINCH": SIGWINCH, "ALRM": SIGALRM, "PIPE": SIGPIPE,
    ]

    public static func parse(_ text: String) throws(ValueError) -> Int32 {
        let upper = text.uppercased()
        let name = upper.hasPrefix("SIG") ? String(upper.dropFirst(3)) : upper
        guard let number = Int32(text) ?? numbers[name], number > 0, number < 65 else {
            throw ValueError("invalid signal: \(text)")
        }
        return number
    }
}

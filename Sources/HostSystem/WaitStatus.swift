/// A wait(2) status decoded: how a child process ended.
public enum WaitStatus {
    /// The signal that ended the process, nil when it exited (or only stopped).
    public static func terminatingSignal(_ status: Int32) -> Int32? {
        let signal = status & 0x7f
        return signal != 0 && signal != 0x7f ? signal : nil
    }

    /// The exit code shells and Docker report: the exit status, or 128+N for signal N.
    public static func exitCode(_ status: Int32) -> Int32 {
        terminatingSignal(status).map { 128 + $0 } ?? (status >> 8) & 0xff
    }
}

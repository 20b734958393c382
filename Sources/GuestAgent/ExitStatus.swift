/// The exit status reported in `exited`, from a wait(2) status word: the exit code, or
/// 128+N when signal N killed the process (Docker's and the shell's convention).
public enum ExitStatus {
    public static func from(waitStatus status: Int32) -> Int32 {
        let signal = status & 0x7F
        if signal == 0 { return (status >> 8) & 0xFF }
        return 128 + signal
    }
}

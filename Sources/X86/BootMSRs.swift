/// Model-specific registers and their values at the first instruction of a directly
/// booted kernel (Intel SDM Vol. 4 for the indices; values as a firmware would leave
/// them: syscall MSRs clear, TSC 0, fast strings on, MTRRs enabled with WB default).
public enum BootMSRs {
    public static let sysenterCS: UInt32 = 0x174
    public static let sysenterESP: UInt32 = 0x175
    public static let sysenterEIP: UInt32 = 0x176
    public static let star: UInt32 = 0xC000_0081
    public static let lstar: UInt32 = 0xC000_0082
    public static let cstar: UInt32 = 0xC000_0083
    public static let syscallMask: UInt32 = 0xC000_0084
    public static let kernelGSBase: UInt32 = 0xC000_0102
    public static let timeStampCounter: UInt32 = 0x10
    public static let miscEnable: UInt32 = 0x1A0
    public static let mtrrDefaultType: UInt32 = 0x2FF

    /// `IA32_MISC_ENABLE.FAST_STRING_ENABLE`.
    public static let miscEnableFastStrings: UInt64 = 1 << 0
    /// `IA32_MTRR_DEF_TYPE`: E (bit 11) with default type 6 (write-back).
    public static let mtrrEnabledWriteBack: UInt64 = (1 << 11) | 6

    /// The (index, value) pairs to set on every vCPU before it first runs.
    public static let entries: [(index: UInt32, value: UInt64)] = [
        (sysenterCS, 0), (sysenterESP, 0), (sysenterEIP, 0),
        (star, 0), (cstar, 0), (kernelGSBase, 0), (syscallMask, 0), (lstar, 0),
        (timeStampCounter, 0),
        (miscEnable, miscEnableFastStrings),
        (mtrrDefaultType, mtrrEnabledWriteBack),
    ]
}

/// Docker's default capability set (moby oci/caps/defaults.go) as a bit mask of Linux
/// capability numbers (linux/capability.h): CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL,
/// SETGID, SETUID, SETPCAP, NET_BIND_SERVICE, NET_RAW, SYS_CHROOT, MKNOD, AUDIT_WRITE,
/// SETFCAP. Both the namespace backend and the guest agent give container processes this set.
public enum DefaultCapabilities {
    public static let mask: UInt64 = [0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31]
        .reduce(0) { $0 | (1 << $1) }
}

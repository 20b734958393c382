import CLinux
import Glibc
import GuestAgent

// swiftlet-init: PID 1 of a container microVM (see GuestAgent.Agent). Errors before the
// host connects go to the serial console.
Boot.prepare()
do {
    try Agent().serve()
} catch {
    consoleLog("fatal: \(error.message); powering off")
    sync()
    _ = sa_power_off()
    exit(1)
}

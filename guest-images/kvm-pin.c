/* kvm-pin: holds one idle KVM VM (in-kernel irqchip, one vCPU that never runs) for the
 * life of the kvm-rig, started by rig-init once kvm-amd is loaded.
 *
 * Why: KVM keeps deferred static keys for the local APIC (apic_sw_disabled,
 * apic_hw_disabled). With no VM holding a reference, every microVM start and stop flips
 * them, and each flip re-patches kernel text with text_poke_bp (int3 on every CPU plus
 * sync IPIs), six batches per microVM boot as measured with ftrace in the rig. Under
 * QEMU-TCG that cross-CPU code patching is where the rig's kernel was found stuck (a
 * kworker soft-locked in the deferred key update, the other CPU in the int3 handler).
 * An idle VM keeps the counts above zero, so microVMs no longer cause any patching. */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(void) {
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) { perror("kvm-pin: /dev/kvm"); return 1; }
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) { perror("kvm-pin: KVM_CREATE_VM"); return 1; }
    if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0) { perror("kvm-pin: KVM_CREATE_IRQCHIP"); return 1; }
    if (ioctl(vm, KVM_CREATE_VCPU, 0) < 0) { perror("kvm-pin: KVM_CREATE_VCPU"); return 1; }
    for (;;) pause();
}

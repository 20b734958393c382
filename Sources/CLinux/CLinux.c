#include "CLinux.h"

#include <linux/if_tun.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>

// The Swift side relies on these layouts (it fills the structs field by field and
// sizes variable-length buffers from them).
_Static_assert(sizeof(struct kvm_regs) == 144, "kvm_regs layout");
_Static_assert(sizeof(struct kvm_sregs) == 312, "kvm_sregs layout");
_Static_assert(sizeof(struct kvm_segment) == 24, "kvm_segment layout");
_Static_assert(sizeof(struct kvm_fpu) == 416, "kvm_fpu layout");
_Static_assert(sizeof(struct kvm_lapic_state) == 1024, "kvm_lapic_state layout");
_Static_assert(sizeof(struct kvm_cpuid2) == 8, "kvm_cpuid2 header layout");
_Static_assert(sizeof(struct kvm_cpuid_entry2) == 40, "kvm_cpuid_entry2 layout");
_Static_assert(sizeof(struct kvm_msrs) == 8, "kvm_msrs header layout");
_Static_assert(sizeof(struct kvm_msr_entry) == 16, "kvm_msr_entry layout");
_Static_assert(sizeof(struct kvm_userspace_memory_region) == 32, "memory region layout");
_Static_assert(sizeof(struct kvm_irqfd) == 32, "kvm_irqfd layout");
_Static_assert(sizeof(struct kvm_ioeventfd) == 64, "kvm_ioeventfd layout");
_Static_assert(sizeof(struct kvm_pit_config) == 64, "kvm_pit_config layout");
_Static_assert(sizeof(struct kvm_irq_routing) == 8, "kvm_irq_routing header layout");
_Static_assert(sizeof(struct kvm_irq_routing_entry) == 48, "kvm_irq_routing_entry layout");
_Static_assert(sizeof(struct kvm_irq_level) == 8, "kvm_irq_level layout");

const unsigned long CL_KVM_GET_API_VERSION = KVM_GET_API_VERSION;
const unsigned long CL_KVM_CREATE_VM = KVM_CREATE_VM;
const unsigned long CL_KVM_CHECK_EXTENSION = KVM_CHECK_EXTENSION;
const unsigned long CL_KVM_GET_VCPU_MMAP_SIZE = KVM_GET_VCPU_MMAP_SIZE;
const unsigned long CL_KVM_GET_SUPPORTED_CPUID = KVM_GET_SUPPORTED_CPUID;

const unsigned long CL_KVM_CREATE_VCPU = KVM_CREATE_VCPU;
const unsigned long CL_KVM_SET_USER_MEMORY_REGION = KVM_SET_USER_MEMORY_REGION;
const unsigned long CL_KVM_SET_TSS_ADDR = KVM_SET_TSS_ADDR;
const unsigned long CL_KVM_SET_IDENTITY_MAP_ADDR = KVM_SET_IDENTITY_MAP_ADDR;
const unsigned long CL_KVM_CREATE_IRQCHIP = KVM_CREATE_IRQCHIP;
const unsigned long CL_KVM_CREATE_PIT2 = KVM_CREATE_PIT2;
const unsigned long CL_KVM_IRQ_LINE = KVM_IRQ_LINE;
const unsigned long CL_KVM_IRQFD = KVM_IRQFD;
const unsigned long CL_KVM_IOEVENTFD = KVM_IOEVENTFD;
const unsigned long CL_KVM_SET_GSI_ROUTING = KVM_SET_GSI_ROUTING;

const unsigned long CL_KVM_RUN = KVM_RUN;
const unsigned long CL_KVM_GET_REGS = KVM_GET_REGS;
const unsigned long CL_KVM_SET_REGS = KVM_SET_REGS;
const unsigned long CL_KVM_GET_SREGS = KVM_GET_SREGS;
const unsigned long CL_KVM_SET_SREGS = KVM_SET_SREGS;
const unsigned long CL_KVM_GET_FPU = KVM_GET_FPU;
const unsigned long CL_KVM_SET_FPU = KVM_SET_FPU;
const unsigned long CL_KVM_GET_MSRS = KVM_GET_MSRS;
const unsigned long CL_KVM_SET_MSRS = KVM_SET_MSRS;
const unsigned long CL_KVM_GET_LAPIC = KVM_GET_LAPIC;
const unsigned long CL_KVM_SET_LAPIC = KVM_SET_LAPIC;
const unsigned long CL_KVM_SET_CPUID2 = KVM_SET_CPUID2;
const unsigned long CL_KVM_GET_MP_STATE = KVM_GET_MP_STATE;

const unsigned long CL_TUNSETIFF = TUNSETIFF;
const unsigned long CL_TUNSETOFFLOAD = TUNSETOFFLOAD;
const unsigned long CL_TUNSETVNETHDRSZ = TUNSETVNETHDRSZ;
const short CL_IFF_TAP = IFF_TAP;
const short CL_IFF_NO_PI = IFF_NO_PI;
const short CL_IFF_VNET_HDR = IFF_VNET_HDR;
const unsigned long CL_TUN_F_CSUM = TUN_F_CSUM;
const unsigned long CL_TUN_F_TSO4 = TUN_F_TSO4;
const unsigned long CL_TUN_F_TSO6 = TUN_F_TSO6;

int cl_ioctl_pointer(int fd, unsigned long request, void *argument) {
    return ioctl(fd, request, argument);
}

int cl_ioctl_value(int fd, unsigned long request, unsigned long value) {
    return ioctl(fd, request, value);
}

static void cl_wakeup_signal_handler(int signo) {
    (void)signo;
}

int cl_install_wakeup_signal_handler(int signo) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = cl_wakeup_signal_handler;
    sigemptyset(&action.sa_mask);
    return sigaction(signo, &action, NULL);
}

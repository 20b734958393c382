// C shim for what Swift cannot import from <linux/kvm.h> and friends:
// ioctl request numbers (function-like _IO/_IOW/_IOR/_IOWR macros), exposed as
// prefixed `extern const` values defined in CLinux.c, and a fixed-arity ioctl.
#ifndef SWIFTLET_CLINUX_H
#define SWIFTLET_CLINUX_H

#include <linux/kvm.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include "nsexec.h"
#include "agentexec.h"
#include "netconfig.h"
#include "confine.h"
#include "seccompload.h"
#include "vmmjail.h"
#include "userns.h"

// /dev/kvm (system) ioctls.
extern const unsigned long CL_KVM_GET_API_VERSION;
extern const unsigned long CL_KVM_CREATE_VM;
extern const unsigned long CL_KVM_CHECK_EXTENSION;
extern const unsigned long CL_KVM_GET_VCPU_MMAP_SIZE;
extern const unsigned long CL_KVM_GET_SUPPORTED_CPUID;

// VM ioctls.
extern const unsigned long CL_KVM_CREATE_VCPU;
extern const unsigned long CL_KVM_SET_USER_MEMORY_REGION;
extern const unsigned long CL_KVM_SET_TSS_ADDR;
extern const unsigned long CL_KVM_SET_IDENTITY_MAP_ADDR;
extern const unsigned long CL_KVM_CREATE_IRQCHIP;
extern const unsigned long CL_KVM_CREATE_PIT2;
extern const unsigned long CL_KVM_IRQ_LINE;
extern const unsigned long CL_KVM_IRQFD;
extern const unsigned long CL_KVM_IOEVENTFD;
extern const unsigned long CL_KVM_SET_GSI_ROUTING;

// vCPU ioctls.
extern const unsigned long CL_KVM_RUN;
extern const unsigned long CL_KVM_GET_REGS;
extern const unsigned long CL_KVM_SET_REGS;
extern const unsigned long CL_KVM_GET_SREGS;
extern const unsigned long CL_KVM_SET_SREGS;
extern const unsigned long CL_KVM_GET_FPU;
extern const unsigned long CL_KVM_SET_FPU;
extern const unsigned long CL_KVM_GET_MSRS;
extern const unsigned long CL_KVM_SET_MSRS;
extern const unsigned long CL_KVM_GET_LAPIC;
extern const unsigned long CL_KVM_SET_LAPIC;
extern const unsigned long CL_KVM_SET_CPUID2;
extern const unsigned long CL_KVM_GET_MP_STATE;

// TUN/TAP (<linux/if_tun.h>): ioctls, TUNSETIFF flags and TUNSETOFFLOAD bits.
extern const unsigned long CL_TUNSETIFF;
extern const unsigned long CL_TUNSETOFFLOAD;
extern const unsigned long CL_TUNSETVNETHDRSZ;
extern const short CL_IFF_TAP;
extern const short CL_IFF_NO_PI;
extern const short CL_IFF_VNET_HDR;
extern const unsigned long CL_TUN_F_CSUM;
extern const unsigned long CL_TUN_F_TSO4;
extern const unsigned long CL_TUN_F_TSO6;

/// ioctl(2) with exactly one pointer argument (Swift cannot call C variadics).
int cl_ioctl_pointer(int fd, unsigned long request, void *argument);

/// ioctl(2) with exactly one integer argument.
int cl_ioctl_value(int fd, unsigned long request, unsigned long value);

/// Installs a handler that does nothing for `signo` (no SA_RESTART), so the signal
/// interrupts a blocking call in the thread it is sent to (used to kick KVM_RUN).
int cl_install_wakeup_signal_handler(int signo);

#endif

// IPv4 interface configuration with the classic socket ioctls (netdevice(7), route(4)):
// used by the namespace container child (nsexec.c, after clone: async-signal-safe, no
// allocation) and by the guest agent for the microVM's eth0 and loopback.
#ifndef SWIFTLET_NETCONFIG_H
#define SWIFTLET_NETCONFIG_H

#include <stdint.h>

/// Brings interface `name` up; when `address` is not 0 first gives it `address`/`prefix`,
/// and when `gateway` is not 0 then adds a default route through `gateway`. Addresses
/// are IPv4 in network byte order. Returns 0, or -1 with errno set and `*step` naming
/// the call that failed.
int sl_configure_interface(const char *name, uint32_t address, unsigned prefix, uint32_t gateway,
                           const char **step);

#endif

// IPv4 interface configuration (see netconfig.h). Only socket(2), ioctl(2) and close(2):
// safe in a forked child of a multi-threaded process.
#include "netconfig.h"

#include <errno.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static void sl_set_ipv4(struct sockaddr *target, uint32_t address) {
    struct sockaddr_in in;
    memset(&in, 0, sizeof in);
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = address;
    memcpy(target, &in, sizeof in);
}

static int sl_netconfig_fail(int sock, const char *what, const char **step) {
    int saved = errno;
    *step = what;
    close(sock);
    errno = saved;
    return -1;
}

int sl_configure_interface(const char *name, uint32_t address, unsigned prefix, uint32_t gateway,
                           const char **step) {
    if (strlen(name) >= IFNAMSIZ || prefix > 32) {
        *step = "interface name or prefix length";
        errno = EINVAL;
        return -1;
    }
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        *step = "socket(AF_INET)";
        return -1;
    }
    struct ifreq request;
    memset(&request, 0, sizeof request);
    memcpy(request.ifr_name, name, strlen(name));
    if (address != 0) {
        sl_set_ipv4(&request.ifr_addr, address);
        if (ioctl(sock, SIOCSIFADDR, &request) < 0) return sl_netconfig_fail(sock, "SIOCSIFADDR", step);
        uint32_t mask = prefix == 0 ? 0 : htonl(~0U << (32 - prefix));
        sl_set_ipv4(&request.ifr_netmask, mask);
        if (ioctl(sock, SIOCSIFNETMASK, &request) < 0) return sl_netconfig_fail(sock, "SIOCSIFNETMASK", step);
    }
    if (ioctl(sock, SIOCGIFFLAGS, &request) < 0) return sl_netconfig_fail(sock, "SIOCGIFFLAGS", step);
    request.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(sock, SIOCSIFFLAGS, &request) < 0) return sl_netconfig_fail(sock, "SIOCSIFFLAGS", step);
    if (address != 0 && gateway != 0) {
        char device[IFNAMSIZ];
        memcpy(device, name, strlen(name) + 1);
        struct rtentry route;
        memset(&route, 0, sizeof route);
        sl_set_ipv4(&route.rt_dst, 0);
        sl_set_ipv4(&route.rt_genmask, 0);
        sl_set_ipv4(&route.rt_gateway, gateway);
        route.rt_flags = RTF_UP | RTF_GATEWAY;
        route.rt_dev = device;
        if (ioctl(sock, SIOCADDRT, &route) < 0 && errno != EEXIST) {
            return sl_netconfig_fail(sock, "SIOCADDRT (default route)", step);
        }
    }
    close(sock);
    return 0;
}

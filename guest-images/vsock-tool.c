/*
 * vsock-tool: a small AF_VSOCK netcat for Swiftlet's test initramfs (busybox has no
 * vsock support). Built statically by guest-images/build, installed as /bin/vsock-tool.
 *
 *   vsock-tool connect CID PORT         copy stdin to the connection (then shut down
 *                                       its write side) and the connection to stdout
 *   vsock-tool listen PORT              accept one connection on any CID, copy likewise
 *   vsock-tool listen PORT CMD [ARG...] accept one connection and run CMD with it as
 *                                       stdin and stdout (e.g. `cat` for an echo server)
 *   -k before listen's PORT keeps accepting, one child per connection.
 *
 * Exits 0 when both directions ended cleanly, 1 on an error (with a message).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

static int fail(const char *what) {
    fprintf(stderr, "vsock-tool: %s: %s\n", what, strerror(errno));
    return 1;
}

static int parse_u32(const char *text, unsigned *out) {
    char *end;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    if (errno || *text == '\0' || *end != '\0' || value > 0xFFFFFFFFul) return -1;
    *out = (unsigned)value;
    return 0;
}

/* Copies stdin -> sock and sock -> stdout until both directions reach end of file. */
static int relay(int sock) {
    static char buffer[1 << 16];
    int input_open = 1, output_open = 1;
    while (input_open || output_open) {
        struct pollfd fds[2] = {{.fd = input_open ? 0 : -1, .events = POLLIN},
                                {.fd = output_open ? sock : -1, .events = POLLIN}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return fail("poll");
        }
        if (fds[0].revents) {
            ssize_t n = read(0, buffer, sizeof buffer);
            if (n < 0 && errno != EINTR) return fail("read stdin");
            if (n == 0) {
                input_open = 0;
                shutdown(sock, SHUT_WR);
            }
            for (ssize_t done = 0; n > 0 && done < n;) {
                ssize_t w = write(sock, buffer + done, n - done);
                if (w < 0 && errno != EINTR) return fail("write vsock");
                if (w > 0) done += w;
            }
        }
        if (fds[1].revents) {
            ssize_t n = read(sock, buffer, sizeof buffer);
            if (n < 0 && errno != EINTR) return fail("read vsock");
            if (n == 0) output_open = 0;
            for (ssize_t done = 0; n > 0 && done < n;) {
                ssize_t w = write(1, buffer + done, n - done);
                if (w < 0 && errno != EINTR) return fail("write stdout");
                if (w > 0) done += w;
            }
        }
    }
    return 0;
}

static int serve(int sock, char **command) {
    if (!command[0]) return relay(sock);
    if (dup2(sock, 0) < 0 || dup2(sock, 1) < 0) return fail("dup2");
    close(sock);
    execvp(command[0], command);
    return fail(command[0]);
}

static int usage(void) {
    fprintf(stderr, "usage: vsock-tool connect CID PORT | vsock-tool listen [-k] PORT [CMD ARG...]\n");
    return 2;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 4 && strcmp(argv[1], "connect") == 0) {
        unsigned cid, port;
        if (argc != 4 || parse_u32(argv[2], &cid) || parse_u32(argv[3], &port)) return usage();
        int sock = socket(AF_VSOCK, SOCK_STREAM, 0);
        if (sock < 0) return fail("socket(AF_VSOCK)");
        struct sockaddr_vm address = {.svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port};
        if (connect(sock, (struct sockaddr *)&address, sizeof address) < 0) return fail("connect");
        return relay(sock);
    }
    if (argc >= 3 && strcmp(argv[1], "listen") == 0) {
        int keep = strcmp(argv[2], "-k") == 0;
        unsigned port;
        if (argc < 3 + keep || parse_u32(argv[2 + keep], &port)) return usage();
        char **command = argv + 3 + keep;
        int listener = socket(AF_VSOCK, SOCK_STREAM, 0);
        if (listener < 0) return fail("socket(AF_VSOCK)");
        struct sockaddr_vm address = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port};
        if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0) return fail("bind");
        if (listen(listener, 64) < 0) return fail("listen");
        if (keep) signal(SIGCHLD, SIG_IGN);
        do {
            int sock = accept(listener, NULL, NULL);
            if (sock < 0) {
                if (errno == EINTR) continue;
                return fail("accept");
            }
            if (!keep) {
                close(listener);
                return serve(sock, command);
            }
            pid_t child = fork();
            if (child == 0) {
                close(listener);
                _exit(serve(sock, command));
            }
            close(sock);
        } while (keep);
    }
    return usage();
}

/*
 * The workload of `swiftlet bench`: one static binary run unchanged on the host, in
 * namespace containers, in microVMs and by the peers. Every result is one line
 * "BENCH key=value" on stdout; each argument is one task, run in order:
 *
 *   start            print the CLOCK_REALTIME time (ns) of entering main, then exit
 *   idle             print "ready", then sleep until killed
 *   cpu:N            N passes of a fixed integer kernel (bitwise CRC-32 over 64 KiB)
 *   mem:MIB          copy bandwidth between two MIB-sized buffers (read + write bytes)
 *   syscall:N        N getpid system calls (raw syscall, no libc caching)
 *   disk:LABEL:PATH:MIB:OPS  sequential write (+fsync) and read of MIB MiB, then OPS
 *                    random 4 KiB reads and writes; PATH is a directory (a file is
 *                    created in it) or a block device (used in place); O_DIRECT when
 *                    supported; keys are disk_LABEL_…
 *   tcp-server:PORT  accept one connection: echo 1-byte requests, then sink a stream
 *   tcp-client:HOST:PORT:MIB:N  N 1-byte round trips, then send MIB MiB
 * Build: gcc -O2 -static -o bench-workload bench-workload.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail(const char *what) {
    fprintf(stderr, "bench-workload: %s: %s\n", what, strerror(errno));
    printf("BENCH error=%s\n", what);
    exit(2);
}

static void cpu(long passes) {
    static uint8_t data[65536];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 131 + 7);
    double t0 = now_s();
    uint32_t crc = 0xFFFFFFFFu;
    for (long p = 0; p < passes; p++) {
        for (size_t i = 0; i < sizeof data; i++) {
            crc ^= data[i];
            for (int b = 0; b < 8; b++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    double t = now_s() - t0;
    printf("BENCH cpu_ms=%.3f\nBENCH cpu_checksum=%08x\n", t * 1e3, crc);
}

static void mem(long mib) {
    size_t bytes = (size_t)mib << 20;
    char *a = malloc(bytes), *b = malloc(bytes);
    if (!a || !b) fail("malloc");
    memset(a, 1, bytes);
    memset(b, 2, bytes);
    int rounds = 8;
    double best = 1e9;
    for (int r = 0; r < rounds; r++) {
        double t0 = now_s();
        memcpy(r & 1 ? a : b, r & 1 ? b : a, bytes);
        double t = now_s() - t0;
        if (t < best) best = t;
    }
    printf("BENCH mem_copy_gbs=%.3f\n", 2.0 * bytes / best / 1e9);
    free(a);
    free(b);
}

static void syscalls(long n) {
    double t0 = now_s();
    for (long i = 0; i < n; i++) syscall(SYS_getpid);
    printf("BENCH getpid_ns=%.1f\n", (now_s() - t0) / n * 1e9);
}

/* Opens PATH with O_DIRECT when the filesystem supports it, else buffered. */
static int open_io(const char *path, int flags, int *direct) {
    int fd = open(path, flags | O_DIRECT, 0644);
    *direct = fd >= 0;
    if (fd < 0 && errno == EINVAL) fd = open(path, flags, 0644);
    if (fd < 0) fail(path);
    return fd;
}

static uint64_t next_random(uint64_t *state) {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

static void disk(const char *label, const char *target, long mib, long ops) {
    struct stat st;
    if (stat(target, &st) < 0) fail(target);
    int device = S_ISBLK(st.st_mode);
    char path[4096];
    if (device) snprintf(path, sizeof path, "%s", target);
    else snprintf(path, sizeof path, "%s/bench-disk.%d", target, getpid());
    size_t block = 1 << 20, bytes = (size_t)mib << 20;
    char *buf;
    if (posix_memalign((void **)&buf, 4096, block)) fail("posix_memalign");
    memset(buf, 0x5a, block);

    int direct;
    int fd = open_io(path, O_RDWR | (device ? 0 : O_CREAT | O_TRUNC), &direct);
    double t0 = now_s();
    for (size_t done = 0; done < bytes; done += block)
        if (write(fd, buf, block) != (ssize_t)block) fail("sequential write");
    if (fsync(fd) < 0) fail("fsync");
    double write_s = now_s() - t0;
    posix_fadvise(fd, 0, bytes, POSIX_FADV_DONTNEED);
    if (lseek(fd, 0, SEEK_SET) < 0) fail("lseek");
    t0 = now_s();
    for (size_t done = 0; done < bytes; done += block)
        if (read(fd, buf, block) != (ssize_t)block) fail("sequential read");
    double read_s = now_s() - t0;

    uint64_t state = 0x9E3779B97F4A7C15ull;
    size_t pages = bytes / 4096;
    posix_fadvise(fd, 0, bytes, POSIX_FADV_DONTNEED);
    t0 = now_s();
    for (long i = 0; i < ops; i++)
        if (pread(fd, buf, 4096, (off_t)(next_random(&state) % pages) * 4096) != 4096) fail("random read");
    double rread_s = now_s() - t0;
    t0 = now_s();
    for (long i = 0; i < ops; i++)
        if (pwrite(fd, buf, 4096, (off_t)(next_random(&state) % pages) * 4096) != 4096) fail("random write");
    if (fdatasync(fd) < 0) fail("fdatasync");
    double rwrite_s = now_s() - t0;
    close(fd);
    if (!device) unlink(path);
    free(buf);
    printf("BENCH disk_%s_direct=%d\n", label, direct);
    printf("BENCH disk_%s_seq_write_mbs=%.1f\nBENCH disk_%s_seq_read_mbs=%.1f\n", label, mib / write_s, label, mib / read_s);
    printf("BENCH disk_%s_rand_read_iops=%.0f\nBENCH disk_%s_rand_write_iops=%.0f\n", label, ops / rread_s, label, ops / rwrite_s);
}

static void tcp_server(int port) {
    int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (listener < 0) fail("socket");
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0) fail("bind");
    if (listen(listener, 1) < 0) fail("listen");
    printf("BENCH ready=1\n");
    fflush(stdout);
    int fd = accept(listener, NULL, NULL);
    if (fd < 0) fail("accept");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    static char buf[1 << 16];
    /* Round trips until the client sends 'S', then sink the stream until EOF. */
    for (;;) {
        ssize_t n = read(fd, buf, 1);
        if (n <= 0) return;
        if (buf[0] == 'S') break;
        if (write(fd, buf, 1) != 1) fail("echo");
    }
    while (read(fd, buf, sizeof buf) > 0) {}
    if (write(fd, "D", 1) != 1) fail("done");
    close(fd);
}

static void tcp_client(const char *host, int port, long mib, long trips) {
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0) fail("socket");
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) fail("address");
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) fail("connect");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char c = 'r';
    double t0 = now_s();
    for (long i = 0; i < trips; i++)
        if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1) fail("round trip");
    double rr = (now_s() - t0) / trips;
    static char buf[1 << 16];
    memset(buf, 0x33, sizeof buf);
    if (write(fd, "S", 1) != 1) fail("stream start");
    size_t bytes = (size_t)mib << 20;
    t0 = now_s();
    for (size_t done = 0; done < bytes; done += sizeof buf)
        if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) fail("stream");
    shutdown(fd, SHUT_WR);
    if (read(fd, &c, 1) != 1) fail("stream end");
    double t = now_s() - t0;
    printf("BENCH tcp_rr_us=%.1f\nBENCH tcp_gbps=%.3f\n", rr * 1e6, bytes * 8.0 / t / 1e9);
    close(fd);
}

static void on_term(int sig) { (void)sig; _exit(0); }

int main(int argc, char **argv) {
    struct timespec entered;
    clock_gettime(CLOCK_REALTIME, &entered);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        fprintf(stderr, "usage: bench-workload TASK...\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        char *task = argv[i], *save = NULL;
        char *name = strtok_r(task, ":", &save);
        char *a = strtok_r(NULL, ":", &save), *b = strtok_r(NULL, ":", &save);
        char *c = strtok_r(NULL, ":", &save), *d = strtok_r(NULL, ":", &save);
        if (!strcmp(name, "start")) {
            printf("BENCH start_realtime_ns=%lld\n", (long long)entered.tv_sec * 1000000000LL + entered.tv_nsec);
        } else if (!strcmp(name, "idle")) {
            signal(SIGTERM, on_term);
            printf("BENCH ready=1\n");
            fflush(stdout);
            for (;;) pause();
        } else if (!strcmp(name, "cpu") && a) {
            cpu(atol(a));
        } else if (!strcmp(name, "mem") && a) {
            mem(atol(a));
        } else if (!strcmp(name, "syscall") && a) {
            syscalls(atol(a));
        } else if (!strcmp(name, "disk") && a && b && c && d) {
            disk(a, b, atol(c), atol(d));
        } else if (!strcmp(name, "tcp-server") && a) {
            tcp_server(atoi(a));
        } else if (!strcmp(name, "tcp-client") && a && b && c && d) {
            tcp_client(a, atoi(b), atol(c), atol(d));
        } else {
            fprintf(stderr, "bench-workload: unknown task '%s'\n", argv[i]);
            return 2;
        }
    }
    return 0;
}

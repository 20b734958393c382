// Guest side of scripts/bench/virtio: O_DIRECT reads on a block device at queue
// depth 1 for a fixed time. Built static on the host and handed to the guest on a
// small raw disk (the initramfs has no fio).
//   virtio-diskbench DEVICE randread|seqread SECONDS
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s DEVICE randread|seqread SECONDS\n", argv[0]);
        return 2;
    }
    int fd = open(argv[1], O_RDONLY | O_DIRECT);
    unsigned long long size = 0;
    if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) != 0 || size < (2 << 20)) {
        perror(argv[1]);
        return 1;
    }
    int random = strcmp(argv[2], "randread") == 0;
    size_t block = random ? 4096 : (1 << 20);
    void *buffer;
    if (posix_memalign(&buffer, 4096, block) != 0) return 1;
    double seconds = atof(argv[3]), start = now(), elapsed = 0;
    unsigned long long ops = 0, blocks = size / block, position = 0, seed = 88172645463325252ULL;
    while (elapsed < seconds) {
        if (random) {
            seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
            position = seed % blocks;
        } else {
            position = (position + 1) % blocks;
        }
        if (pread(fd, buffer, block, (off_t)(position * block)) != (ssize_t)block) {
            perror("pread");
            return 1;
        }
        ops++;
        if ((ops & 63) == 0) elapsed = now() - start;
    }
    elapsed = now() - start;
    if (random) printf("diskbench randread-iops=%.0f\n", ops / elapsed);
    else printf("diskbench seqread-mbps=%.1f\n", ops * (double)block / elapsed / 1e6);
    return 0;
}

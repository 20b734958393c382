#!/bin/sh
# Builds Swiftlet's freestanding test guests into firmware/out/ (gitignored):
#   hello64.bzImage  Linux 64-bit boot protocol guest (COM1, boot timer, i8042 reset)
#   smp.elf          PVH ELF guest that starts every vCPU with INIT/SIPI
# Flags keep the code within what a paravirtual /dev/kvm can emulate at CPL0.
set -eu
cd "$(dirname "$0")"
mkdir -p out
CC=${CC:-gcc}
CFLAGS="-O2 -ffreestanding -fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables \
 -mgeneral-regs-only -mno-red-zone -mno-popcnt -nostdlib -Wall -Wno-unused-function"
LDFLAGS="-nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,max-page-size=4096 -Wl,--no-warn-rwx-segments"
$CC $CFLAGS -c hello64-head.S -o out/hello64-head.o
$CC $CFLAGS -c hello64.c -o out/hello64.o
$CC $LDFLAGS -T hello64.ld out/hello64-head.o out/hello64.o -o out/hello64.elf
objcopy -O binary out/hello64.elf out/hello64.bzImage
$CC $CFLAGS -c smp-head.S -o out/smp-head.o
$CC $CFLAGS -c smp.c -o out/smp.o
$CC $LDFLAGS -T smp.ld out/smp-head.o out/smp.o -o out/smp.elf

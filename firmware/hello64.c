/* Swiftlet test guest, entered through the Linux 64-bit boot protocol: checks the
 * zero page the VMM built (command line, e820, ACPI RSDP), CPUID normalisation, then
 * writes the boot-timer port and resets through the i8042. With "triple-fault" on
 * its command line it faults on purpose instead; with "hang" it halts forever (for
 * testing that the VMM stops on SIGTERM). */
#include "firmware.h"

struct boot_params_view {
    u8 pad0[0x70];
    u64 acpi_rsdp_addr;     /* 0x070 */
    u8 pad1[0x1e8 - 0x78];
    u8 e820_entries;        /* 0x1e8 */
    u8 pad2[0x228 - 0x1e9];
    u32 cmd_line_ptr;       /* 0x228 */
};

struct e820_entry { u64 addr, size; u32 type; } __attribute__((packed));

static int contains(const char *haystack, const char *needle) {
    for (; *haystack; haystack++) {
        const char *h = haystack, *n = needle;
        while (*n && *h == *n) { h++; n++; }
        if (!*n) return 1;
    }
    return 0;
}

void hello64_main(const struct boot_params_view *bp) {
    const char *cmdline = (const char *)(u64)bp->cmd_line_ptr;
    puts_serial("swiftlet-firmware: hello from 64-bit long mode\n");
    puts_serial("cmdline: ");
    puts_serial(cmdline);
    puts_serial("\n");

    const struct e820_entry *map = (const void *)((const u8 *)bp + 0x2d0);
    u64 ram = 0;
    for (int i = 0; i < bp->e820_entries; i++)
        if (map[i].type == 1) ram += map[i].size;
    puts_serial("e820: ");
    put_dec(bp->e820_entries);
    puts_serial(" entries, ");
    put_dec(ram >> 20);
    puts_serial(" MiB RAM\n");

    puts_serial("acpi: ");
    put_dec((u64)acpi_count_cpus(bp->acpi_rsdp_addr));
    puts_serial(" cpus\n");

    u32 a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    puts_serial((c >> 31) ? "cpuid: hypervisor bit set\n" : "cpuid: hypervisor bit clear\n");
    cpuid(0x40000000, 0, &a, &b, &c, &d);
    u32 signature[3] = { b, c, d };
    if (bytes_equal(signature, "KVMKVMKVM", 9)) puts_serial("cpuid: KVM signature\n");

    outb(BOOT_TIMER_PORT, 0x2a);

    if (contains(cmdline, "triple-fault")) {
        puts_serial("faulting on purpose\n");
        /* An IDT of limit 0 (as the VMM set it): #UD escalates to a triple fault. */
        __asm__ volatile("ud2");
    }
    if (contains(cmdline, "hang")) {
        puts_serial("hanging\n");
        halt_forever();
    }
    puts_serial("swiftlet-firmware: resetting through the i8042\n");
    i8042_reset();
}

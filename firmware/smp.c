/* Swiftlet SMP test guest (64-bit part): reads hvm_start_info, counts CPUs in the
 * ACPI MADT, wakes every application processor with INIT-SIPI-SIPI through the
 * local APIC's ICR, waits until each has checked in with its CPUID APIC id, reports,
 * and powers off through the FADT's ACPI sleep control register. */
#include "firmware.h"

#define HVM_START_MAGIC 0x336ec578
#define LAPIC_BASE 0xfee00000UL
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310
#define ICR_ALL_EXCLUDING_SELF (3u << 18)
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_ASSERT (1u << 14)
#define ICR_PENDING (1u << 12)

struct hvm_start_info {
    u32 magic, version, flags, nr_modules;
    u64 modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
    u32 memmap_entries, reserved;
};

extern volatile u32 ap_mask, ap_count;
extern char ap_trampoline[];

static void lapic_write(u32 reg, u32 value) { *(volatile u32 *)(LAPIC_BASE + reg) = value; }
static u32 lapic_read(u32 reg) { return *(volatile u32 *)(LAPIC_BASE + reg); }

static void send_ipi(u32 command) {
    lapic_write(LAPIC_ICR_HIGH, 0);
    lapic_write(LAPIC_ICR_LOW, command);
    while (lapic_read(LAPIC_ICR_LOW) & ICR_PENDING) {}
}

void smp_main(const struct hvm_start_info *info) {
    puts_serial("swiftlet-firmware: PVH entry, start_info magic ");
    put_hex(info->magic);
    puts_serial(info->magic == HVM_START_MAGIC ? " ok\n" : " BAD\n");
    puts_serial("cmdline: ");
    puts_serial((const char *)info->cmdline_paddr);
    puts_serial("\nmemmap entries: ");
    put_dec(info->memmap_entries);
    puts_serial("\n");

    int cpus = acpi_count_cpus(info->rsdp_paddr);
    puts_serial("acpi: ");
    put_dec((u64)cpus);
    puts_serial(" cpus\n");

    u32 vector = (u32)((u64)ap_trampoline >> 12);
    send_ipi(ICR_ALL_EXCLUDING_SELF | ICR_INIT | ICR_ASSERT);
    send_ipi(ICR_ALL_EXCLUDING_SELF | ICR_STARTUP | vector);
    for (u64 spin = 0; ap_count < (u32)(cpus - 1) && spin < 2000000; spin++) {
        if (spin == 1000) send_ipi(ICR_ALL_EXCLUDING_SELF | ICR_STARTUP | vector);
        __asm__ volatile("pause");
    }
    puts_serial("smp: ");
    put_dec(ap_count + 1);
    puts_serial(" cpus online, ap apic-id mask ");
    put_hex(ap_mask);
    puts_serial("\n");
    outb(BOOT_TIMER_PORT, 0x2b);
    acpi_power_off();
}

/* Shared helpers for Swiftlet's freestanding test guests: port I/O, COM1 output,
 * the boot-timer port, and the ACPI/i8042 ways out. Header-only, 64-bit code. */
#ifndef SWIFTLET_FIRMWARE_H
#define SWIFTLET_FIRMWARE_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;

#define COM1 0x3f8
#define BOOT_TIMER_PORT 0x440
#define I8042_COMMAND 0x64
#define ACPI_SLEEP_CONTROL 0x600

static inline void outb(u16 port, u8 value) { __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline void cpuid(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d) {
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

static void putc_serial(char c) {
    if (c == '\n') outb(COM1, '\r');
    outb(COM1, (u8)c);
}

static void puts_serial(const char *s) { while (*s) putc_serial(*s++); }

static void put_hex(u64 v) {
    static const char digits[] = "0123456789abcdef";
    char buf[19];
    int n = 0;
    buf[n++] = '0'; buf[n++] = 'x';
    int started = 0;
    for (int shift = 60; shift >= 0; shift -= 4) {
        int d = (v >> shift) & 0xf;
        if (d || started || shift == 0) { buf[n++] = digits[d]; started = 1; }
    }
    buf[n] = 0;
    puts_serial(buf);
}

static void put_dec(u64 v) {
    char buf[21];
    int n = 20;
    buf[n] = 0;
    do { buf[--n] = (char)('0' + v % 10); v /= 10; } while (v);
    puts_serial(buf + n);
}

static int bytes_equal(const void *a, const void *b, u64 n) {
    const u8 *x = a, *y = b;
    for (u64 i = 0; i < n; i++) if (x[i] != y[i]) return 0;
    return 1;
}

static u8 byte_sum(const void *p, u64 n) {
    const u8 *b = p;
    u8 s = 0;
    for (u64 i = 0; i < n; i++) s += b[i];
    return s;
}

static __attribute__((noreturn)) void halt_forever(void) {
    for (;;) __asm__ volatile("cli; hlt");
}

/* ACPI soft-off: SLP_TYP = 5 (the DSDT's \_S5), SLP_EN. */
static __attribute__((noreturn)) void acpi_power_off(void) {
    outb(ACPI_SLEEP_CONTROL, (5 << 2) | (1 << 5));
    halt_forever();
}

/* Pulse the reset line through the i8042 (Linux reboot=k). */
static __attribute__((noreturn)) void i8042_reset(void) {
    outb(I8042_COMMAND, 0xfe);
    halt_forever();
}

/* Counts the enabled Processor Local APIC entries of the MADT reachable from the
 * RSDP; -1 if a table is missing or its checksum is wrong. */
static int acpi_count_cpus(u64 rsdp_addr) {
    const u8 *rsdp = (const u8 *)rsdp_addr;
    if (!bytes_equal(rsdp, "RSD PTR ", 8) || byte_sum(rsdp, 20) || byte_sum(rsdp, 36)) return -1;
    const u8 *xsdt = (const u8 *)*(const u64 *)(rsdp + 24);
    u32 xlen = *(const u32 *)(xsdt + 4);
    if (!bytes_equal(xsdt, "XSDT", 4) || byte_sum(xsdt, xlen)) return -1;
    for (u32 off = 36; off + 8 <= xlen; off += 8) {
        const u8 *t = (const u8 *)*(const u64 *)(xsdt + off);
        u32 len = *(const u32 *)(t + 4);
        if (!bytes_equal(t, "APIC", 4)) continue;
        if (byte_sum(t, len)) return -1;
        int cpus = 0;
        for (u32 e = 44; e + 2 <= len; e += t[e + 1]) {
            if (t[e + 1] == 0) return -1;
            if (t[e] == 0 && (*(const u32 *)(t + e + 4) & 1)) cpus++;
        }
        return cpus;
    }
    return -1;
}

#endif

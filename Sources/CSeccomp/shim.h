// libseccomp (Debian's libseccomp-dev), the library that turns seccomp rules into BPF:
// containers' profiles (Docker's default and user profiles) and swiftlet-vmm's filters.
#include <seccomp.h>

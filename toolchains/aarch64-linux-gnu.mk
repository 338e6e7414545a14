# Board toolchain: 64-bit ARM Linux (aarch64-linux-gnu, glibc). Serves Raspberry Pi 3/4/5 and Zero 2 W
# on Raspberry Pi OS 64-bit (Debian 11/12 based), NVIDIA Jetson Nano/Xavier/Orin (L4T, Ubuntu based), and
# any other ARMv8-A Linux board. The binary is static, so the board's own glibc version does not matter.
# Read by the Makefile's "board binaries" section (make cross TARGET=aarch64) and scripts/cross-build.sh.
CROSS_TRIPLE      := aarch64-linux-gnu
CROSS_DEB_ARCH    := arm64
# There is no aarch64-unknown-linux-gnu Embedded stdlib: compile Swift for the bare-metal triple (same
# AAPCS64 C ABI, LP64) and link it into a Linux userspace binary with the GNU cross toolchain.
CROSS_SWIFT_TARGET := aarch64-none-none-elf
CROSS_SWIFT_FLAGS :=
CROSS_CC          := aarch64-linux-gnu-gcc
# ARMv8-A baseline (NEON/ASIMD is mandatory there); Cortex-A53..A78 all run it.
CROSS_CFLAGS      := -O3 -std=gnu11 -ffp-contract=off -march=armv8-a
CROSS_SYSROOT     := .cache/sysroot-aarch64-linux-gnu
# -static-pie: plain -static fails on Debian's aarch64 libc.a ("copy relocation against non-copyable
# protected symbol"); a static PIE needs no loader on the board either.
CROSS_LDFLAGS     := -static-pie -Wl,--gc-sections
CROSS_LIBS        := -lm -lpthread
CROSS_QEMU        := qemu-aarch64

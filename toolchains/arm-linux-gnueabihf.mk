# Board toolchain: 32-bit ARM Linux, hard-float (arm-linux-gnueabihf, glibc). Serves Raspberry Pi 2/3/4
# and Zero 2 W on 32-bit Raspberry Pi OS (armhf userland), BeagleBone-class ARMv7-A boards with NEON.
# Not for ARMv6 boards (Pi 1, Pi Zero/Zero W): they have no NEON and no ARMv7 instructions.
# The binary is static, so the board's own glibc version does not matter.
# Read by the Makefile's "board binaries" section (make cross TARGET=armv7) and scripts/cross-build.sh.
CROSS_TRIPLE      := arm-linux-gnueabihf
CROSS_DEB_ARCH    := armhf
# Swift compiles for the bare-metal armv7 triple (the only armv7 Embedded stdlib there is), with the
# hard-float calling convention so Swift <-> C calls passing float/double agree with gnueabihf code.
CROSS_SWIFT_TARGET := armv7-none-none-eabi
CROSS_SWIFT_FLAGS := -Xcc -mfloat-abi=hard -Xcc -mfpu=neon-vfpv4
CROSS_CC          := arm-linux-gnueabihf-gcc
# 64-bit off_t/ino_t and time_t: without them readdir() fails with EOVERFLOW on filesystems with 64-bit
# inode numbers or directory offsets (seen under qemu-arm on a 64-bit host: every directory looked empty),
# and clocks break in 2038. None of the shim's headers expose these types, so Swift is unaffected.
CROSS_CFLAGS      := -O3 -std=gnu11 -ffp-contract=off -march=armv7-a -mfpu=neon-vfpv4 -mfp16-format=ieee -mfloat-abi=hard -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64
CROSS_SYSROOT     := .cache/sysroot-arm-linux-gnueabihf
# Debian armhf ships no rcrt1.o, so no -static-pie: plain -static. --no-warn-mismatch: the Swift object
# carries bare-metal EABI attributes that differ from gnueabihf ones in name only (see cross-build.sh,
# which checks the float calling convention really is hard-float).
CROSS_LDFLAGS     := -static -Wl,--gc-sections -Wl,--no-warn-mismatch
CROSS_LIBS        := -lm -lpthread
CROSS_QEMU        := qemu-arm

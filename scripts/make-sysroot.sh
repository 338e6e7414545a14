#!/usr/bin/env bash
# Assembles the target-side libraries the board build links against (libprotobuf-c and libsodium headers
# + static archives) from Debian's own arm64/armhf packages, into .cache/sysroot-<triple>/.
#   usage: scripts/make-sysroot.sh aarch64-linux-gnu | arm-linux-gnueabihf
# Idempotent: does nothing (and needs no network) when the sysroot is already complete. The C library
# itself comes from Debian's libc6-dev-<arch>-cross packages (/usr/<triple>), which gcc-<triple> finds by
# itself; only the extra libraries live here.
set -euo pipefail

triple="${1:?usage: $0 aarch64-linux-gnu|arm-linux-gnueabihf}"
case "$triple" in
    aarch64-linux-gnu)   arch=arm64 ;;
    arm-linux-gnueabihf) arch=armhf ;;
    *) echo "make-sysroot: unknown target triple '$triple'" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "$0")/.." && pwd)"
sysroot="$root/.cache/sysroot-$triple"
# Debian packages (for $arch) unpacked into the sysroot, and one file each proves it is there.
packages=(libprotobuf-c-dev libprotobuf-c1 libsodium-dev libsodium23)
marker_files=("usr/include/protobuf-c/protobuf-c.h" "usr/lib/$triple/libprotobuf-c.a"
              "usr/include/sodium.h" "usr/lib/$triple/libsodium.a")

complete() {
    for f in "${marker_files[@]}"; do [ -e "$sysroot/$f" ] || return 1; done
    [ -e "$sysroot/.complete" ]
}
if complete; then exit 0; fi

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# A partial update (one mirror mid-sync) is fine as long as the packages below can be downloaded after.
apt_update() { $SUDO apt-get update -qq || echo "make-sysroot: apt-get update reported errors; trying anyway" >&2; }

# apt only downloads packages of an architecture dpkg knows about.
if ! { dpkg --print-architecture; dpkg --print-foreign-architectures; } | grep -qx "$arch"; then
    echo "make-sysroot: dpkg --add-architecture $arch"
    $SUDO dpkg --add-architecture "$arch"
    apt_update
fi

debs="$root/.cache/debs-$arch"
mkdir -p "$debs"
need_download=()
for p in "${packages[@]}"; do
    ls "$debs/${p}_"*"_${arch}.deb" >/dev/null 2>&1 || need_download+=("$p:$arch")
done
if [ ${#need_download[@]} -gt 0 ]; then
    echo "make-sysroot: downloading ${need_download[*]}"
    # The package lists may predate the architecture (or be stale): retry once after an update.
    if ! (cd "$debs" && apt-get download -qq "${need_download[@]}" 2>/dev/null); then
        apt_update
        (cd "$debs" && apt-get download -qq "${need_download[@]}")
    fi
fi

rm -rf "$sysroot.tmp"
mkdir -p "$sysroot.tmp"
for deb in "$debs"/*_"$arch".deb; do
    dpkg -x "$deb" "$sysroot.tmp"
done
for f in "${marker_files[@]}"; do
    [ -e "$sysroot.tmp/$f" ] || { echo "make-sysroot: $f missing after unpacking" >&2; exit 1; }
done
touch "$sysroot.tmp/.complete"
rm -rf "$sysroot"
mv "$sysroot.tmp" "$sysroot"
echo "make-sysroot: $sysroot ready"

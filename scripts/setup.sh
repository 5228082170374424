#!/bin/sh
# Installs what the Popcorn toolchain needs on Debian 12, if it is missing. Idempotent and quick
# when everything is already there. Run as root (or with sudo available).
set -eu

# The last lines are for the tests: perl for scripts/demo.sh, tar's decompressors and the archive
# keys for the Debian source packages scripts/debian-source.sh fetches, and what third-party
# packages are built with through their own build systems (CMake, Ninja, Debian's default flags
# from dpkg-buildflags, setpriv for the setuid scenario, tclsh for SQLite's amalgamation).
packages="make llvm-19 llvm-19-dev clang-19 lld-19 libclang-19-dev libelf-dev libdw-dev zlib1g-dev qemu-user
musl-dev musl-dev:arm64 libgcc-12-dev libgcc-12-dev-arm64-cross libstdc++-12-dev
perl bzip2 xz-utils debian-archive-keyring
cmake ninja-build dpkg-dev util-linux tcl"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "setup: error: must run as root to install packages" >&2; exit 1; fi
fi

missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    echo "setup: installing:$missing" >&2
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        $SUDO dpkg --add-architecture arm64
    fi
    $SUDO apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
fi

if ! command -v swift >/dev/null 2>&1 && [ ! -x /opt/swift/usr/bin/swift ]; then
    echo "setup: error: Swift 6 toolchain not found (expected at /opt/swift)" >&2
    exit 1
fi
echo "setup: all dependencies present" >&2

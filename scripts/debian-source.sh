#!/bin/sh
# Fetches the upstream source of a Debian package for the third-party tests and prints the
# directory it was unpacked in:
#
#   scripts/debian-source.sh <package>        e.g. scripts/debian-source.sh bzip2
#
# The source comes from the Debian archive this machine already uses (a deb-src entry is added
# next to the existing deb entries when there is none), with `apt-get source --download-only`,
# so dpkg-dev is not needed: the upstream tarball (*.orig.tar.*) is unpacked as it is, without
# Debian's patches. Downloads are cached in $POPCORN_SOURCE_CACHE (default
# /var/cache/popcorn-sources), so later runs work offline; nothing is committed to the repository.
# Exit status: 0 with the directory on stdout; 1 with a message on stderr.
set -eu
package=${1:?usage: debian-source.sh <package>}
cache=${POPCORN_SOURCE_CACHE:-/var/cache/popcorn-sources}
say() { echo "debian-source: $*" >&2; }

mkdir -p "$cache/$package"
cd "$cache/$package"
# One fetch at a time per package (parallel test runs share the cache).
exec 9>"$cache/$package.lock"
flock 9

tarball=$(ls ./*.orig.tar.* 2>/dev/null | head -n 1 || true)
if [ -z "$tarball" ]; then
    list=/etc/apt/sources.list.d/popcorn-deb-src.sources
    if ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        [ "$(id -u)" = 0 ] || { say "error: no deb-src entry in the apt sources and not root to add one"; exit 1; }
        uris=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
        suites=$(sed -n 's/^Suites:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
        printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
            "${uris:-http://deb.debian.org/debian}" "${suites:-bookworm bookworm-updates}" > "$list.tmp"
        mv "$list.tmp" "$list"
        say "added $list"
    fi
    if ! apt-get source --download-only "$package" >/dev/null 2>apt.log; then
        apt-get update -qq >/dev/null 2>>apt.log || true
        apt-get source --download-only "$package" >/dev/null 2>>apt.log || {
            say "error: apt-get source $package failed:"; cat apt.log >&2; exit 1; }
    fi
    tarball=$(ls ./*.orig.tar.* 2>/dev/null | head -n 1 || true)
    [ -n "$tarball" ] || { say "error: no upstream tarball among the files of source package $package"; exit 1; }
fi

directory=$cache/$package/upstream
if [ ! -f "$directory/.unpacked" ]; then
    rm -rf "$directory" "$directory.tmp"
    mkdir -p "$directory.tmp"
    tar -xf "$tarball" -C "$directory.tmp" --strip-components=1
    touch "$directory.tmp/.unpacked"
    mv "$directory.tmp" "$directory"
fi
echo "$directory"

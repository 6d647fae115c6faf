#!/usr/bin/env bash
# Installs the Debian 12 packages weir needs to build, test and benchmark.
# Idempotent: packages already present are left alone.  Run as root.
set -euo pipefail

pkgs=(
    build-essential meson ninja-build pkg-config clang
    libclang-rt-14-dev llvm
    libmnl-dev liburcu-dev libpcap-dev libxxhash-dev libcmocka-dev
    python3-pytest python3-scapy
    openvswitch-common openvswitch-source
    python3-openvswitch python3-netaddr python3-pyparsing
    valgrind tcpdump
)

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
            | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root to install: ${missing[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

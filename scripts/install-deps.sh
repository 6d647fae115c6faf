#!/usr/bin/env bash
# Installs the Debian 12 packages weir needs to build, test and benchmark.
# Idempotent: packages already present are left alone.  Run as root.
set -euo pipefail

pkgs=(
    build-essential meson ninja-build pkg-config clang
    libclang-rt-14-dev llvm
    libmnl-dev libevent-dev liburcu-dev libpcap-dev libxxhash-dev libcmocka-dev
    libxdp-dev libbpf-dev
    python3-pytest python3-scapy
    openvswitch-common openvswitch-source openvswitch-switch
    python3-openvswitch python3-netaddr python3-pyparsing
    valgrind tcpdump iproute2 iputils-ping ethtool wget netcat-openbsd
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

# openvswitch-switch is here only for ovs-vswitchd, which
# scripts/bench-fwd.sh runs on private directories: its package must not
# start (or, on the next boot, bring up) the system's Open vSwitch, which
# would load the kernel module and own /var/run/openvswitch.  A
# policy-rc.d that says "no" keeps invoke-rc.d and deb-systemd-invoke from
# starting it during the install (one already there, as in Docker images,
# is left alone); afterwards the service is disabled if we installed it.
new_ovs=
policy=
if [[ " ${missing[*]} " == *" openvswitch-switch "* ]]; then
    new_ovs=1
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        policy=/usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
        printf '#!/bin/sh\n# install-deps.sh: start nothing.\nexit 101\n' \
            >$policy
        chmod 755 $policy
    fi
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [ -n "$new_ovs" ]; then
    # systemctl disable also works where systemd is not running.
    ovs_units=(openvswitch-switch.service ovs-vswitchd.service
               ovsdb-server.service)
    if [ -d /run/systemd/system ]; then
        systemctl stop "${ovs_units[@]}" 2>/dev/null || true
    fi
    if command -v systemctl >/dev/null; then
        systemctl disable -q "${ovs_units[@]}" 2>/dev/null || true
    fi
    update-rc.d openvswitch-switch disable >/dev/null 2>&1 || true
fi
if [ -n "$policy" ]; then
    rm -f $policy
    trap - EXIT
fi

#!/usr/bin/env bash
# Forwarding benchmarks: 64-byte UDP frames between two veth "hosts"
# (network namespaces) through one PMD thread, weir beside Open vSwitch 3.1
# (Debian's openvswitch-switch, userspace datapath), in one run: each case
# goes through weir and then at once through OVS, so that a ratio compares
# figures taken seconds apart on the same machine.
# usage: bench-fwd.sh [BUILD_DIR]   (default $WEIR_BUILD, else build/)
#
# Figures (lines "BENCH <name> <value> <unit>"):
#   fwd_ceiling_pps            sender and receiver joined by a plain veth
#                              pair: what this sender gets through a veth
#   fwd_{afpacket,afxdp}_{1flow,10kflow}_pps
#                              weir (tests/tools/dp-shell), ports of that
#                              type on the switch side, one PMD on CPU 1
#   upcall_per_s, upcall_lost_per_s
#                              weir with no flows and one handler thread:
#                              misses delivered to the handler, and lost
#   fwd_ovs_{afpacket,afxdp}_{1flow,10kflow}_pps
#                              the same through ovs-vswitchd
#                              (datapath_type=netdev, pmd-cpu-mask=0x2)
#   fwd_{afpacket,afxdp}_{1flow,10kflow}_vs_ovs
#                              weir / OVS (above 1: weir faster)
# Lines "INFO ..." add detail (share of the sent frames delivered, PMD
# time shares, lookup and port counters, the load average at the start
# and end, the ceiling again at the end); they are not figures.  A case
# that cannot run (no dp-shell, a port type not implemented, no OVS, no
# AF_XDP) prints an INFO line saying so and no figure; the script never
# fails on speed.
#
# Layout.  Namespaces wbh1-PID and wbh2-PID are the hosts.  Each has one
# end of a veth pair whose other end, wbs1-PID or wbs2-PID, is in the root
# namespace where the switch attaches to it (port 1 and port 2); the pairs
# are made afresh for every case, so nothing one switch left on them (an
# XDP program, a socket) reaches the next.  A second pair, "c1" in wbh1
# and "c2" in wbh2, joins the hosts directly for the ceiling.
#
# Method.  tests/bench/pktgen sends from wbh1 on CPU 0 (taskset) for 1
# second to warm up (OVS installs its megaflows then), then for
# FWD_SECONDS (default 5); the figure is the growth of the receiving
# interface's rx_packets in wbh2 over that time, read from sysfs before and
# after (plus 0.3 s for what the switch still had queued).  Frames go to
# 02:00:00:00:00:02, an address nothing has: the receiver drops them on
# entry to IPv4 as PACKET_OTHERHOST, without replies, and the root
# namespace does the same with the copies it sees on wbs1.  IPv6 is off on
# every benchmark interface so that no stray packet reaches a switch.
# Frames are 64 bytes as the kernel sees them (no FCS; see pktgen.c).
#
# Flows.  1flow: one flow for everything from port 1
# (weir "in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)" -> 2, OVS
# "in_port=1,actions=output:2"), pktgen with one flow.  10kflow: pktgen
# sends 10,000 flows (UDP source ports 1024-11023) and each has its own
# flow: weir gets 10,000 datapath flows
# "in_port(1),eth(),eth_type(0x0800),ipv4(proto=17,frag=no),udp(src=N)",
# OVS 10,000 OpenFlow rules "udp,in_port=1,tp_src=N,actions=output:2"
# (which make as many megaflows once warmed up).  So 10kflow measures
# lookup among many flows, with caches (weir's and OVS's exact-match
# caches) that no longer hold every flow.
#
# CPUs.  This is written for a 2-CPU machine: pktgen on CPU 0, the switch
# on CPU 1 (dp-shell and ovs-vswitchd whole, under taskset, their PMD
# pinned there too; in the upcall case only the PMD, so that the handler
# thread is not starved by a busy PMD on its CPU).  The kernel does the
# sender's veth transmit and the switch's receive on wbs1 (AF_PACKET
# copy, or XDP and the copy into the AF_XDP umem, in the veth's NAPI) on
# CPU 0, charged to the sender: how fast pktgen can send depends on the
# port type of the switch, which is part of what is measured.  What the
# switch transmits on wbs2 the kernel receives in wbh2 on CPU 1.  The
# ceiling has all kernel work on CPU 0, so a switch that spreads the work
# over two CPUs could in principle exceed it.  Open vSwitch polls ports of
# its "system" type (netdev-linux, AF_PACKET) from its main thread, not
# from a PMD: that is how it runs them.
#
# Open vSwitch runs from private directories under a temporary directory
# (OVS_RUNDIR, OVS_DBDIR, OVS_LOGDIR, OVS_SYSCONFDIR), with a bridge of
# its own name, and is stopped by the PIDs in its pidfiles.  Everything the
# script creates goes on exit, Ctrl-C included.
#
# Environment: FWD_SECONDS (default 5), FWD_ONLY (a word: run only the
# cases whose name contains it, e.g. ceiling, afxdp, ovs, upcall),
# FWD_AFPACKET_OPTIONS and FWD_AFXDP_OPTIONS (weir port options, default
# none), FWD_OVS_AFXDP_MODE (OVS options:xdp-mode, default best-effort).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${WEIR_BUILD:-$top/build}}
case $build in /*) ;; *) build=$top/$build ;; esac
pktgen=$build/tests/bench/pktgen
dp_shell=$build/tests/tools/dp-shell
secs=${FWD_SECONDS:-5}
only=${FWD_ONLY:-}
sender_cpu=0
pmd_cpu=1

info() { echo "INFO $*"; }

if [ "$(id -u)" -ne 0 ]; then
    info "bench-fwd: needs root (network namespaces, veth); skipped"
    exit 0
fi
if [ ! -x "$pktgen" ]; then
    info "bench-fwd: no $pktgen (build first); skipped"
    exit 0
fi

tag=$$
ns1=wbh1-$tag
ns2=wbh2-$tag
sw1=wbs1-$tag
sw2=wbs2-$tag
br=wbbr-$tag
tmp=$(mktemp -d /tmp/bench-fwd.XXXXXX)
dp_pid=
gen_pid=
ovs_up=

# ---- cleanup -------------------------------------------------------------

cleanup() {
    trap - EXIT INT TERM
    [ -n "$gen_pid" ] && kill "$gen_pid" 2>/dev/null
    dp_stop
    ovs_stop
    ip link del "$sw1" 2>/dev/null
    ip link del "$sw2" 2>/dev/null
    ip netns del "$ns1" 2>/dev/null
    ip netns del "$ns2" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "bench-fwd: interrupted" >&2; exit 130' INT TERM
# A dp-shell that died must make printf fail, not kill this script.
trap '' PIPE

want() { [ -z "$only" ] || [[ $1 == *"$only"* ]]; }

# ---- namespaces and links ------------------------------------------------

# Writes 1 to disable_ipv6 of interface $2 in namespace $1 ("" for root).
no_ipv6() {
    local f=/proc/sys/net/ipv6/conf/$2/disable_ipv6
    if [ -z "$1" ]; then
        [ -w "$f" ] && echo 1 >"$f"
    else
        ip netns exec "$1" sh -c "[ -w $f ] && echo 1 >$f"
    fi
    return 0
}

hosts_up() {
    ip netns add "$ns1" && ip netns add "$ns2" || return 1
    ip -n "$ns1" link set lo up
    ip -n "$ns2" link set lo up
    # The ceiling pair.
    ip -n "$ns1" link add c1 type veth peer name c2 netns "$ns2" || return 1
    no_ipv6 "$ns1" c1
    no_ipv6 "$ns2" c2
    ip -n "$ns1" link set c1 up
    ip -n "$ns2" link set c2 up
}

# (Re)makes the pairs h1 (in wbh1) <-> wbs1 and h2 (in wbh2) <-> wbs2.
switch_links() {
    local i ns sw
    for i in 1 2; do
        ns=wbh$i-$tag
        sw=wbs$i-$tag
        ip link del "$sw" 2>/dev/null
        ip link add "$sw" type veth peer name h$i netns "$ns" || return 1
        no_ipv6 "" "$sw"
        no_ipv6 "$ns" h$i
        ip link set "$sw" up
        ip -n "$ns" link set h$i up
    done
}

# xdp_attach NAME: an INFO line saying how an XDP program is attached to
# wbs1 ("xdp": native, "xdpgeneric": generic; nothing if none).
xdp_attach() {
    local how
    how=$(ip -d link show dev "$sw1" | grep -oE 'prog/xdp[a-z]*' | head -1)
    [ -n "$how" ] && info "$1 wbs1 XDP program attached as ${how#prog/}"
    return 0
}

rx_packets() {
    ip netns exec "$2" cat "/sys/class/net/$1/statistics/rx_packets"
}

# run_pktgen SEND_IF SECONDS NFLOWS: pktgen in wbh1 on $sender_cpu, in the
# background so that the traps can stop it; its output in $tmp/pktgen.out.
run_pktgen() {
    ip netns exec "$ns1" taskset -c $sender_cpu "$pktgen" "$@" \
        >"$tmp/pktgen.out" 2>"$tmp/pktgen.err" &
    gen_pid=$!
    wait $gen_pid || { gen_pid=; cat "$tmp/pktgen.err" >&2; return 1; }
    gen_pid=
}

# pps NAME SEND_IF RECV_IF NFLOWS: sends from wbh1 for 1 second, runs
# $warm_hook (if set), sends for $secs seconds; sets 'rate' to the receive
# rate in wbh2 over the second run and writes an INFO line to $tmp/last.
warm_hook=
pps() {
    local name=$1 send_if=$2 recv_if=$3 nflows=$4 r0 r1 sent share
    rate=
    run_pktgen "$send_if" 1 "$nflows" || return 1
    [ -n "$warm_hook" ] && $warm_hook
    r0=$(rx_packets "$recv_if" "$ns2")
    run_pktgen "$send_if" "$secs" "$nflows" || return 1
    sleep 0.3
    r1=$(rx_packets "$recv_if" "$ns2")
    sent=$(sed -n 's/^sent //p' "$tmp/pktgen.out")
    rate=$(((r1 - r0) / secs))
    share=$(awk "BEGIN { printf \"%.1f\", 100 * $((r1 - r0)) / ${sent:-1} }")
    echo "INFO $name sent $sent received $((r1 - r0)) ($share%)" \
         "in ${secs} s" >"$tmp/last"
}

# ---- weir through dp-shell -----------------------------------------------

# dp_start [CPULIST]: dp-shell as a coprocess, under taskset if CPULIST.
dp_start() {
    local pin=(${1:+taskset -c $1})
    coproc DPSH { exec "${pin[@]}" "$dp_shell" 2>>"$tmp/dp-shell.err"; }
    dp_pid=$DPSH_PID
    # Copies that outlive the coprocess (bash closes its own on exit).
    exec {dp_in}>&"${DPSH[1]}" {dp_out}<&"${DPSH[0]}"
}

# dp COMMAND...: one command, its reply in $reply; true if "ok":true.
# Skips the line {"ok":true,"ready":true} that dp-shell prints on start.
dp() {
    reply=
    printf '%s\n' "$*" 1>&"$dp_in" 2>/dev/null || return 1
    while IFS= read -r -t 60 reply <&"$dp_out"; do
        [[ $reply =~ ^\{\"ok\":true,\"ready\":true\}$ ]] || break
    done
    [[ $reply =~ ^\{\ *\"ok\"\ *:\ *true ]]
}

dp_stop() {
    [ -n "$dp_pid" ] || return 0
    printf 'quit\n' 1>&"$dp_in" 2>/dev/null
    exec {dp_in}>&- {dp_out}<&-
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        kill -0 "$dp_pid" 2>/dev/null || break
        sleep 0.2
    done
    kill "$dp_pid" 2>/dev/null
    wait "$dp_pid" 2>/dev/null
    dp_pid=
    if [ -s "$tmp/dp-shell.err" ]; then
        sed 's/^/INFO dp-shell stderr: /' "$tmp/dp-shell.err" | head -5
        : >"$tmp/dp-shell.err"
    fi
}

# The "stats" reply after warming up, for dp_info.
dp_warm() {
    dp stats && stats0=$reply || stats0='{}'
}

# dp_info NAME STATS0 STATS1: what changed between two "stats" replies
# (PMD time shares, port counters, datapath counters), as INFO lines.
dp_info() {
    /usr/bin/python3 -c 'import json, sys
name, a, b = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
def by(d, k, f):
    return {x[f]: x for x in d.get(k, [])}
pa = by(a, "pmds", "id")
for i, p in sorted(by(b, "pmds", "id").items()):
    q = pa.get(i, {})
    dt = {k: p.get(k, 0) - q.get(k, 0)
          for k in ("packets", "busy_ns", "idle_ns", "sleep_ns")}
    t = max(dt["busy_ns"] + dt["idle_ns"] + dt["sleep_ns"], 1)
    print("INFO %s pmd %d cpu %d packets %d busy %.1f%% idle %.1f%% "
          "sleep %.1f%%" % (name, i, p["cpu"], dt["packets"],
          100 * dt["busy_ns"] / t, 100 * dt["idle_ns"] / t,
          100 * dt["sleep_ns"] / t))
qa = by(a, "ports", "port_no")
for i, p in sorted(by(b, "ports", "port_no").items()):
    q = qa.get(i, {})
    print("INFO %s port %d %s" % (name, i, p["name"]) + "".join(
        " %s %d" % (k, p[k] - q.get(k, 0))
        for k in ("rx_packets", "tx_packets", "rx_dropped", "tx_dropped")))
da, db = a.get("dp", {}), b.get("dp", {})
print("INFO %s dp" % name + "".join(
    " %s %d" % (k, db.get(k, 0) - da.get(k, 0))
    for k in ("hit", "missed", "lost")) + " flows %d" % db.get("flows", 0))
' "$1" "$2" "$3" || true
}

# weir_ports TYPE OPTIONS [N]: a fresh dp-shell with wbs1 as port 1 (and
# wbs2 as port 2 unless N is 1), one PMD on $pmd_cpu.  With two ports the
# whole of dp-shell is on that CPU (as ovs-vswitchd), with one (the upcall
# case) only the PMD.  On failure says why (INFO) and stops dp-shell.
weir_ports() {
    local type=$1 opts=${2:--} n=${3:-2}
    if ! switch_links; then
        info "weir $type: could not make the veth pairs"
        return 1
    fi
    if [ "$n" = 2 ]; then
        dp_start $pmd_cpu
    else
        dp_start
    fi
    if ! dp port-add "$type" "$sw1" "$opts" 1 \
            || { [ "$n" = 2 ] && ! dp port-add "$type" "$sw2" "$opts" 2; } \
            || ! dp pmd 1 $pmd_cpu; then
        info "weir $type: ${reply:-no reply from dp-shell}"
        dp_stop
        return 1
    fi
}

# weir_flows NFLOWS: the flows of a case (see "Flows" above).
weir_flows() {
    local n
    if [ "$1" = 1 ]; then
        dp flow-add "in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)" 2 \
            || { info "weir flow-add: $reply"; return 1; }
        return 0
    fi
    local base="in_port(1),eth(),eth_type(0x0800),ipv4(proto=17,frag=no)"
    for ((n = 1024; n < 1024 + $1; n++)); do
        dp flow-add "$base,udp(src=$n)" 2 \
            || { info "weir flow-add udp(src=$n): $reply"; return 1; }
    done
}

# weir_fwd TYPE OPTIONS LABEL NFLOWS: fwd_TYPE_LABEL_pps through dp-shell;
# sets weir_TYPE_LABEL.
weir_fwd() {
    local type=$1 opts=$2 name=${1}_$3 nflows=$4
    [ -x "$dp_shell" ] || return 0
    weir_ports "$type" "$opts" || return 0
    if weir_flows "$nflows"; then
        sleep 0.5
        warm_hook=dp_warm
        if pps "fwd_$name" h1 h2 "$nflows"; then
            echo "BENCH fwd_${name}_pps $rate pps"
            eval "weir_$name=$rate"
            cat "$tmp/last"
            dp stats && dp_info "fwd_$name" "$stats0" "$reply"
            xdp_attach "fwd_$name"
        fi
        warm_hook=
    fi
    dp_stop
}

# upcall_per_s: one port, no flows, one handler thread; pktgen sends
# 100,000 flows, each packet a miss.
weir_upcall() {
    local s0 r0 r1 l0 l1 m0 m1
    want upcall || return 0
    weir_ports afpacket "${FWD_AFPACKET_OPTIONS:--}" 1 || return 0
    if ! dp handlers 1 || ! dp stats; then
        info "weir upcall: ${reply:-no reply from dp-shell}"
        dp_stop
        return 0
    fi
    s0=$reply
    if run_pktgen h1 "$secs" 100000 && sleep 0.3 && dp stats; then
        r0=$(jget "$s0" 'd["upcalls"]["received"]')
        r1=$(jget "$reply" 'd["upcalls"]["received"]')
        l0=$(jget "$s0" 'd["dp"]["lost"]')
        l1=$(jget "$reply" 'd["dp"]["lost"]')
        m0=$(jget "$s0" 'd["dp"]["missed"]')
        m1=$(jget "$reply" 'd["dp"]["missed"]')
        echo "BENCH upcall_per_s $(((r1 - r0) / secs)) upcalls/s"
        echo "BENCH upcall_lost_per_s $(((l1 - l0) / secs)) upcalls/s"
        info "upcall sent $(sed -n 's/^sent //p' "$tmp/pktgen.out")" \
             "missed $((m1 - m0)) received $((r1 - r0)) lost $((l1 - l0))" \
             "in $secs s"
        dp_info upcall "$s0" "$reply"
    else
        info "weir upcall: ${reply:-pktgen failed}"
    fi
    dp_stop
}

# jget JSON EXPR: prints the Python expression EXPR over JSON (as 'd').
jget() {
    /usr/bin/python3 -c 'import json, sys
d = json.loads(sys.argv[1])
print(eval(sys.argv[2]))' "$1" "$2"
}

# ---- Open vSwitch ----------------------------------------------------------

ovs_start() {
    local d=$tmp/ovs
    if ! command -v ovs-vswitchd >/dev/null \
            || ! command -v ovsdb-server >/dev/null; then
        info "ovs: no ovs-vswitchd (apt-get install openvswitch-switch)"
        return 1
    fi
    mkdir -p $d/run $d/db $d/log $d/etc
    export OVS_RUNDIR=$d/run OVS_DBDIR=$d/db OVS_LOGDIR=$d/log \
           OVS_SYSCONFDIR=$d/etc
    ovsdb-tool create $d/db/conf.db /usr/share/openvswitch/vswitch.ovsschema \
        || return 1
    ovs_up=1
    ovsdb-server $d/db/conf.db --remote=punix:$d/run/db.sock \
        --pidfile=$d/run/ovsdb-server.pid --detach --no-chdir \
        --log-file=$d/log/ovsdb-server.log 2>>$d/log/console.log \
        || return 1
    ovs-vsctl --no-wait init \
        -- set Open_vSwitch . other_config:pmd-cpu-mask=0x2 || return 1
    # All of it on the PMD's CPU, as dp-shell: ports of type "system" are
    # polled by the main thread, not by a PMD.
    taskset -c $pmd_cpu ovs-vswitchd unix:$d/run/db.sock \
        --pidfile=$d/run/ovs-vswitchd.pid --detach --no-chdir \
        --log-file=$d/log/ovs-vswitchd.log 2>>$d/log/console.log \
        || return 1
    info "ovs: $(ovs-vswitchd --version | head -1)"
}

ovs_stop() {
    local d=$tmp/ovs p
    [ -n "$ovs_up" ] || return 0
    ovs_up=
    ovs-vsctl --timeout=10 --if-exists del-br "$br" 2>/dev/null
    for p in ovs-vswitchd ovsdb-server; do
        [ -f $d/run/$p.pid ] || continue
        p=$(cat $d/run/$p.pid)
        kill "$p" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.2
        done
        kill -9 "$p" 2>/dev/null
    done
    # The bridge's local port is a tap device of the netdev datapath.
    ip link del "$br" 2>/dev/null
    return 0
}

# ovs_bridge TYPE: a fresh bridge with wbs1 (OpenFlow port 1) and wbs2
# (port 2) of interface type TYPE ("" for netdev-linux), no flows.
ovs_bridge() {
    local type=$1 i opt=()
    ovs-vsctl --timeout=10 --if-exists del-br "$br"
    switch_links || return 1
    [ "$type" = afxdp ] \
        && opt=(options:xdp-mode="${FWD_OVS_AFXDP_MODE:-best-effort}")
    ovs-vsctl --timeout=10 add-br "$br" \
        -- set bridge "$br" datapath_type=netdev || return 1
    for i in 1 2; do
        ovs-vsctl --timeout=10 add-port "$br" "wbs$i-$tag" \
            -- set interface "wbs$i-$tag" ofport_request=$i \
               ${type:+type=$type} "${opt[@]}" || return 1
    done
    for i in 1 2; do
        if [ "$(ovs-vsctl get interface "wbs$i-$tag" ofport)" != "$i" ]; then
            info "ovs ${type:-system}: wbs$i: $(ovs-vsctl get interface \
                "wbs$i-$tag" error)"
            return 1
        fi
    done
    ovs-ofctl del-flows "$br"
}

ovs_warm() {
    ovs-appctl dpif-netdev/pmd-stats-clear >/dev/null
}

# PMD and datapath detail from ovs-appctl, as INFO lines: per polling
# thread (PMD, or "main" for ports the main thread polls) what it received,
# how it was looked up, and its time shares; then the AF_XDP mode in use.
ovs_info() {
    ovs-appctl dpif-netdev/pmd-stats-show 2>/dev/null | awk -v n="$1" '
        function flush() {
            if (t != "" && rx > 0) {
                printf "INFO %s ovs %s received %d simple %d emc %d " \
                       "megaflow %d upcall %d%s\n", n, t, rx, sm, emc, mf,
                       up, cyc
            }
        }
        /^pmd thread/ { flush(); t = "pmd cpu " $NF; sub(":", "", t) }
        /^main thread/ { flush(); t = "main thread" }
        /^pmd thread|^main thread/ { rx = sm = emc = mf = up = 0; cyc = "" }
        /packets received:/ { rx = $NF }
        /simple match hits:/ { sm = $NF }
        /emc hits:/ { emc = $NF }
        /megaflow hits:/ { mf = $NF }
        /miss with success upcall:/ { up = $NF }
        /idle cycles:/ { cyc = cyc " idle " $NF }
        /^ *processing cycles:/ { cyc = cyc " processing " $NF }
        END { flush() }' | tr -d '()'
    grep -h "$sw1: .*XDP mode will be in use" "$tmp"/ovs/log/ovs-vswitchd.log \
        | tail -1 | sed "s/.*|$sw1: /INFO $1 ovs wbs1: /"
    return 0
}

# ovs_fwd TYPE LABEL NFLOWS: fwd_ovs_TYPE_LABEL_pps; sets
# ovs_TYPE_LABEL.  TYPE afpacket is OVS's "system" interface type.
ovs_fwd() {
    local type=$1 name=${1}_$2 nflows=$3 n
    [ -n "$ovs_up" ] || return 0
    ovs_bridge "$([ "$type" = afxdp ] && echo afxdp)" || return 0
    if [ "$nflows" = 1 ]; then
        ovs-ofctl add-flow "$br" in_port=1,actions=output:2
    else
        for ((n = 1024; n < 1024 + nflows; n++)); do
            echo "udp,in_port=1,tp_src=$n,actions=output:2"
        done >"$tmp/flows.txt"
        ovs-ofctl add-flows "$br" "$tmp/flows.txt"
    fi
    sleep 1
    warm_hook=ovs_warm
    if pps "fwd_ovs_$name" h1 h2 "$nflows"; then
        echo "BENCH fwd_ovs_${name}_pps $rate pps"
        eval "ovs_$name=$rate"
        cat "$tmp/last"
        ovs_info "fwd_ovs_$name"
        xdp_attach "fwd_ovs_$name"
    fi
    warm_hook=
    ovs-vsctl --timeout=10 --if-exists del-br "$br"
}

# ---- the run ---------------------------------------------------------------

if ! hosts_up; then
    info "bench-fwd: could not create the namespaces; skipped"
    exit 0
fi
info "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -x "$dp_shell" ] || info "bench-fwd: no $dp_shell: weir not measured"

if want fwd_ceiling && pps fwd_ceiling c1 c2 1; then
    echo "BENCH fwd_ceiling_pps $rate pps"
    cat "$tmp/last"
fi

# Each case through weir and then at once through OVS, so that the ratio
# compares figures taken seconds apart.
ovs_wanted=
for c in fwd_ovs_{afpacket,afxdp}_{1flow,10kflow}; do
    want $c && ovs_wanted=1
done
[ -n "$ovs_wanted" ] && ovs_start
for type in afpacket afxdp; do
    opts=FWD_${type^^}_OPTIONS
    for label in 1flow 10kflow; do
        nflows=1
        [ $label = 10kflow ] && nflows=10000
        want "fwd_${type}_$label" \
            && weir_fwd $type "${!opts:--}" $label $nflows
        want "fwd_ovs_${type}_$label" && ovs_fwd $type $label $nflows
        w=weir_${type}_$label
        o=ovs_${type}_$label
        if [ -n "${!w:-}" ] && [ -n "${!o:-}" ] && [ "${!o}" -gt 0 ]; then
            echo "BENCH fwd_${type}_${label}_vs_ovs" \
                 "$(awk "BEGIN { printf \"%.2f\", ${!w} / ${!o} }") x"
        fi
    done
done
ovs_stop

[ -x "$dp_shell" ] && weir_upcall

if want fwd_ceiling && pps fwd_ceiling c1 c2 1; then
    info "fwd_ceiling again at the end: $rate pps"
fi
info "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
exit 0

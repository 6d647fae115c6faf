#!/usr/bin/env bash
# Runs the benchmarks on the release build in build/.  Each figure is one
# line "BENCH <name> <value> <unit>".  usage: bench.sh [NAME]
# Names: extract (extract_mpps, extract_instr_per_pkt,
# extract_cli_speedup_vs_ovs_ofctl), codec (codec_key_*), dp
# (dp_1flow_mpps, dp_1k_1mask_mpps, dp_100k_20mask_mpps,
# dp_100k_20mask_nocache_mpps, dp_insert_per_s, dp_dump_full_per_s,
# dp_dump_terse_per_s), fwd (scripts/bench-fwd.sh: fwd_ceiling_pps,
# fwd_{afpacket,afxdp}_{1flow,10kflow}_pps, upcall_per_s and the same
# through Open vSwitch, with ratios; needs root), nl (tests/bench/bench-nl:
# nl_put_per_s, nl_put_batched_per_s, nl_dump_{full,terse}_{10k,100k,1M}_per_s
# over weird's control socket).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
only=${1:-}
work=build/bench-data
mkdir -p $work

want() { [ -z "$only" ] || [ "$only" = "$1" ]; }

if want extract; then
    pcap=$work/mix.pcap
    [ -f $pcap ] || /usr/bin/python3 tests/bench/gen-mix.py $pcap 4096
    build/tests/bench/bench-extract $pcap 500
    # Instructions per packet, from callgrind: the difference between two
    # runs cancels the cost of loading the pcap.
    count() {
        valgrind --tool=callgrind --callgrind-out-file=/dev/null \
            build/tests/bench/bench-extract $pcap "$1" 2>&1 >/dev/null \
            | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
    }
    n=4096      # Packets in mix.pcap, as generated above.
    i1=$(count 1)
    i2=$(count 11)
    echo "BENCH extract_instr_per_pkt $(( (i2 - i1) / (10 * n) )) instr/pkt"

    # Side by side with Open vSwitch 3.1 (Debian's package): the same
    # capture through 'ovs-ofctl parse-pcap' and 'weir flow extract', both
    # parsing and printing every packet.  Best of 5 runs each, one run of
    # this script; the ratio is OVS time / weir time (above 1: weir faster).
    big=$work/mix40k.pcap
    [ -f $big ] || /usr/bin/python3 tests/bench/gen-mix.py $big 40000
    best() {
        local best=999999999999 t0 t1
        for _ in 1 2 3 4 5; do
            t0=$(date +%s%N)
            "$@" $big >/dev/null
            t1=$(date +%s%N)
            [ $((t1 - t0)) -lt $best ] && best=$((t1 - t0))
        done
        echo $best
    }
    if command -v ovs-ofctl >/dev/null; then
        t_weir=$(best build/src/tools/weir flow extract)
        t_ovs=$(best ovs-ofctl parse-pcap)
        echo "BENCH extract_cli_speedup_vs_ovs_ofctl" \
             "$(awk "BEGIN { printf \"%.2f\", $t_ovs / $t_weir }")" x
    fi
fi

if want codec; then
    pcap=$work/mix.pcap
    [ -f $pcap ] || /usr/bin/python3 tests/bench/gen-mix.py $pcap 4096
    build/tests/bench/bench-codec $pcap 200
fi

if want dp; then
    # Prints its own BENCH lines; the argument is seconds per case.
    build/tests/bench/bench-dp 2
fi

if want nl; then
    # Flow installs and dumps over the control socket, against a weird
    # process the benchmark starts (and stops) itself.
    build/tests/bench/bench-nl build/src/daemon/weird
fi

if want fwd; then
    # Real forwarding between network namespaces, beside Open vSwitch;
    # prints its own BENCH lines (and INFO lines for what it skips).
    bash scripts/bench-fwd.sh build
fi

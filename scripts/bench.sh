#!/usr/bin/env bash
# Runs the benchmarks on the release build in build/.  Each figure is one
# line "BENCH <name> <value> <unit>".  usage: bench.sh [NAME]
# Names: extract (extract_mpps, extract_instr_per_pkt).
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
fi

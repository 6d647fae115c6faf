#!/usr/bin/env bash
# The demo: until the datapath forwards traffic, show the flow-key extractor
# at work.  Generates a sample capture with many protocols (the same corpus
# the system tests use) and prints, for each packet, the exact datapath flow
# key that 'weir flow extract' finds, in ovs-dpctl syntax.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
work=build/demo
mkdir -p $work
/usr/bin/python3 tests/data/gen-pcaps.py $work >/dev/null
echo "== weir flow extract $work/corpus.pcap --in-port 1"
paste -d '\n' <(sed 's/^/# /' $work/cases.txt) \
    <(build/src/tools/weir flow extract $work/corpus.pcap --in-port 1)

#!/usr/bin/env bash
# The demo: weir forwards real traffic between two network namespaces
# (scripts/demo.py tells the story), then shows the flow-key extractor on
# a generated multi-protocol capture.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
WEIR_BUILD=$top/build /usr/bin/python3 scripts/demo.py
work=build/demo
mkdir -p $work
/usr/bin/python3 tests/data/gen-pcaps.py $work >/dev/null
echo
echo "== weir flow extract $work/corpus.pcap --in-port 1 (first 12 packets)"
head -24 <(paste -d '\n' <(sed 's/^/# /' $work/cases.txt) \
    <(build/src/tools/weir flow extract $work/corpus.pcap --in-port 1 \
      2>/dev/null))

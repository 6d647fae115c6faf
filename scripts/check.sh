#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds with ASan+UBSan,
# runs the cmocka unit tests and fuzz-corpus replays (meson test), the
# threaded unit tests again under ThreadSanitizer, the pytest system
# tests, and a short smoke run of every libFuzzer target, checks that the
# release build compiles, runs the passing set of Open vSwitch's kernel
# system tests against it (scripts/ovs-kmod-tests.py), then prints one
# closing line
# "N passed, N failed, N skipped" (via
# tests/summarize.py).  Exit status 0 only if nothing failed.
#
# Environment: FUZZ_RUNS (executions per fuzz target, default 200000; each
# target also stops after 300 seconds).  The smoke run uses a fixed seed so
# that it is repeatable: a finding on CI reproduces with the same command.
# Longer campaigns: raise FUZZ_RUNS, or run build-fuzz/tests/fuzz/fuzz-*
# by hand with libFuzzer's own options.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash scripts/install-deps.sh || exit 1

asan=build-asan
tsan=build-tsan
fuzz=build-fuzz
results=$asan/results
fuzz_runs=${FUZZ_RUNS:-200000}

if [ ! -f $asan/build.ninja ]; then
    meson setup $asan -Db_sanitize=address,undefined -Db_lundef=false \
        >$asan.setup.log 2>&1 \
        || { tail -20 $asan.setup.log; echo "0 passed, 1 failed"; exit 1; }
fi
ninja -C $asan || { echo "0 passed, 1 failed"; exit 1; }
rm -rf $results && mkdir -p $results

# 1. Unit tests and corpus replays, one process each, under sanitizers.
meson test -C $asan --num-processes 2 --print-errorlogs \
    --suite unit --suite fuzz-replay
cp $asan/meson-logs/testlog.json $results/meson.json

# 1b. ThreadSanitizer: the unit tests that run threads, listed in
#     tests/unit/meson.build, which in a TSan build registers only those,
#     as the suite 'tsan' (TSAN_OPTIONS and the suppressions are set
#     there).  The runs go under 'setarch -R' (no address randomisation)
#     where the kernel allows it: the TSan runtimes of GCC 12 and clang 14
#     can abort ("unexpected memory mapping") on kernels that randomise mmap
#     with 32 bits (vm.mmap_rnd_bits); Debian's default of 28 works either
#     way.  No results file (a failed build) counts as a failure in
#     summarize.py.
if [ ! -f $tsan/build.ninja ]; then
    meson setup $tsan -Db_sanitize=thread -Db_lundef=false \
        >$tsan.setup.log 2>&1 || tail -20 $tsan.setup.log
fi
norand=()
setarch "$(uname -m)" -R true 2>/dev/null && norand=(setarch "$(uname -m)" -R)
rm -f $tsan/meson-logs/testlog.json
if [ -f $tsan/build.ninja ]; then
    "${norand[@]}" meson test -C $tsan --num-processes 2 --print-errorlogs \
        --suite tsan
    [ -f $tsan/meson-logs/testlog.json ] \
        && cp $tsan/meson-logs/testlog.json $results/meson-tsan.json
fi

# 2. System tests: the CLI against real peers (ovs-ofctl, odp.at goldens),
#    and the action executor against scapy-made golden packets (the
#    runner is $WEIR_BUILD/tests/unit/dpx-golden).
WEIR_BIN=$top/$asan/src/tools/weir WEIR_BUILD=$top/$asan WEIR_REQUIRE_PEERS=1 \
    /usr/bin/python3 -m pytest tests/system -q -rs \
    --junitxml=$results/pytest.xml -p no:cacheprovider

# 3. Fuzz smoke: every libFuzzer target, a fixed number of runs.  The
#    clang build also compiles everything else, so clang's warnings (and
#    -Wthread-safety) are errors too.
if [ ! -f $fuzz/build.ninja ]; then
    CC=clang meson setup $fuzz -Dfuzz=true \
        -Db_sanitize=address,undefined -Db_lundef=false \
        >$fuzz.setup.log 2>&1 || tail -20 $fuzz.setup.log
fi
: > $results/fuzz.txt
if ninja -C $fuzz >/dev/null; then
    for f in $fuzz/tests/fuzz/fuzz-*; do
        [ -f "$f" ] && [ -x "$f" ] || continue
        name=${f##*/fuzz-}
        corpus=$(mktemp -d)
        seeds=tests/fuzz/corpus/$name
        [ -d "$seeds" ] || seeds=
        if "$f" -runs="$fuzz_runs" -seed=1 -max_total_time=300 \
                -print_final_stats=1 \
                -artifact_prefix="$results/crash-$name-" \
                "$corpus" $seeds >"$results/fuzz-$name.log" 2>&1; then
            runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' \
                   "$results/fuzz-$name.log" | grep -o '[0-9]*$')
            echo "pass fuzz-$name ${runs:-?} runs" | tee -a $results/fuzz.txt
        else
            echo "fail fuzz-$name (see $results/fuzz-$name.log)" \
                | tee -a $results/fuzz.txt
            tail -n 30 "$results/fuzz-$name.log"
        fi
        rm -rf "$corpus"
    done
else
    echo "fail fuzz-build" >> $results/fuzz.txt
fi

# 4. The release build (-O3, what 'make demo' and 'make bench' use) must
#    compile too: optimization finds warnings the other builds do not.
if [ ! -f build/build.ninja ]; then
    meson setup build --buildtype=release >build.setup.log 2>&1 \
        || tail -20 build.setup.log
fi
if ninja -C build >$results/release-build.log 2>&1; then
    echo "pass release-build" > $results/builds.txt
else
    echo "fail release-build" > $results/builds.txt
    grep -E "error|warning" $results/release-build.log | head -20
fi

# 5. Open vSwitch 3.1's own kernel-datapath system tests
#    (tests/system-kmod-testsuite of openvswitch-source), run with Debian's
#    unmodified ovs-vswitchd and tools through the LD_PRELOAD shim against
#    the release build's weird: the tests of tests/ovs-kmod/passing.txt,
#    every one of which must pass (docs/design/ovs-kmod-suite.md; the
#    whole suite: run the script without --list).  Serial, one test at a
#    time: the tests use fixed namespace and device names.  No results
#    file (a failed release build) counts as a failure in summarize.py.
rm -f $results/ovs-kmod.json
if [ -x build/src/daemon/weird ]; then
    /usr/bin/python3 scripts/ovs-kmod-tests.py --build build \
        --workdir build-ovs-kmod --list tests/ovs-kmod/passing.txt \
        --expect-pass tests/ovs-kmod/passing.txt \
        --table $results/ovs-kmod.md --json $results/ovs-kmod.json -q
fi

/usr/bin/python3 tests/summarize.py $results

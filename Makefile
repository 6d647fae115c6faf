# Thin wrapper over Meson.  Every target but format and clean installs
# what it needs first (scripts/install-deps.sh).
#   make            release build in build/
#   make check      the whole test suite (ASan+UBSan, system tests, fuzz)
#   make demo       the main job: forwarding between network namespaces
#   make bench      benchmarks (ONLY=extract|codec|dp|fwd for one); "BENCH ..."
#   make format     clang-format the C sources in place (needs the
#                   clang-format package, which install-deps.sh omits)
#   make clean      remove build/, build-asan/, build-tsan/, build-fuzz/
#                   and their setup logs

.PHONY: all build check demo bench format clean

all: build

build:
	@bash scripts/install-deps.sh
	@[ -f build/build.ninja ] || meson setup build --buildtype=release
	@ninja -C build

check:
	@bash scripts/check.sh

demo: build
	@bash scripts/demo.sh

bench: build
	@bash scripts/bench.sh $(ONLY)

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf build build-asan build-tsan build-fuzz *.setup.log

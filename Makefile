# Thin wrapper over Meson.  Every target installs what it needs first.
#   make            release build in build/
#   make check      the whole test suite (ASan+UBSan, system tests, fuzz)
#   make demo       the main job, on real data
#   make bench      benchmarks (ONLY=<name> for one); lines "BENCH ..."
#   make format     clang-format the C sources in place

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
	rm -rf build build-asan build-fuzz

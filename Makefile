# The two commands of the README, and a few more. Everything builds in build/
# with Ninja (-j2: CI machines have 2 cores); `make test` is what CI runs.
BUILD       ?= build
JOBS        ?= 2
CMAKE_FLAGS ?=
FUZZ_BUILD  ?= build-fuzz
FUZZ_SECONDS ?= 60
CONFIG      ?= examples/nameserver.toml

.PHONY: all deps configure build test run bench fuzz format clean help

all: build

help:
	@echo "make run      install dependencies, build, start capchan-server with $(CONFIG)"
	@echo "make test     install dependencies, build, run every test"
	@echo "make bench    run the benchmarks (each with its in-run baseline)"
	@echo "make fuzz     build the libFuzzer targets with clang and run each for FUZZ_SECONDS"
	@echo "make format   clang-format the sources"

deps:
	@scripts/install-deps

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

configure: $(BUILD)/build.ninja

build: deps configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

run: build
	@if [ -x $(BUILD)/bin/capchan-server ]; then \
	  exec $(BUILD)/bin/capchan-server --config $(CONFIG); \
	else \
	  echo "capchan-server is not built yet: it arrives with the secure-channels work (issue 4)."; \
	  echo "What works today: $(BUILD)/bin/capchan term encode '{lookup, joe}'  and  $(BUILD)/bin/capchan term decode <hex>"; \
	  exit 1; \
	fi

# capchan-bench: scenarios a-g against raw TCP, plain WebSocket and Redis
# baselines in one run (table on stdout, bench/results/DATE.json and the
# latency PNG); `make bench BENCH_ARGS="--scenario a"` runs one. etf_bench
# (the term codec against erl) is `$(BUILD)/bin/etf_bench`.
BENCH_ARGS ?=
bench: deps configure
	cmake --build $(BUILD) -j $(JOBS) --target capchan-bench capchan-server
	$(BUILD)/bin/capchan-bench $(BENCH_ARGS)

fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCAPCHAN_FUZZ=ON \
	  -DCAPCHAN_TESTS=OFF -DCAPCHAN_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@for t in etf_decode text_parse; do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t && cp -n fuzz/corpus/$$t/* $(FUZZ_BUILD)/corpus/$$t/ 2>/dev/null; \
	  echo "fuzzing $$t for $(FUZZ_SECONDS)s"; \
	  $(FUZZ_BUILD)/bin/$${t}_fuzz -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    $(FUZZ_BUILD)/corpus/$$t fuzz/corpus/$$t 2>&1 | grep -E 'stat::number_of_executed_units|ERROR|SUMMARY' || true; \
	done

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD)

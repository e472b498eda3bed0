# rovd build, test and benchmark entry points. `make` builds both
# binaries; `make test` is what CI runs (see README.md).

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X github.com/rovd/rovd/appliance/cli.version=0.1.0-dev+$(VERSION)
BUILD     := CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)"
FUZZTIME  ?= 3m
DEMO_DIR  ?= demo
BENCH_DIR ?= bench-world

.PHONY: all build test vet fmt-check check-imports fuzz fuzz-short bench bench-world demo clean deb rpm nfpm bpf

all: build

build: rovd rovd-bench

# Both binaries are static: CGO_ENABLED=0, no libc, -trimpath for
# reproducible paths, the version stamped in.
rovd: FORCE
	$(BUILD) -o rovd ./cmd/rovd

rovd-bench: FORCE
	$(BUILD) -o rovd-bench ./bench/cmd/rovd-bench

FORCE:

# The full check CI runs: formatting, vet, import rules, the race-enabled
# tests and a few seconds of every fuzz target.
test: fmt-check vet check-imports
	$(GO) test -race -count=1 ./...
	$(MAKE) --no-print-directory fuzz-short

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

check-imports:
	@.ci/check-imports

# Regenerates the eBPF objects of appliance/sockstat from bpf/sockstat.c
# with bpf2go at the cilium/ebpf version of go.mod. Needs clang,
# llvm-strip and libbpf-dev (apt-get install clang llvm libbpf-dev); the
# objects are committed, so building and testing rovd never do.
bpf:
	cd appliance/sockstat && BPF_INCLUDE=/usr/include/$$(clang -print-multiarch) $(GO) generate ./

# Every fuzz target for FUZZTIME (default 3m); new crashers land in
# testdata/fuzz/ and must be committed as regression inputs. Each new
# input is minimized for at most 5 s: the default minute per input let
# the targets that check signatures spend nearly all their time there.
#
# Go 1.26's fuzz coordinator can end a duration-bounded run with a bare
# "context deadline exceeded" and no failing input (go.dev/issue/75804,
# fixed in Go 1.27): such a run is reported and counted as passed; a
# real failure always writes its input under testdata/fuzz/.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$t ($${pkg#github.com/rovd/rovd/}) for $(FUZZTIME)"; \
	    out=$$($(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg 2>&1); st=$$?; \
	    echo "$$out"; \
	    if [ $$st -ne 0 ]; then \
	      if echo "$$out" | grep -q 'context deadline exceeded' && ! echo "$$out" | grep -q 'Failing input written'; then \
	        echo "== $$t: ended by the coordinator's deadline race (go.dev/issue/75804), no failing input: passed"; \
	      else exit 1; fi; \
	    fi; \
	  done; \
	done

fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=3s

# Micro-benchmarks with allocation counts; compare runs with benchstat.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=$${COUNT:-1} ./...

# rovd beside rpki-client and FORT on the world preset (about 600,000
# VRPs), every stage, into BENCH_DIR: report.md, report.json and plots.
# An interrupted run resumes; BENCH_ARGS adds options, e.g.
# BENCH_ARGS="--scale 1/8,1/4,1/2,1" for the scaling plots.
bench-world: build
	./rovd-bench run --preset world --rovd ./rovd -o $(BENCH_DIR) $(BENCH_ARGS)

# The main job on an embedded default: generate a small RPKI world from
# the committed test keys, inspect what it contains, serve it on loopback
# (127.0.0.1:8443 and :8873), fetch it into a store, validate it with
# rovd vrps, and end with rovd server on it: RTR on DEMO_RTR, the HTTP
# service on DEMO_HTTP with the status page at /ui, a run every
# DEMO_REFRESH seconds, until Ctrl-C, which also stops the world's
# servers. Set DEMO_HTTP or DEMO_RTR if those ports are taken.
DEMO_HTTP    ?= 127.0.0.1:8323
DEMO_RTR     ?= 127.0.0.1:3323
DEMO_REFRESH ?= 60

demo: build
	./rovd-bench world --preset small -o $(DEMO_DIR)/world
	@echo
	@echo "== a TAL, its trust anchor certificate, and one publication point's manifest and ROA"
	@tal=$$(ls $(DEMO_DIR)/world/tals/*.tal | head -1); \
	 ta=$(DEMO_DIR)/world/ta/$$(basename $$tal .tal).cer; \
	 mft=$$(find $(DEMO_DIR)/world/rsync -name '*.mft' | sort | head -1); \
	 roa=$$(find $$(dirname $$mft) -name '*.roa' | sort | head -1); \
	 ./rovd inspect $$tal $$ta $$mft $$roa || true
	@echo "== every object of the world (full report in $(DEMO_DIR)/inspect.txt)"
	@find $(DEMO_DIR)/world/rsync -type f | sort | xargs ./rovd inspect > $(DEMO_DIR)/inspect.txt || true
	@printf '%s objects: %s OK, %s with problems, %s not decoded\n' \
	  $$(grep -c '^File:' $(DEMO_DIR)/inspect.txt) \
	  $$(grep -c '^Status: OK' $(DEMO_DIR)/inspect.txt) \
	  $$(grep -c '^Status: [0-9]* problem' $(DEMO_DIR)/inspect.txt) \
	  $$(grep -c '^Status: not decoded' $(DEMO_DIR)/inspect.txt)
	@echo "== the world served over HTTPS RRDP and rsync on loopback, fetched into a new store"
	./rovd-bench fetch --store $(DEMO_DIR)/store $(DEMO_DIR)/world
	./rovd-bench fetch --rsync --store $(DEMO_DIR)/store-rsync $(DEMO_DIR)/world
	@echo "== rovd vrps: fetch the served world, validate it, and summarise the VRPs"
	@# The world's servers run in the background until this shell exits.
	@# Ctrl-C reaches rovd server, which stops gracefully; the INT trap then
	@# exits the shell, whose EXIT trap stops the world's servers.
	@rm -rf $(DEMO_DIR)/repository; \
	 ./rovd-bench serve $(DEMO_DIR)/world > $(DEMO_DIR)/serve.log 2>&1 & pid=$$!; \
	 trap "kill $$pid 2>/dev/null; wait $$pid" EXIT; trap "exit 130" INT TERM; \
	 for i in $$(seq 100); do grep -q '^serving' $(DEMO_DIR)/serve.log && break; sleep 0.1; done; \
	 ./rovd -r $(DEMO_DIR)/repository -t $(DEMO_DIR)/world/tals --allow-dubious-hosts \
	   --rrdp-root-cert $(DEMO_DIR)/world/serve/ca.pem -q vrps -f summary && \
	 ./rovd -r $(DEMO_DIR)/repository -t $(DEMO_DIR)/world/tals -q vrps -n -f csv -o $(DEMO_DIR)/vrps.csv && \
	 tail -n +2 $(DEMO_DIR)/vrps.csv | sort > $(DEMO_DIR)/vrps.sorted && \
	 tail -n +2 $(DEMO_DIR)/world/truth/vrps.csv | sort | cmp -s - $(DEMO_DIR)/vrps.sorted && \
	 echo "$$(wc -l < $(DEMO_DIR)/vrps.sorted) VRPs in $(DEMO_DIR)/vrps.csv, exactly the world's ground truth" && \
	 echo "(the world has deliberate faults, see $(DEMO_DIR)/world/truth/faults.json; rovd -v vrps shows" && \
	 echo " the warnings they cause)" && \
	 echo && \
	 echo "== rovd server on the served world: a validation run every $(DEMO_REFRESH) s, RTR on $(DEMO_RTR)" && \
	 echo "   status page:  http://$(DEMO_HTTP)/ui" && \
	 echo "   also /status, /metrics, /json, ... on http://$(DEMO_HTTP)/; kill -USR1 $$pid changes 1% of the world" && \
	 echo "   Ctrl-C stops rovd server and the world's servers" && \
	 ./rovd -r $(DEMO_DIR)/repository -t $(DEMO_DIR)/world/tals --allow-dubious-hosts \
	   --rrdp-root-cert $(DEMO_DIR)/world/serve/ca.pem --enable-aspa --enable-bgpsec -q \
	   server --refresh $(DEMO_REFRESH) --http $(DEMO_HTTP) --rtr $(DEMO_RTR)

# The .deb and .rpm of packaging/ (see packaging/README.md), built into
# DIST from the static rovd by nfpm at a pinned version, installed into
# ./bin from the Go module proxy. v2.45.2 is the newest release whose
# dependencies all come from hosts our module proxy serves: 2.46 and
# later need modules from go.digitalxero.dev.
DIST         ?= dist
NFPM_VERSION := v2.45.2
NFPM         := $(CURDIR)/bin/nfpm

deb rpm: rovd nfpm
	NFPM=$(NFPM) GOARCH=$$($(GO) env GOARCH) packaging/build.sh $@ ./rovd $(DIST)

# Installs nfpm unless bin/nfpm is already the pinned version.
nfpm:
	@$(GO) version -m $(NFPM) 2>/dev/null | grep -q "mod[[:space:]]*github.com/goreleaser/nfpm/v2[[:space:]]*$(NFPM_VERSION)[[:space:]]" || \
	  { echo "installing nfpm $(NFPM_VERSION) into bin/"; GOBIN=$(CURDIR)/bin $(GO) install github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION); }

clean:
	rm -rf rovd rovd-bench $(DEMO_DIR) $(DIST)

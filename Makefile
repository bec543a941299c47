# The podman v4 bindings build only with these tags (CGO off works). They are
# set once, here, through GOFLAGS, so every build, test, vet, fuzz and bench
# run through this Makefile uses them. By hand: export GOFLAGS="$$(make -s goflags)".
export GOFLAGS := -tags=remote,exclude_graphdriver_btrfs,btrfs_noversion,exclude_graphdriver_devicemapper,containers_image_openpgp
export CGO_ENABLED := 0

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN := bin/broker
# engine tests must run, never skip, under `make check`
ENGINES = eval "$$(scripts/test-engines up)" && scripts/test-engines images

.PHONY: build test check vet fmt fuzz bench bench-scenario demo engines goflags clean

build:
	go build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/broker

# The whole suite on a fresh Debian machine (root): installs and starts the
# engines and test images it needs, then vets and tests everything. This is
# what .ci/run runs.
check:
	$(ENGINES) && BROKER_TEST_REQUIRE_ENGINES=1 $(MAKE) --no-print-directory vet test

# Tests only (engine tests skip, with a message, when the engines are not set up).
test:
	go test -count=1 -timeout 30m ./...

vet:
	@test -z "$$(gofmt -l .)" || { echo "not gofmt-formatted:"; gofmt -l .; exit 1; }
	go vet ./...

fmt:
	gofmt -w .

# Each fuzz target for a short while (FUZZTIME=1m for longer).
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$(go list ./...); do \
	  for f in $$(go test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; go test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# Benchmarks: Go benchmarks plus the whole-process comparisons in bench/.
bench: build
	$(ENGINES) && bench/run

# The scenario figure: 5 command steps on 10 containers, broker against
# ansible-playbook, on each engine (a few minutes).
bench-scenario: build
	$(ENGINES) && RUNTIME=docker bench/scenario-vs-ansible && RUNTIME=podman bench/scenario-vs-ansible

# Sets up what is missing (engines, test image), builds broker and runs its
# main job once: check out a container, run a command in it, list, check in.
demo: build
	$(ENGINES) && scripts/demo

engines:
	@$(ENGINES) >/dev/null

goflags:
	@echo '$(GOFLAGS)'

clean:
	rm -rf bin

# Popcorn toolchain — top-level build.
#
#   make            build the tools, the runtime and the portable C library (musl compiled by
#                   popcorn-cc, scripts/build-libc.sh), staged relocatably in build/ (bin/, lib/popcorn/,
#                   share/man/man1/: manual pages generated from each tool's --help)
#   make demo       build an example for both ISAs and run it on both
#   make test       the whole test suite (what CI runs)
#   make bench      compile/link/size/run-time ratios against plain clang-19/ld.lld-19
#   make install PREFIX=/opt/popcorn
#
# Every entry point first installs missing system packages (scripts/setup.sh, idempotent).

SHELL       := /bin/bash
PREFIX      ?= /usr/local
SWIFT       ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
STAGE       := $(CURDIR)/build
SWIFT_FLAGS := -c release --static-swift-stdlib
TOOLS       := popcorn-cc popcorn-ld popcorn-dump
MANDIR      := share/man/man1
DEMO        ?= nbody

.PHONY: all deps tools runtime stage install uninstall demo test unit-tests runtime-check bench clean

all: stage

deps:
	@scripts/setup.sh

tools: deps
	$(SWIFT) build $(SWIFT_FLAGS)

runtime: deps
	$(MAKE) -C Toolchain OUT=$(STAGE)/lib/popcorn

stage: tools runtime
	@mkdir -p $(STAGE)/bin
	@bin=$$($(SWIFT) build $(SWIFT_FLAGS) --show-bin-path) && \
	  for t in $(TOOLS); do install -m 0755 $$bin/$$t $(STAGE)/bin/$$t.tmp && mv -f $(STAGE)/bin/$$t.tmp $(STAGE)/bin/$$t || exit 1; done && \
	  $$bin/popcorn-man $(STAGE)/$(MANDIR)
	@scripts/build-libc.sh $(STAGE)
	@echo "staged in $(STAGE)"

install: stage
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/popcorn $(DESTDIR)$(PREFIX)/$(MANDIR)
	for t in $(TOOLS); do install -m 0755 $(STAGE)/bin/$$t $(DESTDIR)$(PREFIX)/bin/$$t; done
	for t in $(TOOLS); do install -m 0644 $(STAGE)/$(MANDIR)/$$t.1 $(DESTDIR)$(PREFIX)/$(MANDIR)/$$t.1; done
	cp -R $(STAGE)/lib/popcorn/. $(DESTDIR)$(PREFIX)/lib/popcorn/

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,$(TOOLS))
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/$(MANDIR)/,$(addsuffix .1,$(TOOLS)))
	rm -rf $(DESTDIR)$(PREFIX)/lib/popcorn

demo: stage
	@scripts/demo.sh $(DEMO)

runtime-check: deps
	$(MAKE) -C Toolchain check

unit-tests: stage
	$(SWIFT) test

test: stage runtime-check
	$(SWIFT) test

bench: stage
	@scripts/bench.sh

clean:
	rm -rf $(STAGE) .build
	$(MAKE) -C Toolchain clean OUT=$(STAGE)/lib/popcorn
	for d in Examples/*/; do $(MAKE) -C $$d clean; done

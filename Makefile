# aicensus - build, test, install.  `make deps` installs what Debian 12
# needs to build and run, `make test-deps` what the tests need on top;
# `make test` runs the whole suite, `make deb` builds the Debian package.

PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
BINDIR	?= $(PREFIX)/bin
LIBDIR	?= $(PREFIX)/lib
SYSCONFDIR ?= /etc
MANDIR	?= $(PREFIX)/share/man
UNITDIR	?= /lib/systemd/system
GENERATORDIR ?= /lib/systemd/system-generators
SYSUSERSDIR ?= /usr/lib/sysusers.d
TMPFILESDIR ?= /usr/lib/tmpfiles.d
PLUGINDIR ?= $(LIBDIR)/aicensus/plugins
DESTDIR	?=
VERSION	:= 0.1.0

CC	?= cc
PKGS	:= libpcap libevent sqlite3 libconfig libcrypto libsystemd jansson libpq
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ldl -lm

# Warnings are errors: a warning today is a bug report tomorrow.
WARN	:= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2
# Hardening: stack canaries, checked libc calls, full RELRO, PIE.
HARDEN	:= -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
HARDEN_LD := -Wl,-z,relro,-z,now -pie
OPT	?= -O2 -g
SANITIZE ?=
ifneq ($(SANITIZE),)
  OPT	:= -O1 -g -fno-omit-frame-pointer
  SAN	:= -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
  HARDEN := -fPIE
endif
# VALGRIND=1: a plain build in build-vg/ whose suite runs every program
# under memcheck (tests/valgrind/); -O1 keeps its reports readable.
VALGRIND ?=
ifneq ($(VALGRIND),)
  ifneq ($(SANITIZE),)
    $(error SANITIZE and VALGRIND do not mix: one or the other)
  endif
  OPT	:= -O1 -g
endif
WEBDIR	?= $(PREFIX)/share/aicensus/web
CPPFLAGS += -D_DEFAULT_SOURCE -D_GNU_SOURCE -DAIC_VERSION='"$(VERSION)"' \
	    -DAIC_WEBDIR='"$(WEBDIR)"' \
	    -DAIC_PLUGINDIR='"$(PLUGINDIR)"' -DAIC_SYSCONFDIR='"$(SYSCONFDIR)"' \
	    -Idaemon -Iplugins -Itests/unit
CFLAGS	+= -std=c11 $(WARN) $(OPT) $(HARDEN) $(SAN) $(PKG_CFLAGS)
LDFLAGS	+= $(HARDEN_LD) $(SAN)

BUILD	:= build$(if $(SANITIZE),-san)$(if $(VALGRIND),-vg)

# daemon/ has one folder per stage of the flow (README, "Layout");
# everything in them is the library, the two programs' mains sit on top.
STAGES	:= common capture decode proto detect attribute aggregate store \
	   release out out/report out/api
CORE_SRC := $(foreach d,$(STAGES),$(wildcard daemon/$(d)/*.c))
CORE_HDR := $(foreach d,$(STAGES),$(wildcard daemon/$(d)/*.h)) $(wildcard plugins/*.h)
CORE_OBJ := $(CORE_SRC:daemon/%.c=$(BUILD)/%.o)
PLUGINS	:= $(patsubst plugins/%.c,$(BUILD)/plugins/%.so,$(wildcard plugins/*.c))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

all: $(BUILD)/aicensusd $(BUILD)/aicensus $(PLUGINS)

$(BUILD)/%.o: daemon/%.c $(CORE_HDR) | $(BUILD)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/libaicensus.a: $(CORE_OBJ)
	@ar rcs $@ $^

$(BUILD)/aicensusd: $(BUILD)/aicensusd.o $(BUILD)/libaicensus.a
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -rdynamic $^ $(PKG_LIBS) -o $@

$(BUILD)/aicensus: $(BUILD)/aicensus.o $(BUILD)/libaicensus.a
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) $^ $(PKG_LIBS) -o $@

$(BUILD)/plugins/%.so: plugins/%.c plugins/aicensus_plugin.h | $(BUILD)
	@mkdir -p $(BUILD)/plugins
	@echo "  PLUGIN  $@"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -shared -Wl,-z,relro,-z,now $< $(PKG_LIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libaicensus.a $(wildcard tests/unit/*.h)
	@mkdir -p $(BUILD)/tests
	@echo "  TEST    $@"
	@$(CC) $(CPPFLAGS) $(CFLAGS) $< $(BUILD)/libaicensus.a $(LDFLAGS) $(PKG_LIBS) -lm -o $@

$(BUILD):
	@mkdir -p $(BUILD)

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libaicensus.a
	@mkdir -p $(BUILD)/tools
	@echo "  TOOL    $@"
	@$(CC) $(CPPFLAGS) $(CFLAGS) $< $(BUILD)/libaicensus.a $(LDFLAGS) $(PKG_LIBS) -o $@

TOOLS	:= $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(wildcard tests/tools/*.c))

unit: $(UNIT_BIN) $(TOOLS)

# The include graph: no arrow to a later stage, no circle (tests/tools/layers.py).
layers:
	@/usr/bin/python3 tests/tools/layers.py

# The whole suite: unit tests, then the end-to-end scripts; with
# VALGRIND=1 every program of it under memcheck; with TEST_FUZZ=N also
# every fuzz target N seconds; TEST_JOBS=N runs N parts at once (output
# and totals as one at a time; scripts marked "# test: alone" run by
# themselves); see tests/run.sh.  TEST_PLAIN_ONLY: scripts that build
# and install what they test from the source tree and apt (the package,
# a fresh `make deps`/`make test-deps`), never from $(BUILD): a
# sanitizer or valgrind build would repeat them to test nothing more, so
# there they are left out with one "# name: plain stage only" line.
TEST_FUZZ ?=
TEST_JOBS ?= 1
TEST_PLAIN_ONLY := deps deb
test: all unit
	@BUILD=$(BUILD) VALGRIND=$(VALGRIND) TEST_FUZZ=$(TEST_FUZZ) \
	    TEST_JOBS=$(TEST_JOBS) \
	    TEST_SKIP="$(if $(SANITIZE)$(VALGRIND),$(TEST_PLAIN_ONLY))" sh tests/run.sh

# What CI runs: the suite, the suite again under ASan and UBSan followed
# by the fuzz stage, then the suite under valgrind, two parts at a time
# (memcheck runs a process on one core; the machine has two).  Every
# stage runs even when one before failed; the last line sums them all.
CHECK_STAGES := plain sanitized valgrind
check_args_plain =
check_args_sanitized = SANITIZE=address,undefined TEST_FUZZ=$(FUZZ_SECONDS)
check_args_valgrind = VALGRIND=1 TEST_JOBS=2
check:
	@t=$$(mktemp); trap 'rm -f "$$t"' EXIT; \
	$(foreach s,$(CHECK_STAGES),echo "=== stage: $(s)"; \
	    TEST_TOTALS=$$t TEST_STAGE=$(s) $(MAKE) --no-print-directory \
	    $(check_args_$(s)) test || grep -q " $(s)$$" "$$t" || \
	    echo "0 1 $(s) (did not finish)" >>"$$t";) \
	sh tests/sum.sh "$$t"

# Debian 12 packages.  DEPS: what building and running need (compiler,
# -dev libraries that pull in the runtime libraries, tzdata for the
# configured time zone, systemd for sysusers, tmpfiles and the units):
# all a gateway gets from `make deps`.  libpq-dev: the client library the
# central store speaks through; no server.  DEPS_TEST: everything the
# suite, the benchmarks, fuzzing, the man-page and the package checks use
# on top (`make test-deps`); tests/e2e/deps.sh checks that none of it is
# in DEPS.  postgresql-15 is for the tests only (tests/central_lib.sh
# starts a throwaway cluster of its own) and prometheus for its promtool
# and a scraping server that tests/e2e/api.sh starts itself: neither a
# sensor nor the central CLI needs a server on its own host.
DEPS := build-essential pkg-config libpcap-dev libevent-dev \
	libsqlite3-dev libconfig-dev libssl-dev libsystemd-dev libjansson-dev \
	libpq-dev tzdata systemd
DEPS_TEST := tshark tcpreplay python3 python3-scapy python3-cryptography \
	sqlite3 iproute2 dnsutils openssl dnsmasq-base valgrind \
	prometheus chromium wrk curl poppler-utils mandoc man-db groff-base \
	util-linux clang libclang-rt-14-dev time e2fsprogs \
	libndpi-bin faketime bc postgresql-15 debhelper lintian strace
# Units of DEPS_TEST packages that Debian enables (and would start) on
# installation; `make test-deps` leaves them disabled, stopped and masked.
TEST_SERVICES := prometheus.service postgresql.service
APT_INSTALL := DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
	install -y --no-install-recommends
deps:
	apt-get update
	$(APT_INSTALL) $(DEPS)

# The test packages go in with starting services forbidden (policy-rc.d,
# tests/tools/quiet-install.sh); their services are then disabled and
# masked, and a PostgreSQL "main" cluster that the installation created
# is dropped: the tests start servers of their own, in their own
# directories and network namespaces.
test-deps: deps
	sh tests/tools/quiet-install.sh "$(TEST_SERVICES)" $(DEPS_TEST)

# Installed with this installation's paths filled in (@sbindir@ & co.).
install uninstall: AIC_UNITS = aicensusd.service aicensus-report.service \
	aicensus-report-mail.service aicensus-report.timer
install uninstall: AIC_MANS = aicensus.1 aicensus.conf.5 aicensusd.8
install uninstall: AIC_LIBEXECDIR = $(LIBDIR)/aicensus
install uninstall: AIC_WEBDIR = $(WEBDIR)
install uninstall: AIC_SUBST = sed -e 's|@sbindir@|$(SBINDIR)|g' \
	-e 's|@bindir@|$(BINDIR)|g' -e 's|@sysconfdir@|$(SYSCONFDIR)|g' \
	-e 's|@libexecdir@|$(AIC_LIBEXECDIR)|g' -e 's|@plugindir@|$(PLUGINDIR)|g' \
	-e 's|@webdir@|$(AIC_WEBDIR)|g' -e 's|@version@|$(VERSION)|g'

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(PLUGINDIR) \
		$(DESTDIR)$(SYSCONFDIR)/aicensus
	install -m 0755 $(BUILD)/aicensusd $(DESTDIR)$(SBINDIR)/aicensusd
	install -m 0755 $(BUILD)/aicensus $(DESTDIR)$(BINDIR)/aicensus
	install -m 0644 $(PLUGINS) $(DESTDIR)$(PLUGINDIR)/
	install -m 0644 config/catalog.conf $(DESTDIR)$(SYSCONFDIR)/aicensus/catalog.conf
	test -e $(DESTDIR)$(SYSCONFDIR)/aicensus/aicensus.conf || \
		install -m 0640 config/aicensus.conf $(DESTDIR)$(SYSCONFDIR)/aicensus/aicensus.conf
	install -d $(DESTDIR)$(PREFIX)/include
	install -m 0644 plugins/aicensus_plugin.h $(DESTDIR)$(PREFIX)/include/
	install -D -m 0644 systemd/aicensus.sysusers $(DESTDIR)$(SYSUSERSDIR)/aicensus.conf
	install -D -m 0644 systemd/aicensus.tmpfiles $(DESTDIR)$(TMPFILESDIR)/aicensus.conf
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(AIC_LIBEXECDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	for f in $(AIC_UNITS); do \
		$(AIC_SUBST) systemd/$$f >$(DESTDIR)$(UNITDIR)/$$f && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$f || exit 1; done
	for f in aicensus-weekly-report aicensus-forget; do \
		$(AIC_SUBST) systemd/$$f >$(DESTDIR)$(AIC_LIBEXECDIR)/$$f && \
		chmod 0755 $(DESTDIR)$(AIC_LIBEXECDIR)/$$f || exit 1; done
	install -d $(DESTDIR)$(GENERATORDIR)
	$(AIC_SUBST) systemd/aicensus-report-generator \
		>$(DESTDIR)$(GENERATORDIR)/aicensus-report-generator
	chmod 0755 $(DESTDIR)$(GENERATORDIR)/aicensus-report-generator
	# local additions to the catalog (catalog_dir), never touched by an
	# upgrade or by uninstall
	install -d $(DESTDIR)$(SYSCONFDIR)/aicensus/catalog.d
	for m in $(AIC_MANS); do \
		d=$(DESTDIR)$(MANDIR)/man$${m##*.}; \
		$(AIC_SUBST) docs/man/$$m >$$d/$$m && chmod 0644 $$d/$$m || exit 1; done
	# the dashboard: exactly the files of daemon/out/dashboard/, nothing
	# left from before
	rm -rf $(DESTDIR)$(AIC_WEBDIR)
	cd daemon/out/dashboard && find . -type f | while read -r f; do \
		install -D -m 0644 "$$f" "$(DESTDIR)$(AIC_WEBDIR)/$$f" || exit 1; \
		done
	# on a live system (no DESTDIR) create the user and the state directory
	# now; the daemon runs as aicensus and must read its configuration
	if [ -z "$(DESTDIR)" ]; then \
		systemd-sysusers $(SYSUSERSDIR)/aicensus.conf && \
		systemd-tmpfiles --create $(TMPFILESDIR)/aicensus.conf && \
		chgrp aicensus $(SYSCONFDIR)/aicensus/aicensus.conf && \
		if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; fi

# Everything install put in place but the configuration and the records.
# On the live system (no DESTDIR) first the secrets go, at the paths the
# configuration names (systemd/aicensus-forget, run from this tree with
# this installation's paths, so also for an installation older than the
# helper): the week and outbox keys, the API token and the working
# database (sealed under those keys); the released figures and the
# reports are kept and named.
uninstall:
	if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
		systemctl disable --now aicensusd.service aicensus-report.timer || true; fi
	if [ -z "$(DESTDIR)" ]; then $(AIC_SUBST) systemd/aicensus-forget | sh -s; fi
	rm -f $(DESTDIR)$(SBINDIR)/aicensusd $(DESTDIR)$(BINDIR)/aicensus \
		$(addprefix $(DESTDIR)$(PLUGINDIR)/,$(notdir $(PLUGINS))) \
		$(DESTDIR)$(SYSCONFDIR)/aicensus/catalog.conf \
		$(DESTDIR)$(PREFIX)/include/aicensus_plugin.h \
		$(DESTDIR)$(SYSUSERSDIR)/aicensus.conf $(DESTDIR)$(TMPFILESDIR)/aicensus.conf \
		$(addprefix $(DESTDIR)$(UNITDIR)/,$(AIC_UNITS)) \
		$(DESTDIR)$(AIC_LIBEXECDIR)/aicensus-weekly-report \
		$(DESTDIR)$(GENERATORDIR)/aicensus-report-generator \
		$(DESTDIR)$(AIC_LIBEXECDIR)/aicensus-forget \
		$(foreach m,$(AIC_MANS),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(m))
	rm -rf $(DESTDIR)$(AIC_WEBDIR)
	-rmdir $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(AIC_LIBEXECDIR) \
		$(DESTDIR)$(PREFIX)/share/aicensus \
		$(DESTDIR)$(SYSCONFDIR)/aicensus/catalog.d 2>/dev/null
	if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
		systemctl daemon-reload; fi
	@echo "kept: $(DESTDIR)$(SYSCONFDIR)/aicensus/aicensus.conf (and catalog.d/ if it holds local additions)"
	@[ -n "$(DESTDIR)" ] || echo "kept: the released figures and the reports under /var/lib/aicensus (aicensus-forget named them above); rm -rf /var/lib/aicensus removes them"

.PHONY: uninstall

# The Debian package (debian/, `dpkg-buildpackage -us -uc -b`): built
# from a copy of the sources in a temporary directory, so that neither
# this tree's build directories nor its parent get anything; the package,
# aicensus_<version>_<arch>.deb, is left here.  Its files are those of
# `make install PREFIX=/usr` (debian/rules); tests/e2e/deb.sh installs,
# checks, removes and purges it.  DEB_OUT: where the package goes.
DEB_OUT ?= .
deb:
	@command -v dh >/dev/null || { echo "make deb: needs debhelper (make test-deps installs it)" >&2; exit 1; }
	@v=$$(dpkg-parsechangelog -S Version) && [ "$$v" = "$(VERSION)" ] || \
		{ echo "make deb: debian/changelog is at $$v, the Makefile's VERSION is $(VERSION)" >&2; exit 1; }
	@t=$$(mktemp -d /tmp/aicensus-deb.XXXXXX) && trap 'rm -rf "$$t"' EXIT && \
	mkdir "$$t/aicensus-$(VERSION)" && \
	tar --exclude-vcs --exclude='./build*' --exclude='./*.deb' -cf - . | \
		tar -C "$$t/aicensus-$(VERSION)" -xf - && \
	(cd "$$t/aicensus-$(VERSION)" && dpkg-buildpackage -us -uc -b) >"$$t/build.log" 2>&1 || \
		{ tail -n 40 "$$t/build.log" >&2; echo "make deb: dpkg-buildpackage failed" >&2; exit 1; }; \
	mv "$$t"/aicensus_$(VERSION)_*.deb $(DEB_OUT)/ && ls $(DEB_OUT)/aicensus_$(VERSION)_*.deb

# Fuzzing: every fuzz/fuzz_*.c built with clang (libFuzzer, ASan, UBSan)
# into build-fuzz/ and run FUZZ_SECONDS each, one after the other, on
# seeds made from ../shared/pcaps and tests/synth (fuzz/README.md).
FUZZ_SECONDS ?= 60
fuzz:
	$(MAKE) -f fuzz/fuzz.mk FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz-run

.PHONY: fuzz

# Try it without a gateway: synthesized traffic through the daemon, then
# the released figures.
demo: all
	@rm -rf /tmp/aicensus-demo
	/usr/bin/python3 tests/synth/synth.py --seed 1 --out /tmp/aicensus-demo
	cd /tmp/aicensus-demo && $(CURDIR)/$(BUILD)/aicensusd -c aicensus.conf -r traffic.pcap
	$(BUILD)/aicensus query --db /tmp/aicensus-demo/released.db --by department,service,week

# Throughput against a bare libpcap loop, tshark and ndpiReader, scaling,
# memory under floods, live replay, flush time (docs/PERFORMANCE.md) and
# 100 sites x one week into a throwaway PostgreSQL (docs/CENTRAL.md).
# Needs root for the live and central rows; BENCH_ARGS="--skip-live",
# "--only central", "--profile", ...
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
BENCH_ARGS ?=
$(BUILD)/bench/%: bench/%.c $(BUILD)/libaicensus.a
	@mkdir -p $(BUILD)/bench
	@echo "  BENCH   $@"
	@$(CC) $(CPPFLAGS) $(CFLAGS) $< $(BUILD)/libaicensus.a $(LDFLAGS) $(PKG_LIBS) -o $@

bench: all $(BENCH_BIN)
	/usr/bin/python3 bench/bench.py --build $(BUILD) $(BENCH_ARGS)

clean:
	rm -rf build build-san build-vg

.PHONY: all unit layers test check deps test-deps install demo bench clean deb

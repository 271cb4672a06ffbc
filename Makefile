# tarpit - a Postfix tarpit that remembers.
#
#   make              build bin/tarpit-{check,store,admin}
#   make check        every test: unit, helpers end to end, real Postfix,
#                     and the unit and helper tests again under ASan+UBSan
#   make install      PREFIX=/usr/local DESTDIR= (programs, units, man pages,
#                     config, Postfix snippets, logcheck rules)
#   make deps         install the Debian build and test dependencies
#   make deb          tarpit_VERSION_ARCH.deb, with Debian's own tools
#   make bench-guard  the hot path against a baseline build: what fell
#   make unit-check   the unit tests alone (the package build runs them)
#   make analyze      gcc's static analyser over every source (make check runs it)
#   make coverage     line coverage per lib/ file (gcov), from the unit
#                     tests and the helper suites
#   make run          build and run the helpers on loopback with a scratch db
#   make demo         (root) a throw-away Postfix in its own network namespace,
#                     showing what the tarpit does, in under a minute

PREFIX   ?= /usr/local
SBINDIR  ?= $(PREFIX)/sbin
MANDIR   ?= $(PREFIX)/share/man
DATADIR  ?= $(PREFIX)/share/tarpit
SYSCONFDIR ?= /etc
UNITDIR  ?= /lib/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
TMPFILESDIR ?= /usr/lib/tmpfiles.d

# The one place the version lives: every program's -V, tarpit-admin info,
# the man pages' footer and the package's version (debian/changelog) say
# it, and tests/e2e/usage.sh checks that they do.
VERSION  := $(shell cat VERSION)

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN      = -std=c11 -Wall -Wextra -Werror
SAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined

# Debian's libgdbm-dev ships no .pc file: fall back to -lgdbm.
GDBM_CFLAGS := $(shell pkg-config --cflags gdbm 2>/dev/null)
GDBM_LIBS  := $(shell pkg-config --libs gdbm 2>/dev/null || echo -lgdbm)

ALL_CFLAGS = $(WARN) $(CPPFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) -Ilib $(GDBM_CFLAGS) \
             -DTARPIT_VERSION='"$(VERSION)"'
# hiredis is not linked: lib/store/redis.c opens it with dlopen() when the
# database is a server's URL, so that a GDBM setup maps none of it.
# No libsystemd for the helpers: lib/util/listen.c reads LISTEN_PID/LISTEN_FDS
# itself (it saves about 80 KiB of private memory per helper).  Only
# tarpit-admin links it, for import-log --journal (lib/admin/admin_journal.c).
LIBS       = $(GDBM_LIBS)
# Full RELRO, as Debian's hardened builds link: every symbol bound at
# start-up and the table of them read-only.  It also spares a helper the
# lazy binder's deep stack on first calls (a page of its memory).
PROG_LDFLAGS = -Wl,-z,relro -Wl,-z,now
SYSTEMD_LIBS := $(shell pkg-config --libs libsystemd 2>/dev/null || echo -lsystemd)

# O is where a build's objects, archive and unit tests go, out of the
# source folders: build/ for the normal build (its programs in bin/),
# build/san/ for the sanitizer one (its programs in build/san/bin/).
O        ?= build/
P        := $(if $(filter build/,$(O)),bin/,$(O)bin/)
PROGS     = tarpit-check tarpit-store tarpit-admin
LIB_SRCS  = $(wildcard lib/*/*.c)
LIB_HDRS  = $(wildcard lib/*/*.h)
LIB_OBJS  = $(LIB_SRCS:%.c=$(O)%.o)
UNIT_TESTS = $(patsubst tests/unit/%.c,$(O)tests/unit/%,$(wildcard tests/unit/*_test.c))
TOOLS     = tests/policy-client tests/smtp-client tests/watch-peer

all: $(PROGS:%=$(P)%)

$(O)lib/%.o: lib/%.c $(LIB_HDRS) VERSION
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)bin/%.o: bin/%.c $(LIB_HDRS) VERSION
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)libtarpit.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(PROGS:%=$(P)%): $(P)%: $(O)bin/%.o $(O)libtarpit.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(PROG_LDFLAGS) $(LDFLAGS) -o $@ $< $(O)libtarpit.a $(LIBS) $(PROG_LIBS)

$(P)tarpit-admin: PROG_LIBS = $(SYSTEMD_LIBS)

$(UNIT_TESTS): $(O)tests/unit/%: tests/unit/%.c tests/unit/*.h $(O)libtarpit.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(O)libtarpit.a $(LIBS) $(SYSTEMD_LIBS)

$(TOOLS): tests/%: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) $(LDFLAGS) -o $@ $<

build-tests: all $(UNIT_TESTS) $(TOOLS) bench/loadgen

bench/watchbench bench/floor bench/spawn: %: %.c
	$(CC) $(WARN) $(CFLAGS) $(LDFLAGS) -o $@ $<

bench/loadgen: bench/loadgen.c
	$(CC) $(WARN) $(CFLAGS) $(LDFLAGS) -o $@ $< -lpthread

bench/walls: bench/walls.c build/libtarpit.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< build/libtarpit.a $(LIBS)

# The hot path against a baseline build (bench/baseline): which scenario
# fell below 0.90 of it.  Before a change to the hot path is called done;
# never in make check.
bench-guard: have-deps all bench/loadgen
	bench/guard

# Fuzz targets: libFuzzer with ASan+UBSan, the library built by clang.
FUZZ_TARGETS = policy addr conf record admin_line load
FUZZ_BINS  = $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
             -fno-sanitize-recover=undefined -fno-omit-frame-pointer

fuzz:
	$(MAKE) O=build/fuzz/ CC=clang CFLAGS= EXTRA_CFLAGS="$(FUZZ_FLAGS)" build/fuzz/libtarpit.a
	$(MAKE) $(FUZZ_BINS)

$(FUZZ_BINS): build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c build/fuzz/libtarpit.a
	clang $(WARN) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -Ilib -o $@ $< build/fuzz/libtarpit.a $(LIBS) $(SYSTEMD_LIBS)

# Benchmarks measure and record (bench/results.md); they never fail a build.
bench: have-deps all bench/watchbench bench/loadgen bench/floor bench/spawn bench/walls
	bench/run

# The Debian packages: to build the programs (what INSTALL lists), to
# build the package, and to run every test (`make check`, CI).
BUILD_DEPS = build-essential pkg-config libgdbm-dev libsystemd-dev libhiredis-dev libpsl5
DEB_TOOL_DEPS = dpkg-dev debhelper lintian
TEST_DEPS = systemd postfix swaks iproute2 procps clang libclang-rt-14-dev groff-base \
            python3-prometheus-client systemd-journal-remote logcheck redis-server \
            systemd-container util-linux
DEB_DEPS = $(BUILD_DEPS) $(DEB_TOOL_DEPS) $(TEST_DEPS)
deps:
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(DEB_DEPS)

deps-build:
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(BUILD_DEPS)

# What `make run` needs: the build, systemd-socket-activate and ss; not
# the test suite's Postfix, clang, lintian or redis-server.
RUN_DEPS = $(BUILD_DEPS) systemd iproute2
deps-run:
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(RUN_DEPS)

have-run-deps:
	@{ [ -f /usr/include/gdbm.h ] && [ -f /usr/include/systemd/sd-journal.h ] \
	  && [ -f /usr/include/hiredis/hiredis.h ] && command -v pkg-config >/dev/null \
	  && command -v systemd-socket-activate >/dev/null && command -v ss >/dev/null \
	  && ls /usr/lib/*/libpsl.so.5 >/dev/null 2>&1; } || $(MAKE) deps-run

deps-deb:
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	    $(BUILD_DEPS) $(DEB_TOOL_DEPS)

have-deps:
	@{ [ -f /usr/include/gdbm.h ] && [ -f /usr/include/systemd/sd-journal.h ] \
	  && [ -f /usr/include/hiredis/hiredis.h ] && command -v redis-server >/dev/null \
	  && ls /usr/lib/*/libpsl.so.5 >/dev/null 2>&1 \
	  && [ -x /lib/systemd/systemd-journal-remote ] && command -v logcheck-test >/dev/null \
	  && command -v systemd-socket-activate >/dev/null \
	  && command -v postfix >/dev/null && command -v swaks >/dev/null \
	  && command -v pkg-config >/dev/null && command -v ss >/dev/null \
	  && command -v clang >/dev/null && command -v groff >/dev/null \
	  && command -v systemd-nspawn >/dev/null && command -v dh >/dev/null \
	  && command -v lintian >/dev/null \
	  && /usr/bin/python3 -c 'import prometheus_client' 2>/dev/null \
	  && ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; } \
	  || $(MAKE) deps

# gcc's static analyser (-fanalyzer) over every source, as errors: a
# finding fails the build, as a warning does.  One stamp per source, so
# that it runs in parallel and again only for what changed.
ANALYZE_OKS = $(LIB_SRCS:%.c=build/analyze/%.ok) $(PROGS:%=build/analyze/bin/%.ok)
analyze: $(ANALYZE_OKS)
	@echo "gcc -fanalyzer: $(words $(ANALYZE_OKS)) sources, no findings"

build/analyze/%.ok: %.c $(LIB_HDRS) VERSION
	@mkdir -p $(@D)
	gcc $(WARN) $(CPPFLAGS) -O2 -Ilib $(GDBM_CFLAGS) -DTARPIT_VERSION='"$(VERSION)"' \
	    -fanalyzer -c -o /dev/null $<
	@touch $@

# Line coverage: a build with gcov's counters (build/cov/), the unit tests
# and the suites that take a build's programs run on it, then one line a
# source file (tests/coverage; build/cov/coverage.txt).
coverage: have-deps
	$(MAKE) O=build/cov/ CFLAGS="-O0 -g" EXTRA_CFLAGS=--coverage LDFLAGS=--coverage build-tests
	tests/coverage

check: have-deps
	$(MAKE) analyze
	$(MAKE) build-tests
	$(MAKE) O=build/san/ EXTRA_CFLAGS="$(SAN_FLAGS)" CFLAGS= build-tests
	$(MAKE) fuzz
	tests/run-all

# The unit tests alone, on the normal build: what the package build runs.
unit-check: all $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do $$t >/dev/null || { $$t | grep -v '^ok'; exit 1; }; \
	    echo "$$t: ok"; done

# The Debian package, built from a clean copy of the committed tree with
# Debian's own tools (dpkg-buildpackage over debian/), then checked with
# lintian: tarpit_VERSION_ARCH.deb here.
deb:
	@command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null \
	    && command -v lintian >/dev/null || $(MAKE) deps-deb
	tests/system/make-deb "$(CURDIR)"

run: have-run-deps all tests/policy-client
	tests/run-local

demo: have-deps all tests/smtp-client
	tests/demo

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSCONFDIR) $(DESTDIR)$(DATADIR)/postfix \
	    $(DESTDIR)$(DATADIR)/examples \
	    $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	[ "$(LOGCHECK)" = no ] || install -d $(DESTDIR)$(SYSCONFDIR)/logcheck/ignore.d.server \
	    $(DESTDIR)$(SYSCONFDIR)/logcheck/violations.ignore.d
	install -m 0755 $(PROGS:%=bin/%) $(DESTDIR)$(SBINDIR)/
	install -m 0644 share/man/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 share/man/*.8 $(DESTDIR)$(MANDIR)/man8/
	for u in units/*.service units/*.socket units/*.timer units/*.d/*.conf; do \
	    install -d $(DESTDIR)$(UNITDIR)/$$(dirname $${u#units/}) && \
	    sed 's|@SBINDIR@|$(SBINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' $$u \
	        > $(DESTDIR)$(UNITDIR)/$${u#units/} && chmod 0644 $(DESTDIR)$(UNITDIR)/$${u#units/}; \
	done
	install -m 0644 share/postfix/* $(DESTDIR)$(DATADIR)/postfix/
	install -m 0644 share/examples/* $(DESTDIR)$(DATADIR)/examples/
	[ "$(LOGCHECK)" = no ] || install -m 0644 share/logcheck/ignore.d.server/tarpit \
	    $(DESTDIR)$(SYSCONFDIR)/logcheck/ignore.d.server/tarpit
	[ "$(LOGCHECK)" = no ] || install -m 0644 share/logcheck/violations.ignore.d/tarpit \
	    $(DESTDIR)$(SYSCONFDIR)/logcheck/violations.ignore.d/tarpit
	install -m 0644 share/sysusers.d/tarpit.conf $(DESTDIR)$(SYSUSERSDIR)/tarpit.conf
	install -m 0644 share/tmpfiles.d/tarpit.conf $(DESTDIR)$(TMPFILESDIR)/tarpit.conf
	[ -e $(DESTDIR)$(SYSCONFDIR)/tarpit.conf ] || \
	    install -m 0644 tarpit.conf $(DESTDIR)$(SYSCONFDIR)/tarpit.conf

clean:
	rm -f $(PROGS:%=bin/%) tests/policy-client tests/smtp-client \
	    tests/watch-peer bench/watchbench bench/loadgen bench/floor bench/spawn bench/walls
	rm -rf build

.PHONY: all build-tests bench bench-guard fuzz deps deps-build deps-deb deps-run have-deps have-run-deps \
	check unit-check deb run demo install clean

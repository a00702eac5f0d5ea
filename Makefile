# pgpipe: libpgpipe (lib/, an internal static library) and its programs
# (tools/PROG/: main.cpp and the program's own engine). `make check` and
# `make demo` install what is missing first (see scripts/deps.sh).

PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
CXX      ?= g++
OPT      ?= -O2 -g
SANITIZE ?=
# The sub-makes of check, asan, demo and bench build on every core, unless
# make was given -j (then they share its jobs).
JOBS     ?= $(shell nproc 2>/dev/null || echo 1)
# The PostgreSQL majors: make check runs the full suites on Debian's 15 (or
# on PG, e.g. make check PG=17) and, unless PG is given, the version stage
# (tests/versions.list) on each of VERSIONS; make check-versions runs the
# full suites on every major. make deps fetches the upstream builds of the
# majors Debian lacks into PG_BUILDS (scripts/pg_builds.sh).
PG       ?=
VERSIONS ?= 14 16 17 18
PG_BUILDS ?= build/postgres
SUB_JOBS  = $(if $(filter -j% --jobserver%,$(MAKEFLAGS)),,-j$(JOBS))

WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wvla
PQ_CFLAGS := $(shell pkg-config --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql)
PQ_LIBS   := $(shell pkg-config --libs libpq 2>/dev/null || echo -lpq)
CXXFLAGS += -std=c++20 $(OPT) $(WARNINGS) $(SANITIZE) -Ilib -Itools $(PQ_CFLAGS)
LDFLAGS  += $(SANITIZE)
LDLIBS   := $(PQ_LIBS) -lboost_program_options -lzstd -lsimdjson

PROGRAMS   := pgcopy pgsandbox pggen pgreport pginsert pgrec
LIB_SRC    := $(wildcard lib/*/*.cpp)
LIB_OBJ    := $(LIB_SRC:%.cpp=$(BUILD)/%.o)
TOOL_SRC   := $(wildcard tools/*/*.cpp)
TOOL_OBJ   := $(TOOL_SRC:%.cpp=$(BUILD)/%.o)
# The engines, without the programs' mains: the unit tests reach into them.
ENGINE_OBJ := $(filter-out %/main.o,$(TOOL_OBJ))
UNIT_SRC   := $(wildcard tests/unit/*.cpp)
UNIT_OBJ   := $(UNIT_SRC:%.cpp=$(BUILD)/%.o)
BINS       := $(PROGRAMS:%=$(BUILD)/bin/%)

.PHONY: all deps check check-only check-versions demo asan bench fuzz install clean
# Keep the objects: they are intermediates of a pattern chain.
.SECONDARY:
.SECONDEXPANSION:
.DEFAULT_GOAL := all

all: $(BUILD)/libpgpipe.a $(BINS)

deps:
	@scripts/deps.sh
	@scripts/pg_builds.sh $(PG_BUILDS)

$(BUILD)/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -MMD -MP -c $< -o $@

# libpgpipe is linked into each program and not installed: it has no stable
# API of its own, only what the programs share.
$(BUILD)/libpgpipe.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# A program is its folder's objects and the library.
tool_objects = $(patsubst %.cpp,$(BUILD)/%.o,$(wildcard tools/$(1)/*.cpp))
$(BUILD)/bin/%: $$(call tool_objects,$$*) $(BUILD)/libpgpipe.a
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) -o $@ $(filter %.o,$^) $(BUILD)/libpgpipe.a $(LDLIBS)

$(BUILD)/tests/unit_tests: $(UNIT_OBJ) $(ENGINE_OBJ) $(BUILD)/libpgpipe.a
	$(CXX) $(LDFLAGS) -o $@ $(UNIT_OBJ) $(ENGINE_OBJ) $(BUILD)/libpgpipe.a $(LDLIBS)

check: deps
	@$(MAKE) --no-print-directory $(SUB_JOBS) check-only

check-only: all $(BUILD)/tests/unit_tests
	@BUILD=$(BUILD) PG=$(PG) PG_BUILDS=$(abspath $(PG_BUILDS)) \
	    PG_VERSIONS="$(if $(PG),,$(VERSIONS))" tests/run.sh

# The full suites on every supported major, one after the other (an hour).
check-versions: deps
	@$(MAKE) --no-print-directory $(SUB_JOBS) all $(BUILD)/tests/unit_tests
	@status=0; for v in 15 $(VERSIONS); do \
	    echo "== PostgreSQL $$v"; \
	    BUILD=$(BUILD) PG=$$v PG_BUILDS=$(abspath $(PG_BUILDS)) PG_VERSIONS= tests/run.sh || status=1; \
	done; exit $$status

# -Wno-maybe-uninitialized: GCC 12 warns inside libstdc++'s std::regex under
# the sanitizers (a known false positive); the normal build keeps the warning.
asan: deps
	@PGPIPE_SANITIZED=1 $(MAKE) --no-print-directory $(SUB_JOBS) BUILD=build-asan \
	    OPT="-O1 -g -fno-omit-frame-pointer -Wno-maybe-uninitialized" \
	    SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=all" VERSIONS= check-only

demo: deps
	@$(MAKE) --no-print-directory $(SUB_JOBS) all
	@BUILD=$(BUILD) PG=$(PG) scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory $(SUB_JOBS) all
	@BUILD=$(BUILD) QUICK=$(QUICK) bench/run.sh
	@bench/render.py -o docs/benchmarks.md $(BUILD)/bench/results.tsv
	@cat docs/benchmarks.md

# The row splitters under libFuzzer for five minutes each.
fuzz: deps
	@scripts/fuzz.sh 300

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(PROGRAMS:%=man/%.1) $(DESTDIR)$(PREFIX)/share/man/man1/
	for p in $(PROGRAMS); do \
	    install -m 644 completions/$$p.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$p; done
	install -m 644 completions/pgpipe-common.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/

clean:
	rm -rf build build-asan build-fuzz

-include $(LIB_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(TOOL_OBJ:.o=.d)

# pgpipe: libpgpipe and its programs. `make check` and `make demo` install
# what is missing first (see scripts/deps.sh).

PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
CXX      ?= g++
OPT      ?= -O2 -g
SANITIZE ?=

WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wvla
CXXFLAGS += -std=c++20 $(OPT) $(WARNINGS) -fPIC $(SANITIZE) -Ilib -I/usr/include/postgresql
LDFLAGS  += $(SANITIZE)
LDLIBS   := -lpq -lboost_program_options -lzstd -lsimdjson

PROGRAMS := pgcopy pgsandbox pggen pgreport pginsert pgrec
LIB_SRC  := $(wildcard lib/*.cpp)
LIB_OBJ  := $(LIB_SRC:%.cpp=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/*.cpp)
UNIT_OBJ := $(UNIT_SRC:%.cpp=$(BUILD)/%.o)
BINS     := $(PROGRAMS:%=$(BUILD)/bin/%)

.PHONY: all deps check check-only demo asan bench fuzz install clean
# Keep the objects of the programs: they are intermediates of a pattern chain.
.SECONDARY:
.DEFAULT_GOAL := all

all: $(BUILD)/libpgpipe.a $(BUILD)/libpgpipe.so $(BINS)

deps:
	@scripts/deps.sh

$(BUILD)/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libpgpipe.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libpgpipe.so: $(LIB_OBJ)
	$(CXX) -shared $(LDFLAGS) -Wl,-soname,libpgpipe.so.0 -o $@ $^ $(LDLIBS)

# Programs link the static library: they run from the build tree as they
# will when installed, with no LD_LIBRARY_PATH.
$(BUILD)/bin/%: $(BUILD)/tools/%.o $(BUILD)/libpgpipe.a
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) -o $@ $< $(BUILD)/libpgpipe.a $(LDLIBS)

$(BUILD)/tests/unit_tests: $(UNIT_OBJ) $(BUILD)/libpgpipe.a
	$(CXX) $(LDFLAGS) -o $@ $(UNIT_OBJ) $(BUILD)/libpgpipe.a $(LDLIBS)

check: deps
	@$(MAKE) --no-print-directory check-only

check-only: all $(BUILD)/tests/unit_tests
	@BUILD=$(BUILD) tests/run.sh

# -Wno-maybe-uninitialized: GCC 12 warns inside libstdc++'s std::regex under
# the sanitizers (a known false positive); the normal build keeps the warning.
asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer -Wno-maybe-uninitialized" \
	    SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=all" check-only

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) QUICK=$(QUICK) bench/run.sh

# The row splitters under libFuzzer for five minutes each.
fuzz: deps
	@scripts/fuzz.sh 300

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/pgpipe \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(BUILD)/libpgpipe.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libpgpipe.so $(DESTDIR)$(PREFIX)/lib/libpgpipe.so.0
	ln -sf libpgpipe.so.0 $(DESTDIR)$(PREFIX)/lib/libpgpipe.so
	install -m 644 lib/pgpipe/*.hpp $(DESTDIR)$(PREFIX)/include/pgpipe/
	install -m 644 $(PROGRAMS:%=man/%.1) $(DESTDIR)$(PREFIX)/share/man/man1/
	for p in $(PROGRAMS); do \
	    install -m 644 completions/$$p.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$p; done
	install -m 644 completions/pgpipe-common.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/

clean:
	rm -rf build build-asan build-fuzz

-include $(LIB_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(PROGRAMS:%=$(BUILD)/tools/%.d)

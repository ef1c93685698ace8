# lyncflow: see README.md. `make help` lists the targets.

CC       ?= cc
PREFIX   ?= /usr/local
BUILD    ?= build
VERSION  := 0.3.0
PKGS     := libpcap openssl ncursesw libcgraph libgvc
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
OPT      ?= -O2 -g
override CFLAGS += $(OPT) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude $(PKG_CFLAGS)
override LDLIBS += $(PKG_LIBS) -lpthread -lm

ifdef SANITIZE
override CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
override LDFLAGS += -fsanitize=$(SANITIZE)
endif

SRCS     := $(sort $(wildcard src/*.c src/*/*.c dissectors/*.c))
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
OBJS     := $(SRCS:%.c=$(BUILD)/obj/%.o)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)

DEB_PKGS := build-essential pkg-config libpcap-dev libssl-dev libncurses-dev libgraphviz-dev \
            libcmocka-dev graphviz tshark tcpdump tmux curl clang jq python3 nginx haproxy apache2

.PHONY: all deps demo check check-unit check-cli check-corpus sanitize tsan install bench fuzz samples clean help

all: $(BUILD)/lyncflow

help:
	@echo "make            build $(BUILD)/lyncflow"
	@echo "make deps       install missing Debian packages"
	@echo "make demo       deps, build, and the timeline of the bundled sample"
	@echo "make check      deps, build, every test; ends with 'N passed, N failed'"
	@echo "make check-corpus  every capture of ../shared/corpus, sanitized, plus tshark comparisons"
	@echo "make sanitize   $(BUILD)/sanitize/lyncflow with ASan+UBSan"
	@echo "make tsan       build/tsan/lyncflow with ThreadSanitizer"
	@echo "make fuzz       libFuzzer targets in $(BUILD)/fuzz (FUZZ_SECONDS=N runs them)"
	@echo "make bench      benchmarks against libpcap, ndpiReader and tshark"
	@echo "make samples    regenerate samples/ with the nginx lab (root)"
	@echo "make install    PREFIX=$(PREFIX)"

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi

# Rebuild everything when the flags change.
$(BUILD)/flags: FORCE
	@mkdir -p $(@D)
	@echo '$(CC) $(CFLAGS) $(LDFLAGS) $(LDLIBS)' | cmp -s - $@ || echo '$(CC) $(CFLAGS) $(LDFLAGS) $(LDLIBS)' > $@
FORCE:

$(BUILD)/obj/%.o: %.c $(BUILD)/flags
	@mkdir -p $(@D)
	@echo "CC $<"
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/src/main.o: override CFLAGS += -DLF_VERSION='"$(VERSION)"'

$(BUILD)/liblyncflow.a: $(LIB_OBJS)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/lyncflow: $(BUILD)/obj/src/main.o $(BUILD)/liblyncflow.a
	@echo "LD $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/liblyncflow.a $(BUILD)/flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP $(LDFLAGS) -o $@ $< $(BUILD)/liblyncflow.a $(LDLIBS) -lcmocka

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/liblyncflow.a $(BUILD)/flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP $(LDFLAGS) -o $@ $< $(BUILD)/liblyncflow.a $(LDLIBS)

-include $(OBJS:.o=.d) $(UNIT_BINS:=.d) $(TOOL_BINS:=.d)

demo: deps
	@$(MAKE) --no-print-directory all
	$(BUILD)/lyncflow -r samples/healthy-two-listeners/capture.pcap -c samples/healthy-two-listeners/topology.conf \
	  --keylog samples/healthy-two-listeners/keylog.txt --timeline

sanitize:
	@$(MAKE) --no-print-directory BUILD=build/sanitize SANITIZE=address,undefined OPT='-O1 -g' all

tsan:
	@$(MAKE) --no-print-directory BUILD=build/tsan SANITIZE=thread OPT='-O1 -g' all

check: deps
	@$(MAKE) --no-print-directory all tests
	@$(MAKE) --no-print-directory sanitize
	@$(MAKE) --no-print-directory tsan
	@sh tests/run.sh

tests: $(UNIT_BINS) $(TOOL_BINS)

check-corpus: deps
	@$(MAKE) --no-print-directory all tests sanitize
	@CORPUS=full sh tests/run.sh

fuzz:
	@sh tests/fuzz/build.sh

bench: deps
	@$(MAKE) --no-print-directory all tests
	@sh tests/bench/run.sh

samples:
	@sh samples/lab/make-samples.sh

install: $(BUILD)/lyncflow
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BUILD)/lyncflow $(DESTDIR)$(PREFIX)/bin/lyncflow
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 src/lyncflow.1 $(DESTDIR)$(PREFIX)/share/man/man1/lyncflow.1

clean:
	rm -rf build

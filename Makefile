# facekit — face recognition as a pipeline of small filters.
# make [all] | check | fuzz | bench | model | serve [PORT=N] | install | clean
# B=dir builds elsewhere (CI builds a sanitizer copy in build-san and the
# fuzzers in build-fuzz).

PREFIX  ?= /usr/local
DESTDIR ?=
B       ?= build

CC      ?= cc
CFLAGS  ?= -O2 -g
XML_CFLAGS := $(shell pkg-config --cflags libxml-2.0 2>/dev/null)
XML_LIBS   := $(shell pkg-config --libs libxml-2.0 2>/dev/null || echo -lxml2)
PNG_CFLAGS := $(shell pkg-config --cflags libpng 2>/dev/null)
PNG_LIBS   := $(shell pkg-config --libs libpng 2>/dev/null || echo -lpng16)
CPPFLAGS += -D_DEFAULT_SOURCE -D_FILE_OFFSET_BITS=64
WARN     = -std=c11 -Wall -Wextra -Wshadow -Wno-unused-parameter
LDLIBS  += -lnetpbm -ljpeg $(PNG_LIBS) $(XML_LIBS) -lopenblas -lz -lpthread -lm
# facecrop and ppmscale32 run once per photo, and a dynamically linked one
# spends a quarter of its time in the loader: they are linked statically
# (bench/README.md, "crop"), and so is putfile, which the scripts run once
# per file they write and which would otherwise load every library below
# for a copy.  STATIC= links them dynamically, as the sanitizer build must;
# either way rebuild after a security update of libjpeg, libpng or
# libnetpbm.
STATIC  ?= -static
STATIC_PROGS := facecrop ppmscale32 putfile

# Each library is a folder, and sees only the folders below it:
# lib/base (thread pool, little-endian codec) under lib/cnn (libcnn) under
# lib/face (libfacekit) under the programs.  libcnn.a carries lib/base, so
# that it can be installed alone.
BASE_SRC := $(sort $(wildcard lib/base/*.c))
CNN_SRC  := $(sort $(wildcard lib/cnn/*.c))
FK_SRC   := $(sort $(wildcard lib/face/*.c))
CNN_OBJ  := $(CNN_SRC:%.c=$(B)/%.o) $(BASE_SRC:%.c=$(B)/%.o)
FK_OBJ   := $(FK_SRC:%.c=$(B)/%.o)
$(B)/lib/base/%.o: INC = -Ilib/base
$(B)/lib/cnn/%.o:  INC = -Ilib/base -Ilib/cnn
$(B)/lib/face/%.o: INC = -Ilib/base -Ilib/cnn -Ilib/face $(XML_CFLAGS) $(PNG_CFLAGS)
INC ?= -Ilib/base -Ilib/cnn -Ilib/face
PROGS    := $(patsubst cmd/%.c,$(B)/bin/%,$(sort $(wildcard cmd/*.c)))
UNITS    := $(patsubst tests/unit/%.c,$(B)/tests/%,$(sort $(wildcard tests/unit/*.c)))
# scripts that only make sense inside this tree are not installed
SCRIPTS  := $(filter-out scripts/install-deps scripts/demo scripts/make-model,$(sort $(wildcard scripts/*)))
MAN1     := $(sort $(wildcard man/*.1))
MAN3     := $(sort $(wildcard man/*.3))
MAN5     := $(sort $(wildcard man/*.5))
MAN7     := $(sort $(wildcard man/*.7))
VERSION  := 0.1
# facefind's default cascades, packed by cascadepack from Debian's opencv-data
OPENCV_HAAR ?= /usr/share/opencv4/haarcascades
FKC := $(patsubst $(OPENCV_HAAR)/%.xml,$(B)/share/facekit/%.fkc,$(wildcard \
	$(OPENCV_HAAR)/haarcascade_frontalface_alt2.xml $(OPENCV_HAAR)/haarcascade_eye.xml))

all: $(PROGS) $(B)/libcnn.a $(B)/libfacekit.a $(FKC)

$(B)/share/facekit/%.fkc: $(OPENCV_HAAR)/%.xml $(B)/bin/cascadepack
	@mkdir -p $(@D)
	$(B)/bin/cascadepack $< > $@.tmp && mv $@.tmp $@

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(INC) $(CPPFLAGS) $(WARN) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libcnn.a: $(CNN_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(B)/libfacekit.a: $(FK_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(B)/bin/%: $(B)/cmd/%.o $(B)/libfacekit.a $(B)/libcnn.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) $(if $(filter $*,$(STATIC_PROGS)),$(STATIC)) -o $@ $< $(B)/libfacekit.a $(B)/libcnn.a $(LDLIBS)

$(B)/tests/%: $(B)/tests/unit/%.o $(B)/libfacekit.a $(B)/libcnn.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libfacekit.a $(B)/libcnn.a $(LDLIBS)

units: $(UNITS)

check: all units
	tests/run $(B)

lint-man:
	@for m in man/*.[1357]; do groff -mandoc -ww -z $$m || exit 1; done

bench: all
	$(RUNENV) bench/run

RUNENV = PATH="$(CURDIR)/$(B)/bin:$(CURDIR)/scripts:$$PATH"

demo: all
	$(RUNENV) scripts/demo $(DEMO_ARGS)

model: all
	$(RUNENV) scripts/make-model

# the page and the JSON API under lighttpd on 127.0.0.1 (faceserve(1))
PORT ?= 8080
serve: all
	$(RUNENV) scripts/faceserve -p $(PORT) $(SERVE_ARGS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man3 \
	  $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7 \
	  $(DESTDIR)$(PREFIX)/share/facekit/www
	install -m 755 $(PROGS) $(SCRIPTS) $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(B)/libcnn.a $(DESTDIR)$(PREFIX)/lib
	install -m 644 lib/cnn/cnn.h $(DESTDIR)$(PREFIX)/include
	$(if $(FKC),install -m 644 $(FKC) $(DESTDIR)$(PREFIX)/share/facekit)
	install -m 644 examples/lfw7+other.model $(DESTDIR)$(PREFIX)/share/facekit
	install -m 644 www/* $(DESTDIR)$(PREFIX)/share/facekit/www
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	  'Name: libcnn' 'Description: small convolutional networks on OpenBLAS (facekit)' \
	  'Version: $(VERSION)' 'Libs: -L$${libdir} -lcnn -lopenblas -lz -lpthread -lm' \
	  'Cflags: -I$${includedir}' > $(DESTDIR)$(PREFIX)/lib/pkgconfig/libcnn.pc
	$(if $(MAN1),install -m 644 $(MAN1) $(DESTDIR)$(PREFIX)/share/man/man1)
	$(if $(MAN3),install -m 644 $(MAN3) $(DESTDIR)$(PREFIX)/share/man/man3)
	$(if $(MAN5),install -m 644 $(MAN5) $(DESTDIR)$(PREFIX)/share/man/man5)
	$(if $(MAN7),install -m 644 $(MAN7) $(DESTDIR)$(PREFIX)/share/man/man7)

# The fuzzers (tests/fuzz/README): clang's libFuzzer under ASan and UBSan,
# built in $(FUZZ_B) with the libraries and the programs that make their
# seeds.  make fuzz replays every corpus file, then fuzzes each target
# FUZZTIME seconds (0: replay only), one at a time.
FUZZ_B   ?= build-fuzz
FUZZTIME ?= 60
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZERS  := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(sort $(wildcard tests/fuzz/*.c)))

$(B)/fuzz/%: $(B)/tests/fuzz/%.o $(B)/libfacekit.a $(B)/libcnn.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(B)/libfacekit.a $(B)/libcnn.a $(LDLIBS)

$(B)/fuzz-seeds/.made: tests/fuzz/mkseeds $(wildcard tests/fuzz/corpus/cascade/*) \
		$(B)/bin/facetrain $(B)/bin/cascadepack
	tests/fuzz/mkseeds $(B)/fuzz-seeds $(B)/bin
	touch $@

fuzzers: $(FUZZERS) $(B)/fuzz-seeds/.made

fuzz:
	$(MAKE) B=$(FUZZ_B) CC=clang STATIC= LDFLAGS="$(FUZZ_SAN)" \
		CFLAGS="-O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) -fsanitize=fuzzer-no-link" fuzzers
	tests/fuzz/run -t $(FUZZTIME) $(FUZZ_B)

clean:
	rm -rf build build-san build-fuzz

.PHONY: all units check fuzzers fuzz lint-man bench demo model serve install clean
.SECONDARY:
-include $(shell find $(B) -name '*.d' 2>/dev/null)

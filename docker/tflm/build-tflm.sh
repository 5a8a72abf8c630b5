#!/bin/sh
# Build TensorFlow Lite Micro's library inside a toolchain image, from the pinned archives in
# $1 (their sha256 or commit were checked before `docker build` by tinyeit.containers.sources),
# and install it in $2: lib/libtflm.a, the headers the application needs (same relative paths),
# and flags.txt (the exact compiler flags and include folders the library was built with: the
# application must use the same ones, TF_LITE_STATIC_MEMORY changes TfLiteTensor's layout).
# $3...: the make variables of the target (TARGET=..., TARGET_ARCH=..., OPTIMIZED_KERNEL_DIR=...).
set -eu
SOURCES=$1
PREFIX=$2
shift 2
WORK=$(mktemp -d)
cd "$WORK"
for archive in "$SOURCES"/*.tar.gz; do tar xzf "$archive"; done
ROOT=$(echo "$WORK"/tflite-micro-*)
DL="$ROOT/tensorflow/lite/micro/tools/make/downloads"
mkdir -p "$DL"
# The Makefile checks for each of these folders and would otherwise download it while parsing.
mv "$WORK"/flatbuffers-* "$DL/flatbuffers"
find "$DL/flatbuffers" \( -name BUILD -o -name BUILD.bazel \) -delete
(cd "$DL/flatbuffers" && patch -s -p1 < ../../flatbuffers.patch)
mv "$WORK"/gemmlowp-* "$DL/gemmlowp"
mv "$WORK"/ruy-* "$DL/ruy"
mv "$WORK"/CMSIS_6-* "$DL/cmsis"
mv "$WORK"/Cortex_DFP-* "$DL/cmsis/Cortex_DFP"
mv "$WORK"/CMSIS-NN-* "$DL/cmsis_nn"
# pigweed (tests only) and kissfft (the Signal library's RFFT ops) are not pinned: empty folders
# stop the download, and the sources that need kissfft leave the library (no RFFT/IRFFT op).
mkdir -p "$DL/pigweed" "$DL/kissfft"
MK="$ROOT/tensorflow/lite/micro/tools/make"
sed -i '/kiss_fft_wrappers\/kiss_fft_.*\.cc/d' "$MK/additional_kernels.inc"
# Only the kernels of kernels.tsv (beside this script) are compiled: every other line of the
# kernel list goes, and the Signal library's kernels with it (MICROLITE_CC_SIGNAL_KERNEL_SRCS= below).
KEEP=$(grep -v '^#' "$(dirname "$0")/kernels.tsv" | cut -f2 | tr ' ' '\n' | sort -u)
for k in $KEEP; do
    grep -q "tensorflow/lite/micro/kernels/$k\.cc" "$MK/sources.inc" \
        || { echo "kernels.tsv: no kernel source $k.cc in TFLite Micro's sources.inc" >&2; exit 1; }
done
awk -v keep="$(echo $KEEP)" '
    BEGIN { n = split(keep, k, " "); for (i = 1; i <= n; i++) kept[k[i]] = 1 }
    /^MICROLITE_CC_KERNEL_SRCS := / { inlist = 1; print; next }
    inlist && /^$/ { inlist = 0 }
    inlist { name = $0; sub(/.*micro\/kernels\//, "", name); sub(/\.cc.*/, "", name); if (!(name in kept)) next }
    { print }' "$MK/sources.inc" > "$MK/sources.inc.kept"
mv "$MK/sources.inc.kept" "$MK/sources.inc"
# Examples, benchmarks and tests are not built; parsing theirs would need numpy and Pillow.
NO_EXAMPLES="MICROLITE_CC_SIGNAL_KERNEL_SRCS= MICRO_LITE_EXAMPLE_TESTS= MICRO_LITE_BENCHMARKS= OLD_MICRO_LITE_BENCHMARKS= MICRO_LITE_INTEGRATION_TESTS= MICRO_LITE_GEN_MUTABLE_OP_RESOLVER_TEST= MICRO_LITE_LAYER_BY_LAYER_OUTPUT="
cd "$ROOT"
cat > "$WORK/print.mk" <<'EOF'
print-flags:
	@echo "CXXFLAGS=$(CXXFLAGS)"
	@echo "CCFLAGS=$(CCFLAGS)"
	@echo "INCLUDES=$(INCLUDES)"
	@echo "LIB=$(MICROLITE_LIB_PATH)"
EOF
make -s -f tensorflow/lite/micro/tools/make/Makefile $NO_EXAMPLES "$@" -j"$(nproc)" microlite
make -s -f tensorflow/lite/micro/tools/make/Makefile -f "$WORK/print.mk" $NO_EXAMPLES "$@" print-flags > "$WORK/flags.txt"
mkdir -p "$PREFIX/lib" "$PREFIX/include"
cp "$(sed -n 's/^LIB=//p' "$WORK/flags.txt")" "$PREFIX/lib/libtflm.a"
# Headers under their source-relative paths, and the include folders rewritten to point there.
find . -name '*.h' -o -name '*.hpp' | while read -r h; do
    mkdir -p "$PREFIX/include/$(dirname "$h")"
    cp "$h" "$PREFIX/include/$h"
done
sed -e "s#-I\./#-I$PREFIX/include/#g" -e "s#-I\([^/ ]\)#-I$PREFIX/include/\1#g" -e "s#-I\. #-I$PREFIX/include #g" \
    -e "s#-I\.\$#-I$PREFIX/include#" "$WORK/flags.txt" | grep -v '^LIB=' > "$PREFIX/flags.txt"
echo "-I$PREFIX/include" >> "$PREFIX/flags.txt"
cd /
rm -rf "$WORK"

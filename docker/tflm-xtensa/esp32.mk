# Read after TFLM's Makefile (`-f esp32.mk`) for the ESP32 build on TARGET=linux: the flags of
# the ESP32 firmware (docker/tflm-xtensa/Dockerfile). Recipes expand CXXFLAGS/CCFLAGS when they
# run, so these apply to every library object and show in the flags printed for the application.
ESP32_FLAGS := -mlongcalls -fno-if-conversion -ffp-contract=off
CXXFLAGS := $(filter-out -DTF_LITE_USE_CTIME,$(CXXFLAGS)) $(ESP32_FLAGS)
CCFLAGS := $(filter-out -DTF_LITE_USE_CTIME,$(CCFLAGS)) $(ESP32_FLAGS)

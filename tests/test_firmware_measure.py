"""The does_not_fit record both engines' builds write: figures needed against figures available."""
from tinyeit.firmware import measure

LD = "ld: region `FLASH' overflowed by 1200 bytes\nld: region `RAM' overflowed by 10 bytes\n"


def test_flash_and_ram_both_named_with_their_figures():
    sizes = {"flash_bytes": 525488, "ram_static_bytes": 60000}
    rec = measure.does_not_fit(sizes, LD, "nicla_sense", 524288, 65536, 8192, arena_bytes=40000)
    assert rec["status"] == "does_not_fit"
    assert rec["linker_overflow"] == {"FLASH": 1200, "RAM": 10}
    assert rec["ram_link_bytes"] == 68192
    assert "flash: needs 525488 bytes, nicla_sense has 524288" in rec["reason"]
    assert "RAM: needs 68192 bytes (static 60000, of which arena 40000, + stack 8192), nicla_sense has 65536" \
        in rec["reason"]
    assert rec["image"] is None and rec["files"] == {} and rec["sha256"] is None


def test_only_the_region_that_overflows_is_named():
    sizes = {"flash_bytes": 600000, "ram_static_bytes": 1000}
    rec = measure.does_not_fit(sizes, "ld: region `FLASH' overflowed by 75712 bytes", "nano33ble",
                               524288, 262144, 4096)
    assert rec["reason"] == "flash: needs 600000 bytes, nano33ble has 524288"
    assert "arena" not in rec["reason"]


def test_an_overflow_line_counts_even_when_the_sizes_look_small():
    # The linker also reserves space the section sizes don't show (alignment, stack): trust its word.
    rec = measure.does_not_fit({"flash_bytes": 10, "ram_static_bytes": 10}, LD, "b", 100, 100, 0)
    assert rec["reason"].startswith("flash: needs 10 bytes") and "RAM: needs 10 bytes" in rec["reason"]

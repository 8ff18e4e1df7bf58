"""tools.package: the digitnet wheel the page's worker installs."""

from __future__ import annotations

import zipfile

import digitnet
from tools import package
from tools.paths import ROOT


def test_the_wheel_holds_every_module_of_the_package(tmp_path):
    wheel, changed = package.ensure(dest=tmp_path, compile=False)
    assert changed and wheel.name == f"digitnet-{digitnet.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        sources = sorted((ROOT / "py" / "digitnet").glob("*.py"))
        assert {f"digitnet/{p.name}" for p in sources} <= names
        for p in sources:
            assert zf.read(f"digitnet/{p.name}") == p.read_bytes()
        record = zf.read(f"digitnet-{digitnet.__version__}.dist-info/RECORD").decode()
        assert all(f"digitnet/{p.name},sha256=" in record for p in sources)
    module = (tmp_path / "digitnet.mjs").read_text()
    assert f'new URL("{wheel.name}", import.meta.url)' in module


def test_reproducible_and_idempotent(tmp_path):
    first, _ = package.ensure(dest=tmp_path / "a", compile=False)
    second, _ = package.ensure(dest=tmp_path / "b", compile=False)
    assert first.read_bytes() == second.read_bytes()
    mtime = first.stat().st_mtime_ns
    assert package.ensure(dest=tmp_path / "a", compile=False) == (first, False)
    assert first.stat().st_mtime_ns == mtime


def test_a_change_in_the_sources_rebuilds_and_old_wheels_go(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "__init__.py").write_text('__version__ = "0.1"\n')
    (source / "a.py").write_text("X = 1\n")
    old, _ = package.ensure(source, tmp_path / "out", compile=False)
    (source / "__init__.py").write_text('__version__ = "0.2"\n')
    new, changed = package.ensure(source, tmp_path / "out", compile=False)
    assert changed and new.name.startswith("digitnet-0.2-") and not old.exists()
    (source / "a.py").write_text("X = 2\n")
    assert package.ensure(source, tmp_path / "out", compile=False)[1]


def test_the_page_gets_it_precompiled_for_pyodide(tmp_path):
    """Every module as a sourceless .pyc compiled by Pyodide's Python 3.12, with .br/.gz copies."""
    wheel, changed = package.ensure(dest=tmp_path)
    assert changed and wheel.name == f"digitnet-{digitnet.__version__}-cp312-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for p in (ROOT / "py" / "digitnet").glob("*.py"):
            assert f"digitnet/{p.stem}.pyc" in names and f"digitnet/{p.name}" not in names
            assert zf.read(f"digitnet/{p.stem}.pyc")[:4] == b"\xcb\r\r\n"  # CPython 3.12's magic
    assert (tmp_path / (wheel.name + ".br")).is_file() and (tmp_path / (wheel.name + ".gz")).is_file()
    assert f'"{wheel.name}"' in (tmp_path / "digitnet.mjs").read_text()
    assert package.ensure(dest=tmp_path) == (wheel, False)  # unchanged sources: Pyodide not run again

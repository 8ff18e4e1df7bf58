"""Nothing lost (Chromium, e2e): with no IndexedDB (a private window) teaching, fine-tuning and
predictions work for the tab and the card says nothing will be kept, and why; a full quota keeps
the drawing in the tab (saved once there is room) and the model saved before; a failed fine-tuning
leaves the model in use as it was. Each failure is injected before the page loads."""

from __future__ import annotations

import pytest
from conftest import App
from test_e2e_teach import SCRIBBLE, count, html, triangles

pytestmark = pytest.mark.e2e

NO_INDEXEDDB = {
    # No IndexedDB at all.
    "undefined": "Object.defineProperty(window, 'indexedDB', { value: undefined, configurable: true });",
    # indexedDB.open throws (as in Firefox's private windows before 115, or a sandboxed page).
    "open-throws": """IDBFactory.prototype.open = function () {
        throw new DOMException('A mutation operation was attempted on a database that did not allow \
mutations.',
                               'InvalidStateError');
    };""",
    # indexedDB.open's request fires "error".
    "open-error": """IDBFactory.prototype.open = function () {
        const request = new EventTarget();
        Object.assign(request, { result: undefined, error: null, onsuccess: null, onerror: null,
                                 onupgradeneeded: null, onblocked: null });
        setTimeout(() => {
            request.error = new DOMException('The user denied permission to access the database.',\
 'UnknownError');
            const event = new Event('error');
            request.dispatchEvent(event);
            request.onerror?.(event);
        }, 10);
        return request;
    };""",
}

# window.fullQuota: the object stores ("drawings", "models") whose writes fail as a full quota makes
# them fail: "abort" (the request succeeds, then the transaction aborts with QuotaExceededError, as
# Chromium does when it commits) or "throw" (put/add throw it at once).
FULL_QUOTA = """
window.fullQuota = { stores: new Set(), how: 'abort' };
for (const method of ['put', 'add']) {
    const original = IDBObjectStore.prototype[method];
    IDBObjectStore.prototype[method] = function (...args) {
        if (!window.fullQuota.stores.has(this.name)) return original.apply(this, args);
        const error = new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        if (window.fullQuota.how === 'throw') throw error;
        const request = original.apply(this, args);
        Object.defineProperty(this.transaction, 'error', { value: error });
        this.transaction.abort();
        return request;
    };
}
"""

# What IndexedDB holds, read by a connection of the test's own: {drawings, model: sha256 hex or null}.
STORED = """() => new Promise((resolve, reject) => {
    const open = indexedDB.open('digit-app');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
        const db = open.result;
        const tx = db.transaction(['drawings', 'models']);
        const n = tx.objectStore('drawings').count();
        const model = tx.objectStore('models').get('personal');
        tx.oncomplete = async () => {
            db.close();
            const bytes = model.result;
            const hex = bytes ? Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)),
                (b) => b.toString(16).padStart(2, '0')).join('') : null;
            resolve({ drawings: n.result, model: hex });
        };
    };
})"""

# A drawing with a label no model has, written into the page's storage behind its back.
DAMAGE = """() => new Promise((resolve, reject) => {
    const open = indexedDB.open('digit-app');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
        const tx = open.result.transaction('drawings', 'readwrite');
        tx.objectStore('drawings').add({ label: 12, image: new Uint8Array(784).fill(255), strokes: [], \
created: Date.now() });
        tx.oncomplete = () => { open.result.close(); resolve(); };
        tx.onerror = () => reject(tx.error);
    };
})"""


def open_app(chromium_browser, server, init: str = "", routes=(), size=(1100, 900)) -> App:
    w, h = size
    context = chromium_browser.new_context(
        viewport={"width": w, "height": h}, accept_downloads=True, service_workers="block"
    )  # routes must see every request
    if init:
        context.add_init_script(init)
    for pattern, handler in routes:
        context.route(pattern, handler)
    app = App(context, server.url).open()
    assert app.state == "ready", app.page.get_by_test_id("error").text_content()
    app.page.wait_for_function("() => document.documentElement.dataset.storage !== undefined")
    return app


def message(app: App) -> str:
    return " ".join(app.page.locator(".teach-message").text_content().split())


def teach(app: App, strokes, button: str = "teach-4") -> None:
    before = count(app)
    app.clear()
    app.draw(strokes)
    app.page.get_by_test_id(button).click()
    app.page.wait_for_function(
        f"() => document.querySelector('[data-testid=my-count]').dataset.count === '{before + 1}'"
    )


def fine_tune(app: App, outcome: str = "done") -> str:
    app.page.evaluate("() => { delete document.documentElement.dataset.tuning; }")  # from an earlier run
    app.page.get_by_test_id("fine-tune").click()
    app.page.wait_for_function(
        "() => ['done', 'error'].includes(document.documentElement.dataset.tuning)", timeout=120_000
    )
    assert html(app, "tuning") == outcome, app.page.locator(".tune-text").text_content()
    return app.page.locator(".tune-text").text_content()


def probs_of(app: App, strokes) -> list[float]:
    app.clear()
    app.draw(strokes)
    return app.page.evaluate("() => Array.from(digitApp.lastProbs)")


PROBE = triangles(1, 11)[0]  # drawn before and after, to tell the models apart


def personal_model(app: App) -> list[float]:
    """Teach three triangles as 4 and fine-tune: a personal model in use. -> its answer for PROBE."""
    for strokes in triangles(3, 1):
        teach(app, strokes)
    fine_tune(app)
    assert html(app, "model") == "personal"
    return probs_of(app, PROBE)


def card_shot(app: App, name: str) -> None:
    from tools.paths import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    app.page.locator(".teach-card").screenshot(path=str(ARTIFACTS / name))


@pytest.mark.parametrize("failure", list(NO_INDEXEDDB))
def test_without_indexeddb_teaching_works_for_the_tab(chromium_browser, server, failure):
    app = open_app(chromium_browser, server, NO_INDEXEDDB[failure])
    page = app.page
    try:
        assert html(app, "storage") == "memory"
        said = message(app)
        assert "will not be kept after this tab closes" in said, said
        assert ("private window" in said) if failure != "open-error" else ("denied permission" in said), said
        assert page.locator(".teach-message.warning").count() == 1
        card_shot(app, f"storage-{failure}.png")
        for strokes in triangles(4, 1):
            teach(app, strokes)
        teach(app, SCRIBBLE, "teach-none")
        assert count(app) == 5 and page.locator(".gallery-item.unsaved").count() == 5
        assert "in this tab only" in message(app)
        assert page.locator(".gallery-item", has_text="not a digit").count() == 1
        tuned = fine_tune(app)
        assert "of your 5 drawings right" in tuned
        assert html(app, "model") == "personal" and "in this tab only" in message(app)
        assert page.locator(".export-model").is_enabled()
        app.clear()
        app.draw(triangles(1, 9)[0])
        assert app.page.evaluate("() => digitApp.lastProbs !== null")  # predictions go on
        page.locator(".gallery-delete").first.click()
        page.wait_for_function("() => document.querySelector('[data-testid=my-count]').dataset.count === '4'")
        assert app.state == "ready" and not app.errors, app.errors
    finally:
        app.context.close()


@pytest.mark.parametrize("how", ["abort", "throw"])
def test_a_full_quota_keeps_the_drawing_in_the_tab_until_there_is_room(chromium_browser, server, how):
    app = open_app(chromium_browser, server, FULL_QUOTA)
    page = app.page
    try:
        assert html(app, "storage") == "device"
        for strokes in triangles(2, 1):
            teach(app, strokes)
        assert page.evaluate(STORED)["drawings"] == 2
        page.evaluate(f"() => {{ fullQuota.how = '{how}'; fullQuota.stores.add('drawings'); }}")
        teach(app, triangles(1, 3)[0], "teach-7")
        said = message(app)
        assert said.startswith("Storage is full") and "kept in this tab" in said and "a 7" in said, said
        assert page.locator(".teach-message.warning").count() == 1
        card_shot(app, f"storage-full-drawing-{how}.png")
        assert count(app) == 3 and page.locator(".gallery-item.unsaved").count() == 1
        assert page.evaluate(STORED)["drawings"] == 2  # the two saved before stay
        assert "of your 3 drawings right" in fine_tune(app)  # the one in the tab is used
        with page.expect_download() as download:
            page.get_by_text("Export drawings (CSV)").click()
        assert download.value.path().read_text().count("\n") == 4  # header + 3

        page.evaluate("() => fullQuota.stores.clear()")  # room again: delete one
        page.locator(".gallery-delete").first.click()
        page.wait_for_function("() => document.querySelector('.gallery-item.unsaved') === null")
        assert "saved now" in message(app), message(app)
        assert count(app) == 2 and page.evaluate(STORED)["drawings"] == 2
        page.reload()
        app.wait_settled()
        page.wait_for_function("() => document.querySelector('[data-testid=my-count]').dataset.count === '2'")
        labels = page.locator(".gallery-item > span").all_text_contents()
        assert labels == ["4", "7"], labels
        assert app.state == "ready" and not app.errors, app.errors
    finally:
        app.context.close()


def test_a_full_quota_keeps_the_model_saved_before_and_the_new_one_for_the_tab(chromium_browser, server):
    app = open_app(chromium_browser, server, FULL_QUOTA)
    page = app.page
    try:
        first_probs = personal_model(app)
        first = page.evaluate(STORED)["model"]
        assert first

        for strokes in triangles(3, 4):
            teach(app, strokes, "teach-2")
        page.evaluate("() => fullQuota.stores.add('models')")
        fine_tune(app)  # tuning itself worked
        said = message(app)
        assert said.startswith("Storage is full") and "will not survive a reload" in said, said
        assert "personal model saved before" in said, said
        card_shot(app, "storage-full-model.png")
        assert html(app, "model") == "personal"
        assert page.evaluate(STORED)["model"] == first  # the saved one is intact
        assert probs_of(app, PROBE) != first_probs  # the new one is in use
        with page.expect_download() as download:
            page.locator(".export-model").click()
        assert download.value.path().read_bytes()[:2] == b"PK"  # and can be exported

        page.reload()
        app.wait_settled()
        page.wait_for_function("() => document.documentElement.dataset.model === 'personal'")
        assert probs_of(app, PROBE) == first_probs  # the one saved before
        assert app.state == "ready" and not app.errors, app.errors
    finally:
        app.context.close()


def test_a_failed_fine_tuning_leaves_the_model_in_use(chromium_browser, server):
    """The worker's fine-tuning fails (Python refuses a damaged drawing in storage, label 12): an
    error state and message, the same model, the same probabilities."""
    app = open_app(chromium_browser, server)
    page = app.page
    try:
        before = personal_model(app)
        page.evaluate(DAMAGE)
        said = fine_tune(app, "error")
        assert "Fine-tuning failed" in said and "unchanged" in said and "labels must be" in said, said
        assert page.locator(".tune-text.warning").count() == 1
        card_shot(app, "tune-failed.png")
        assert html(app, "model") == "personal"
        assert probs_of(app, PROBE) == before
        assert app.state == "ready" and not app.errors, app.errors
    finally:
        app.context.close()

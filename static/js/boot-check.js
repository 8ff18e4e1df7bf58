// A classic script that runs before the page's modules. If they cannot load (a file missing from
// the server, a broken file), the page says which and why instead of "Starting…" forever.
// main.js sets <html data-app="started"> once all its modules have loaded.
(() => {
  const html = document.documentElement;
  const base = document.currentScript.src;
  const MODULES = ["main.js", "pad.js", "model.js", "ui.js", "automation.js"];
  const GIVE_UP_MS = 15_000; // no module ran by then: something is wrong

  async function report(why) {
    if (html.dataset.app || html.dataset.state === "error") return;
    let detail = why;
    for (const name of MODULES) {
      const url = new URL(name, base);
      try {
        const r = await fetch(url, { method: "HEAD", cache: "no-store" });
        if (!r.ok) {
          detail = `${url.pathname.slice(1)} could not be loaded: HTTP ${r.status} ${r.statusText}`.trim();
          break;
        }
      } catch (err) {
        detail = `${url.pathname.slice(1)} could not be loaded: ${err.message}`;
        break;
      }
    }
    if (html.dataset.app) return;
    html.dataset.state = "error";
    const box = document.querySelector('[data-testid="error"]');
    box.querySelector(".error-reason").textContent = `The page's code did not start: ${detail}.`;
    box.hidden = false;
    box.querySelector('[data-testid="retry"]').addEventListener("click", () => location.reload());
    document.querySelector('[data-testid="status"] .status-text').textContent = "Error";
  }

  window.addEventListener(
    "error",
    (e) => {
      if (e.target instanceof HTMLScriptElement) report("a script failed to load");
    },
    true,
  );
  setTimeout(() => report(`nothing ran within ${GIVE_UP_MS / 1000} s`), GIVE_UP_MS);
})();

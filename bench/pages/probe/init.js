// Installed before any of the page's own code (add_init_script) by bench.page_bench and
// bench.tune_bench: window.__bench records ready/error, the pad's first usable frame, long tasks,
// layout shifts, when the app is kept offline, and the worker's Python time of each result.
(() => {
  const b = {
    readyAt: null,
    errorAt: null,
    padHandlersAt: null,
    padUsableAt: null,
    offlineAt: null,
    offline: null,
    longTasks: [],
    longTaskSupported: true,
    layoutShifts: [],
    layoutShiftSupported: true,
    workerMs: [],
    workerLive: [],
  };
  window.__bench = b;
  const keep = (entries) => {
    for (const e of entries) b.longTasks.push({ start: e.startTime, duration: e.duration });
  };
  try {
    b.observer = new PerformanceObserver((list) => keep(list.getEntries()));
    b.observer.observe({ type: "longtask", buffered: true });
  } catch {
    b.longTaskSupported = false;
  }
  b.takeLongTasks = () => {
    if (b.observer) keep(b.observer.takeRecords());
    return b.longTasks;
  };

  const shifts = (entries) => {
    for (const e of entries) {
      b.layoutShifts.push({ start: e.startTime, value: e.value, input: e.hadRecentInput });
    }
  };
  try {
    b.shiftObserver = new PerformanceObserver((list) => shifts(list.getEntries()));
    b.shiftObserver.observe({ type: "layout-shift", buffered: true });
  } catch {
    b.layoutShiftSupported = false;
  }
  b.takeLayoutShifts = () => {
    if (b.shiftObserver) shifts(b.shiftObserver.takeRecords());
    return b.layoutShifts;
  };

  new MutationObserver(() => {
    const { state, offline } = document.documentElement.dataset;
    if ((state === "ready" || state === "error") && b[`${state}At`] === null) {
      b[`${state}At`] = performance.now();
      console.info(`__bench:${state}`);
    }
    if (offline && b.offlineAt === null) [b.offlineAt, b.offline] = [performance.now(), offline];
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-state", "data-offline"] });

  const addEventListener = EventTarget.prototype.addEventListener;
  EventTarget.prototype.addEventListener = function (type, ...rest) {
    if (
      type === "pointerdown" &&
      b.padHandlersAt === null &&
      this instanceof HTMLCanvasElement &&
      this.dataset.testid === "pad"
    )
      b.padHandlersAt = performance.now();
    return addEventListener.call(this, type, ...rest);
  };
  const frame = () => {
    const pad = document.querySelector('[data-testid="pad"]');
    if (pad && b.padHandlersAt !== null && pad.checkVisibility() && pad.getBoundingClientRect().width > 0) {
      b.padUsableAt = performance.now();
    } else if (pad || (b.readyAt === null && b.errorAt === null)) {
      // the bare page has no pad
      requestAnimationFrame(frame);
    }
  };
  requestAnimationFrame(frame);

  const NativeWorker = window.Worker;
  window.Worker = class extends NativeWorker {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        if (e.data && e.data.type === "result" && typeof e.data.ms === "number") {
          b.workerMs.push(e.data.ms);
          b.workerLive.push(Boolean(e.data.live));
        }
      });
    }
  };
})();

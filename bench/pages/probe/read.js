// page.evaluate by bench.page_bench once a visit has settled: what the init script recorded, plus
// the navigation's own marks and the worker's timings.
() => {
  const b = window.__bench,
    app = window.digitApp || window.bareApp;
  const nav = performance.getEntriesByType("navigation")[0];
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  return {
    readyAt: b.readyAt,
    errorAt: b.errorAt,
    padHandlersAt: b.padHandlersAt,
    padUsableAt: b.padUsableAt,
    offlineAt: b.offlineAt,
    offline: b.offline,
    timeOrigin: performance.timeOrigin,
    longTaskSupported: b.longTaskSupported,
    longTasks: b.takeLongTasks().slice(),
    layoutShiftSupported: b.layoutShiftSupported,
    layoutShifts: b.takeLayoutShifts().slice(),
    domContentLoaded: nav?.domContentLoadedEventStart ?? null,
    firstContentfulPaint: fcp?.startTime ?? null,
    workerTimings: app?.timings ? app.timings : null,
    errorText: document.querySelector('[data-testid="error"]')?.textContent.trim() || null,
    userAgent: navigator.userAgent,
  };
};

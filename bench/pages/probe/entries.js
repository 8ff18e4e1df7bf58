// page.evaluate / worker.evaluate by bench.page_bench (in the page, its worker or the service
// worker): Resource Timing; start is absolute (ms since 1970) to compare them.
() =>
  performance
    .getEntries()
    .filter((e) => e.entryType === "navigation" || e.entryType === "resource")
    .map((e) => ({
      url: e.name,
      start: performance.timeOrigin + e.startTime,
      transfer: e.transferSize,
      encoded: e.encodedBodySize,
      decoded: e.decodedBodySize,
      viaServiceWorker: e.workerStart > 0,
    }));

// page.evaluate by bench.train_page_bench: the browser's own measure of the page's memory
// (performance.measureUserAgentSpecificMemory, workers included), when the page may use it: only a
// cross-origin isolated page may. Else {available: false, why}.
async () => {
  if (!self.crossOriginIsolated) return { available: false, why: "the page is not cross-origin isolated (no COEP)" };
  if (!performance.measureUserAgentSpecificMemory) return { available: false, why: "not in this browser" };
  const m = await performance.measureUserAgentSpecificMemory();
  return { available: true, bytes: m.bytes, breakdown: m.breakdown.map((b) => ({ bytes: b.bytes, types: b.types })) };
};

// The bare page (bench.page_bench): Pyodide + NumPy in a module worker, nothing else.
const html = document.documentElement;
const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
let answered = null;
const bareApp = {
  predictTimes: [],
  timings: null,
  /** One round trip of a side*side Uint8Array (different every time), transferred like the app's. */
  predict(i, side) {
    return new Promise((resolve) => {
      const pixels = new Uint8Array(side * side);
      pixels.fill(255, i % 1000, (i % 1000) + 2000);
      const sent = performance.now();
      answered = () => {
        bareApp.predictTimes.push(performance.now() - sent);
        resolve();
      };
      worker.postMessage({ type: "predict", pixels }, [pixels.buffer]);
    });
  },
};
window.bareApp = bareApp;
worker.addEventListener("message", (e) => {
  if (e.data.type === "ready") {
    bareApp.timings = e.data.timings;
    html.dataset.state = "ready";
  } else if (e.data.type === "result") answered();
  else {
    console.error(e.data.message);
    html.dataset.state = "error";
  }
});
worker.addEventListener("error", (e) => {
  console.error(e.message);
  html.dataset.state = "error";
});

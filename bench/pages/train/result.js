// page.evaluate by bench.train_page_bench once the run has ended: what init.js recorded, with the main
// thread's long tasks (the benches' bench/pages/probe/init.js).
() => ({ ...window.__train, longTasks: __bench.takeLongTasks(), longTaskSupported: __bench.longTaskSupported });

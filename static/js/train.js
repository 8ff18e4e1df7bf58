// The "Train your own" card: a network trained from scratch on MNIST in a second Python worker
// (trainer.js, train-worker.js), watched as it learns (train-draw.js draws), then drawn on.
//
// The card opens and closes like the Inside view (remembered in localStorage). Opening it the first
// time boots the training worker and fetches MNIST (a progress bar); the settings' defaults come
// from Python (the worker's answer), never written here. Each finished epoch, each pause and the
// end keep the network on the device (teach.js keepTrained -> personal.js -> store.js), so closing
// the tab loses nothing kept; at a pause or the end, a network in use is read with again at once.
// <html data-train="open|closed" data-training="idle|loading|running|paused|done|error">;
// [data-testid=train-accuracy] data-value (0..1, the last test accuracy), [data-testid=train-loss]
// data-last (the last batch's loss); digitApp.training (automation.js lists it).

const $ = (selector, root = document) => root.querySelector(selector);
const html = document.documentElement;
const OPEN_KEY = "digit-app.train";
const PICTURES = 64; // the first layer's units drawn (at most)
const MISTAKES = 8; // test digits it reads wrong, shown
const RATE_WINDOW_MS = 3000; // images/s and the time left from the last few seconds

const pct = (v) => `${(100 * v).toFixed(1)}%`;
function clock(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, "0")}`;
}
/** A .npz's bytes from the worker's answer (Uint8Array, ArrayBuffer or {bytes}). */
function asBytes(v) {
  const b = v?.bytes ?? v;
  return b instanceof Uint8Array ? b : new Uint8Array(b);
}

export function installTraining({ predictor, teaching, hooks }) {
  const card = $('[data-testid="train-card"]');
  const toggle = $('[data-testid="train-open"]');
  const form = $('[data-testid="train-settings"]');
  const hidden = $('[data-testid="train-hidden"]');
  const lr = $('[data-testid="train-lr"]');
  const batch = $('[data-testid="train-batch"]');
  const epochs = $('[data-testid="train-epochs"]');
  const augment = $('[data-testid="train-augment"]');
  const start = $('[data-testid="train-start"]');
  const pause = $('[data-testid="train-pause"]');
  const cancel = $('[data-testid="train-cancel"]');
  const message = $('[data-testid="train-message"]');
  const data = $('[data-testid="train-data"]');
  const live = $('[data-testid="train-live"]');
  const summary = $('[data-testid="train-summary"]');
  const progressText = $('[data-testid="train-progress"]');
  const accuracyOut = $('[data-testid="train-accuracy"]');
  const lossOut = $('[data-testid="train-loss"]');
  const weights = $('[data-testid="train-weights"]');
  const mistakesList = $('[data-testid="train-mistakes"]');
  const use = $('[data-testid="train-use"]');
  const exportButton = $('[data-testid="export-trained"]');
  let draw = null; // train-draw.js, loaded with the trainer (not with the page)
  let chart = null; // its LossChart

  let trainer = null; // trainer.js's Trainer, once the card was first opened
  let opening = null; // the promise of its open()
  let defaults = null; // the settings Python proposes
  let run = null; // the run under way or last: {settings, batches, losses, accuracy, seen, elapsedMs, rate}
  let keeping = Promise.resolve(); // the network being kept (one at a time, in order)
  const info = {
    state: "idle",
    settings: null,
    losses: [],
    accuracy: [],
    lastAccuracy: null,
    lastLoss: null,
    imagesPerSecond: null,
    kept: null,
  };
  hooks.training = info;

  const say = (text, warning = false) => {
    message.textContent = text;
    message.classList.toggle("warning", warning);
  };

  function setState(state) {
    info.state = state;
    html.dataset.training = state;
    const busy = state === "running" || state === "paused" || state === "loading";
    for (const field of form.elements) field.disabled = busy || !defaults;
    start.disabled = busy || !defaults;
    start.textContent = run && !busy ? "Start again" : "Start";
    // While a run is under way its settings are one line; the form comes back once it has ended.
    form.hidden = busy && Boolean(run);
    summary.hidden = !form.hidden;
    pause.disabled = state !== "running" && state !== "paused";
    pause.textContent = state === "paused" ? "Resume" : "Pause";
    cancel.disabled = state !== "running" && state !== "paused";
    refreshUse();
  }
  function refreshUse() {
    const kept = Boolean(teaching.trained());
    use.disabled = !kept || info.state === "running" || html.dataset.model === "trained";
    exportButton.disabled = !kept;
  }
  new MutationObserver(refreshUse).observe(html, { attributes: true, attributeFilter: ["data-model"] });

  // ---- open and close (remembered), the worker booted on first use ----

  const isOpen = () => !card.hidden;
  function setOpen(open, remember = true) {
    card.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    html.dataset.train = open ? "open" : "closed";
    if (remember) {
      try {
        localStorage.setItem(OPEN_KEY, open ? "open" : "closed");
      } catch {
        /* not remembered */
      }
    }
    if (open && predictor.state === "ready") ensureTrainer();
    if (open) {
      chart?.draw();
      showKept();
    }
  }
  toggle.addEventListener("click", () => setOpen(!isOpen()));
  $(".train-close", card).addEventListener("click", () => {
    setOpen(false);
    toggle.focus();
  });
  // Remembered open: the card shows at once, the training worker boots once the pad's is ready (the
  // two would share the device's cores while the pad's Python loads).
  predictor.addEventListener("ready", () => {
    refreshUse();
    showKept();
    if (isOpen()) ensureTrainer();
  });
  let remembered = "closed";
  try {
    remembered = localStorage.getItem(OPEN_KEY) || "closed";
  } catch {
    /* storage unavailable: closed */
  }
  setState("idle");
  setOpen(remembered === "open", false);

  function ensureTrainer() {
    if (!opening) {
      setState("loading");
      say("Starting Python for training…");
      opening = boot().catch((err) => {
        opening = null; // opening the card again tries again
        data.hidden = true;
        setState("error");
        say(`Training could not start: ${err.message}`, true);
      });
    }
    return opening;
  }

  async function boot() {
    // Loaded on first use, not with the page: the client, its worker, and the drawing.
    const [{ Trainer }, drawing] = await Promise.all([import("./trainer.js"), import("./train-draw.js")]);
    draw = drawing;
    chart = new draw.LossChart($('[data-testid="train-chart"]'));
    trainer = new Trainer();
    for (const type of ["status", "data-progress", "started", "progress", "paused", "done", "cancelled", "error"]) {
      trainer.addEventListener(type, (e) => on[type](e.detail || {}));
    }
    data.hidden = false;
    const ready = await trainer.open();
    data.hidden = true;
    applyDefaults(ready?.defaults);
    setState("idle");
    say(
      ready?.train
        ? `Ready: ${ready.train.toLocaleString("en")} training digits and ${ready.test.toLocaleString("en")} to test on.`
        : "Ready.",
    );
  }

  /** Settings (digitnet.scratch.Settings as a dict: the defaults Python proposes, or a run's) into the
   * form. Without them the fields stay empty, and a field left empty takes Python's default. */
  function applyDefaults(d) {
    defaults = d || {};
    if (!d) return;
    const layers = Array.isArray(d.hidden) ? d.hidden.join("-") : String(d.hidden);
    if (![...hidden.options].some((o) => o.value === layers)) hidden.append(new Option(layers, layers));
    hidden.value = layers;
    lr.value = String(d.lr);
    batch.value = String(d.batch);
    epochs.value = String(d.epochs);
    augment.checked = Boolean(d.augment);
  }

  /** The form's settings; an empty field is left out (Python's default). Python checks them all. */
  function settings() {
    const out = { augment: augment.checked };
    if (defaults?.hidden || hiddenChosen) out.hidden = hidden.value.split("-").map(Number);
    for (const [name, field] of [
      ["lr", lr],
      ["batch", batch],
      ["epochs", epochs],
    ]) {
      if (field.value.trim() !== "") out[name] = Number(field.value);
    }
    return out;
  }

  let hiddenChosen = false; // the person picked the hidden layers (else Python's default, if not known)
  hidden.addEventListener("change", () => {
    hiddenChosen = true;
  });

  // ---- the buttons ----

  start.addEventListener("click", async () => {
    if (start.disabled) return;
    await ensureTrainer();
    if (!defaults) return;
    say("Starting…");
    run = null;
    setState("running");
    try {
      await trainer.start(settings());
    } catch (err) {
      // A setting Python refuses (scratch.Settings.from_json names it): a hint, not a failure.
      setState("idle");
      say(err.message, true);
    }
  });
  pause.addEventListener("click", () => {
    if (info.state === "running") {
      pause.disabled = true; // until the worker says it paused
      trainer.pause();
    } else if (info.state === "paused") {
      setState("running");
      say("Learning…");
      trainer.resume();
    }
  });
  cancel.addEventListener("click", () => {
    cancel.disabled = pause.disabled = true;
    trainer.cancel();
  });
  use.addEventListener("click", async () => {
    try {
      await teaching.use("trained");
      say("The pad reads with the network you trained.");
    } catch (err) {
      say(`The network you trained could not be used: ${err.message}`, true);
    }
  });
  exportButton.addEventListener("click", () => {
    const kept = teaching.trained();
    if (!kept) return;
    const name = `trained-${(kept.about?.layers || ["net"]).join("-")}.npz`;
    const url = URL.createObjectURL(new Blob([kept.bytes], { type: "application/octet-stream" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });

  // ---- what the worker says ----

  const on = {
    status: (d) => {
      if (info.state === "loading") say(d.message);
    },
    "data-progress": ({ loaded, total }) => {
      const bar = $("progress", data);
      const text = $(".train-data-text", data);
      data.hidden = false;
      if (total) bar.value = loaded / total;
      else bar.removeAttribute("value");
      text.textContent = `Getting MNIST… ${(loaded / 1e6).toFixed(1)}${total ? ` of ${(total / 1e6).toFixed(1)}` : ""} MB`;
    },
    started: (d) => {
      run = { settings: d.settings, batches: d.batches, losses: [], accuracy: [], seen: 0, elapsedMs: 0, rate: [] };
      info.settings = d.settings;
      info.losses = run.losses;
      applyDefaults(d.settings); // as Python normalised them: what this run uses
      const t = d.settings;
      summary.textContent =
        `784-${t.hidden.join("-")}-10, learning rate ${t.lr}, batches of ${t.batch}, ${t.epochs} ` +
        `epoch${t.epochs === 1 ? "" : "s"}${t.augment ? ", augmented" : ""}.`;
      info.accuracy = [];
      info.lastAccuracy = info.lastLoss = null;
      accuracyOut.dataset.value = lossOut.dataset.last = "";
      accuracyOut.textContent = lossOut.textContent = "–";
      live.hidden = false;
      chart.reset(d.batches, d.batches_per_epoch);
      mistakesList.replaceChildren();
      mistakesList.closest("figure").hidden = true;
      setState("running");
      say("Learning…");
    },
    progress: (d) => {
      if (!run) return;
      const finished = d.accuracy.length > run.accuracy.length;
      run.losses.push(...d.losses);
      run.accuracy = d.accuracy;
      run.seen = d.seen;
      run.elapsedMs = d.elapsedMs;
      run.epochsTotal = d.epochs;
      run.rate.push([d.elapsedMs, d.seen, run.losses.length]);
      while (run.rate.length > 2 && d.elapsedMs - run.rate[1][0] > RATE_WINDOW_MS) run.rate.shift();
      chart.add(d.losses, d.accuracy);
      showNumbers(d);
      if (d.diverged) return diverged(d.diverged);
      if (finished && !d.done) {
        const a = d.accuracy.at(-1);
        say(`Epoch ${d.accuracy.length} of ${d.epochs}: it reads ${pct(a)} of the test digits right.`);
        look();
        keep(false);
      }
    },
    paused: () => {
      setState("paused");
      say("Paused. Draw on it now, or resume.");
      look();
      keep(true);
    },
    done: (d) => {
      if (d.diverged) return diverged(d.diverged);
      setState("done");
      const a = run?.accuracy.at(-1);
      say(`Done${a === undefined ? "" : `: ${pct(a)} of the test digits read right`}. Draw on it to try it.`);
      look();
      keep(true);
    },
    cancelled: () => {
      setState("idle");
      say(
        teaching.trained()
          ? "Cancelled. The network kept at the last finished epoch is still there."
          : "Cancelled before an epoch finished: nothing was kept.",
      );
    },
    error: (d) => {
      const refused = info.state === "running" && !run; // a setting refused at the start: a hint
      setState(refused ? "idle" : "error");
      say(d.message, true);
    },
  };

  function diverged(text) {
    setState("error");
    say(`${text} ${teaching.trained() ? "The network kept before is still there." : ""}`.trim(), true);
  }

  function showNumbers(d) {
    const last = d.losses.at(-1);
    if (last !== undefined) {
      info.lastLoss = last;
      lossOut.dataset.last = String(last);
      lossOut.textContent = last.toFixed(3);
    }
    if (d.accuracy.length) {
      const a = d.accuracy.at(-1);
      info.accuracy = d.accuracy.slice();
      info.lastAccuracy = a;
      accuracyOut.dataset.value = String(a);
      accuracyOut.textContent = pct(a);
    }
    const [t0, s0, b0] = run.rate[0];
    const dt = d.elapsedMs - t0;
    const rate = dt > 0 ? ((d.seen - s0) * 1000) / dt : 0; // images/s over the last few seconds
    const batchesPerMs = dt > 0 ? (run.losses.length - b0) / dt : 0;
    info.imagesPerSecond = rate;
    $(".train-rate", live).textContent = rate ? Math.round(rate).toLocaleString("en") : "–";
    const left = batchesPerMs ? (run.batches - run.losses.length) / batchesPerMs : NaN;
    $(".train-time", live).textContent = clock(d.elapsedMs);
    $(".train-left", live).textContent = Number.isFinite(left) ? `${clock(left)} left` : "";
    progressText.textContent =
      `Epoch ${Math.min(d.accuracy.length + 1, d.epochs)} of ${d.epochs}: ${d.batch} of ` +
      `${d.batches_per_epoch} batches, ${d.seen.toLocaleString("en")} images seen in all`;
  }

  /** The first layer's weights and the test digits it gets wrong, now. */
  async function look() {
    try {
      const pictures = await trainer.pictures(PICTURES);
      const values = pictures?.data ?? pictures;
      const n = pictures?.n ?? values.length / 784;
      draw.paintWeights(weights, values, n);
      weights.setAttribute(
        "aria-label",
        `The first layer's weights after ${run?.accuracy.length ?? 0} epochs: ${n} pictures of 28 by 28 pixels`,
      );
      const { list, images } = await trainer.mistakes(MISTAKES);
      const pixels = list.length ? images.length / list.length : 0;
      mistakesList.replaceChildren(
        ...list.map((m, i) => {
          const canvas = document.createElement("canvas");
          draw.paintDigit(canvas, images.subarray(i * pixels, (i + 1) * pixels));
          canvas.setAttribute("aria-hidden", "true");
          const li = document.createElement("li");
          const read = document.createElement("span");
          read.className = "train-read";
          read.textContent = `read ${m.read}`;
          const is = document.createElement("span");
          is.className = "train-is";
          is.textContent = `is ${m.label}`;
          li.append(canvas, read, is);
          return li;
        }),
      );
      mistakesList.closest("figure").hidden = list.length === 0;
    } catch (err) {
      console.warn("the training worker's pictures could not be shown", err);
    }
  }

  /** Keep the network trained so far (reload: a network in use is read with again). In order, one
   * at a time: an epoch's network never overwrites a later one. */
  function keep(reload) {
    keeping = keeping.then(async () => {
      try {
        const bytes = asBytes(await trainer.modelBytes());
        const about = {
          layers: [784, ...run.settings.hidden, 10],
          accuracy: run.accuracy.at(-1) ?? null, // after the last finished epoch
          epoch: run.accuracy.length,
          batches: run.losses.length,
          settings: run.settings,
          saved: Date.now(),
        };
        const said = await teaching.keepTrained(bytes, about, reload);
        if (said) say(said.text, said.warning);
      } catch (err) {
        say(`The network could not be kept: ${err.message}`, true);
      }
      refreshUse();
      showKept();
    });
    return keeping;
  }

  /** Under the buttons, what is kept (also after a reload, before any run). */
  function showKept() {
    const kept = teaching.trained();
    info.kept = kept?.about ?? null;
    use.title = kept?.about
      ? `${kept.about.layers.join("-")}, ${kept.about.accuracy == null ? "" : `${pct(kept.about.accuracy)} on the test digits`}`
      : "";
    if (kept?.about && !run && info.state === "idle" && !message.textContent) {
      const a = kept.about.accuracy;
      say(
        `Kept from before: a ${kept.about.layers.join("-")} network${a == null ? "" : ` that reads ${pct(a)} of the test digits right`}.`,
      );
    }
  }

  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => chart?.draw());
  return { open: setOpen };
}

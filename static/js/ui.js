// What the page shows: the status line, errors, the top digit, the bars, the preview of
// the image the network sees (its side comes from the worker: digitnet.sizes.SIDE).

const $ = (selector, root = document) => root.querySelector(selector);
const html = document.documentElement;

export class View {
  constructor() {
    this.status = $('[data-testid="status"] .status-text');
    this.loadStage = $(".load-stage");
    this.loadBytes = $(".load-bytes");
    this.loadBar = $(".load-bar");
    this.errorBox = $('[data-testid="error"]');
    this.digit = $('[data-testid="prediction"]');
    this.prompt = $('[data-testid="prompt"]');
    this.confidence = $(".confidence");
    this.thinnerPen = $('[data-testid="thinner-pen"]');
    this.announce = $('[data-testid="announce"]');
    const bar = (row) => ({ row, fill: $(".bar-fill", row), value: $(".bar-value", row) });
    this.bars = [...document.querySelectorAll('[data-testid^="prob-"]')]
      .filter((row) => /^prob-\d+$/.test(row.dataset.testid))
      .map(bar);
    this.notDigitBar = bar($('[data-testid="prob-none"]')); // the 11th output: the bars add up to 100%
    this.preview = $('[data-testid="preview"]').getContext("2d");
    this.undo = $('[data-testid="undo"]');
    this.redo = $('[data-testid="redo"]');
    this.clear = $('[data-testid="clear"]');
    // The pen preview: a dot as wide as the pen draws on the pad, so it follows the pad's height.
    this.penPreview = $(".pen-preview");
    new ResizeObserver(([entry]) => {
      this.penPreview.style.setProperty("--pad-side", `${entry.contentRect.height}px`);
    }).observe($('[data-testid="pad"]'));
    this.lastAnnounced = "";
    this.announceTimer = 0;
    this.showNothing();
  }

  /** Sizes from the worker ({side, classes, ...}): the preview canvas is side x side. */
  setSizes({ side, classes }) {
    if (classes !== this.bars.length) {
      console.warn(`the page has ${this.bars.length} bars for ${classes} classes`);
    }
    this.preview.canvas.width = this.preview.canvas.height = side;
  }

  setState(state) {
    html.dataset.state = state;
  }

  setStatus(text) {
    this.status.textContent = text;
  }

  /** A loading stage ("Getting the network ready…"): the panel over the pad (the status pill stays short). */
  setLoading(stage) {
    this.setStatus("Loading…");
    this.loadStage.textContent = stage;
  }

  /** Bytes of the boot's downloads so far, as they cross the network; total 0 when unknown. With
   * the time left once the recent rate says something: "2.1 of 7.3 MB · about 4 s left". */
  setProgress(loaded, total) {
    const left = this.#timeLeft(loaded, total);
    if (total > 0) {
      this.loadBar.value = Math.min(1, loaded / total);
      this.loadBytes.textContent = `${formatMB(loaded)} of ${formatMB(total)} MB${left ? ` · ${left}` : ""}`;
    } else {
      this.loadBar.removeAttribute("value"); // indeterminate
      this.loadBytes.textContent = `${formatMB(loaded)} MB`;
    }
  }

  showError(message) {
    this.setState("error");
    this.setStatus("Error");
    $(".error-reason", this.errorBox).textContent = message;
    this.errorBox.hidden = false;
    this.prompt.textContent = "No prediction";
  }

  #rate = []; // [[ms, bytes], ...]: the progress of the last RATE_MS or so

  /** "about 4 s left" at the rate of the last RATE_MS (once RATE_MIN_MS of it has been seen), or "". */
  #timeLeft(loaded, total) {
    const now = performance.now();
    const seen = this.#rate;
    if (seen.length && loaded < seen[seen.length - 1][1]) seen.length = 0; // loading again
    seen.push([now, loaded]);
    while (seen.length > 2 && now - seen[1][0] >= RATE_MS) seen.shift();
    const [since, from] = seen[0];
    if (!(total > loaded) || now - since < RATE_MIN_MS || loaded <= from) return "";
    const seconds = ((total - loaded) * (now - since)) / (loaded - from) / 1000;
    if (seconds < 10) return `about ${Math.max(1, Math.ceil(seconds))} s left`;
    if (seconds < 60) return `about ${Math.ceil(seconds / 5) * 5} s left`;
    return `about ${Math.round(seconds / 60)} min left`;
  }

  /** Loading again after an error (Try again). */
  clearError() {
    this.errorBox.hidden = true;
    this.setState("loading");
    this.setLoading("Starting again…");
    this.setProgress(0, 0);
  }

  /** While the network loads: what the pad holds will be read once it is ready. */
  showWaiting(hasInk) {
    this.prompt.textContent = hasInk ? "Read as soon as the network is ready…" : "Draw a digit";
  }

  /** Enable Undo/Redo/Clear only when there is something to undo, redo or clear; a button that
   * had the focus and goes disabled hands it to the next sensible one (never to <body>). */
  setEditState({ canUndo, canRedo, canClear }) {
    const focused = document.activeElement;
    this.undo.disabled = !canUndo;
    this.redo.disabled = !canRedo;
    this.clear.disabled = !canClear;
    if (focused?.disabled) {
      const next =
        {
          [this.undo.dataset.testid]: [this.redo, this.clear],
          [this.redo.dataset.testid]: [this.undo, this.clear],
          [this.clear.dataset.testid]: [this.undo, this.redo],
        }[focused.dataset.testid] || [];
      const target = next.find((b) => !b.disabled) || $('[data-testid="brush"]');
      target.focus({ focusVisible: focused.matches(":focus-visible") });
    }
  }

  /** Nothing to read (empty pad, a lone dot, not ready yet): no digit, empty bars, the prompt. */
  showNothing() {
    this.digit.textContent = "";
    this.digit.dataset.verdict = "empty";
    delete this.digit.dataset.value;
    this.prompt.textContent = "Draw a digit";
    this.prompt.hidden = false;
    this.confidence.hidden = true;
    this.confidence.textContent = "";
    delete this.digit.dataset.hint;
    for (const [d, { row, fill, value }] of [...this.bars, this.notDigitBar].entries()) {
      row.dataset.prob = "0";
      setMeter(row, d < this.bars.length ? d : "not a digit", 0);
      row.classList.remove("top");
      row.removeAttribute("aria-current");
      fill.style.transform = "scaleX(0)";
      value.textContent = "";
    }
    this.preview.clearRect(0, 0, this.preview.canvas.width, this.preview.canvas.height);
    this.preview.canvas.closest(".preview").dataset.empty = "true"; // "Your drawing appears here"
  }

  /** Offer a thinner pen (`pen`, a fraction of the pad's height) that suits the characters drawn,
   * or nothing (0). */
  offerPen(pen) {
    this.thinnerPen.hidden = !(pen > 0);
    if (pen > 0) this.thinnerPen.dataset.pen = String(pen);
    else delete this.thinnerPen.dataset.pen;
  }

  /** The pen preview beside the slider: a dot of `pen` (a fraction of the pad's height) in a box as
   * wide as the thickest pen, `max` (the box never changes size: nothing moves). */
  showPen(pen, max) {
    this.penPreview.style.setProperty("--pen", String(pen));
    this.penPreview.style.setProperty("--pen-max", String(max));
  }

  /**
   * @param {{probs: Float32Array, image: Float32Array, verdict: string, reason: string, notDigit: number}} result
   *        probs (classes,) of each digit; image (side * side,) the network's input in [0, 1];
   *        verdict "digit" | "not-digit"; reason why not (REASON_TEXT); notDigit its probability
   */
  showPrediction({ probs, image, verdict, reason, notDigit, value, character }) {
    const top = argmax(probs);
    // A number (value "2026"): the bars and the preview are its selected character's.
    const isDigit = character ? character.verdict === "digit" : verdict === "digit";
    const hint = HINTS.includes(reason); // advice on how to draw, not a failure of the drawing
    this.digit.dataset.verdict = verdict;
    if (hint && !character) this.digit.dataset.hint = reason;
    else delete this.digit.dataset.hint;
    if (value) this.digit.dataset.value = value;
    else delete this.digit.dataset.value;
    this.digit.textContent = value || (isDigit ? String(top) : hint ? "✎" : "✗");
    this.prompt.hidden = true;
    this.confidence.hidden = false;
    const why =
      `${REASON_TEXT[reason] || REASON_TEXT["not-a-digit"]}` +
      (reason === "not-a-digit" && notDigit > 0 ? ` (${percent(notDigit)} sure)` : ""); // the network's own say
    this.confidence.textContent = character
      ? `Character ${character.index + 1} of ${character.count}: ` +
        (isDigit ? `${top}, ${confidenceText(probs[top])}` : why.toLowerCase())
      : isDigit
        ? confidenceText(probs[top])
        : why;
    this.bars.forEach(({ row, fill, value }, d) => {
      const p = probs[d];
      row.dataset.prob = String(p);
      setMeter(row, d, p);
      row.classList.toggle("top", isDigit && d === top);
      if (isDigit && d === top) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
      fill.style.transform = `scaleX(${Math.min(1, Math.max(0, p))})`;
      value.textContent = percent(p);
    });
    const none = this.notDigitBar;
    none.row.dataset.prob = String(notDigit);
    setMeter(none.row, "not a digit", notDigit);
    none.row.classList.toggle("top", !isDigit && reason === "not-a-digit");
    none.fill.style.transform = `scaleX(${Math.min(1, Math.max(0, notDigit))})`;
    none.value.textContent = percent(notDigit);
    this.drawPreview(image);
  }

  /** The network's input, white ink on black like MNIST. */
  drawPreview(image) {
    const side = this.preview.canvas.width;
    const img = this.preview.createImageData(side, side);
    for (let i = 0; i < image.length; i++) {
      const v = Math.round(Math.min(1, Math.max(0, image[i])) * 255);
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
      img.data[4 * i + 3] = 255;
    }
    this.preview.putImageData(img, 0, 0);
    this.preview.canvas.closest(".preview").dataset.empty = "false";
  }

  /** Colour the preview by which pixels pushed the answer (values: Float32Array, one per pixel):
   * red up, blue down, full colour from WHY_PERCENTILE of the pixels' sizes up (a robust scale: one
   * strong pixel does not leave the rest pale); the legend and the caption say so. */
  paintWhy(values) {
    const side = this.preview.canvas.width;
    const img = this.preview.getImageData(0, 0, side, side);
    const sizes = Array.from(values, Math.abs)
      .filter((v) => v > 0)
      .sort((a, b) => a - b);
    const top = sizes.length ? sizes[Math.floor((sizes.length - 1) * WHY_PERCENTILE)] : 1;
    values.forEach((v, i) => {
      const a = Math.min(1, Math.abs(v) / top);
      const [r, g, b] = v > 0 ? [255, 60, 60] : [70, 120, 255];
      const j = 4 * i;
      img.data[j] = Math.round(img.data[j] * (1 - a) + r * a);
      img.data[j + 1] = Math.round(img.data[j + 1] * (1 - a) + g * a);
      img.data[j + 2] = Math.round(img.data[j + 2] * (1 - a) + b * a);
    });
    this.preview.putImageData(img, 0, 0);
    this.preview.canvas.dataset.why = "shown";
  }

  /** The preview grows and says what its colours mean while "Show why" is on. */
  setWhy(on) {
    const figure = this.preview.canvas.closest(".preview");
    figure.classList.toggle("why-on", on);
    $(".why-legend", figure).hidden = !on;
    $(".preview-caption", figure).textContent = on ? "Why it answered" : "What the network sees";
    if (!on) delete this.preview.canvas.dataset.why; // the next result redraws the plain preview
  }

  /** Tell screen readers a settled result: after `delay` ms (a pen lifted between two strokes of
   * one digit says nothing), in words ("Looks like an 8, 97% sure.", "Not a digit."). */
  announceResult(result, delay = 0) {
    this.cancelAnnouncement();
    let text = "Draw a digit.";
    if (result?.value) {
      const unread = [...result.value].flatMap((c, i) => (c === "?" ? [i + 1] : []));
      text =
        `Reads ${result.value}.` +
        (unread.length ? ` Character ${unread.join(" and ")} ${unread.length > 1 ? "are" : "is"} not a digit.` : "");
    } else if (result && result.verdict === "digit") {
      const top = argmax(result.probs);
      text = `Looks like ${top === 8 ? "an" : "a"} ${top}, ${percent(result.probs[top])} sure.`;
    } else if (result && result.verdict === "not-digit") {
      text = `${REASON_TEXT[result.reason] || REASON_TEXT["not-a-digit"]}.`;
    }
    const say = () => {
      this.announceTimer = 0;
      if (text !== this.lastAnnounced) {
        this.announce.textContent = text;
        this.lastAnnounced = text;
      }
      this.onAnnounced?.();
    };
    if (delay > 0) this.announceTimer = setTimeout(say, delay);
    else say();
  }

  /** Drawing again: what was about to be said is no longer the answer. */
  cancelAnnouncement() {
    if (this.announceTimer) clearTimeout(this.announceTimer);
    this.announceTimer = 0;
  }

  get announcing() {
    return this.announceTimer !== 0;
  }
}

/** A bar as a meter: its value in percent and a name like "8: 97 percent". */
function setMeter(row, digit, p) {
  const pct = Math.round(Math.min(1, Math.max(0, p)) * 100);
  row.setAttribute("aria-valuenow", String(pct));
  row.setAttribute("aria-label", `${digit}: ${p > 0 && pct === 0 ? "less than 1" : pct} percent`);
}

/** Why a drawing is not read as a digit, in words (reasons from digitnet.predict.REASONS). */
const REASON_TEXT = {
  "not-a-digit": "Not a digit",
  "side-by-side": "One digit at a time",
  "too-small": "Draw it larger",
};

/** Reasons that are advice on how to draw (shown as a hint, not as a failure). */
const HINTS = ["side-by-side", "too-small"];

/** "Show why" colours fully from this quantile of the pixels' sizes up. */
const WHY_PERCENTILE = 0.95;

/** The digit with the highest probability (the first one on a tie). */
function argmax(probs) {
  let top = 0;
  for (let d = 1; d < probs.length; d++) if (probs[d] > probs[top]) top = d;
  return top;
}

/** The time left is estimated from the progress of the last RATE_MS, once RATE_MIN_MS has been seen. */
const RATE_MS = 5000;
const RATE_MIN_MS = 1500;

function formatMB(bytes) {
  return (bytes / 1e6).toFixed(1);
}

function percent(p) {
  if (p >= 0.995) return "100%";
  if (p > 0 && p < 0.005) return "<1%";
  return `${Math.round(p * 100)}%`;
}

function confidenceText(p) {
  if (p >= 0.9) return `${percent(p)} sure`;
  if (p >= 0.6) return `probably (${percent(p)})`;
  return `maybe? (${percent(p)})`;
}

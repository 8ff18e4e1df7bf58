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
    this.announce = $('[data-testid="announce"]');
    this.bars = Array.from(document.querySelectorAll('[data-testid^="prob-"]'), (row) => ({
      row,
      fill: $(".bar-fill", row),
      value: $(".bar-value", row),
    }));
    this.preview = $('[data-testid="preview"]').getContext("2d");
    this.undo = $('[data-testid="undo"]');
    this.redo = $('[data-testid="redo"]');
    this.clear = $('[data-testid="clear"]');
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

  /** A loading stage ("Loading Python…"): the panel over the pad (the status pill stays short). */
  setLoading(stage) {
    this.setStatus("Loading…");
    this.loadStage.textContent = stage;
  }

  /** Bytes of the boot's downloads so far; total 0 when unknown. */
  setProgress(loaded, total) {
    if (total > 0) {
      this.loadBar.value = Math.min(1, loaded / total);
      this.loadBytes.textContent = `${formatMB(loaded)} of ${formatMB(total)} MB`;
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

  /** Loading again after an error (Try again). */
  clearError() {
    this.errorBox.hidden = true;
    this.setState("loading");
    this.setLoading("Starting again…");
    this.setProgress(0, 0);
  }

  /** While Python loads: what the pad holds will be read once it is ready. */
  showWaiting(hasInk) {
    this.prompt.textContent = hasInk ? "Read as soon as Python is ready…" : "Draw a digit";
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
    this.prompt.textContent = "Draw a digit";
    this.prompt.hidden = false;
    this.confidence.hidden = true;
    this.confidence.textContent = "";
    for (const [d, { row, fill, value }] of this.bars.entries()) {
      row.dataset.prob = "0";
      setMeter(row, d, 0);
      row.classList.remove("top");
      row.removeAttribute("aria-current");
      fill.style.transform = "scaleX(0)";
      value.textContent = "";
    }
    this.preview.clearRect(0, 0, this.preview.canvas.width, this.preview.canvas.height);
  }

  /**
   * @param {{probs: Float32Array, image: Float32Array, verdict: string, reason: string, notDigit: number}} result
   *        probs (classes,) of each digit; image (side * side,) the network's input in [0, 1];
   *        verdict "digit" | "not-digit"; reason why not (REASON_TEXT); notDigit its probability
   */
  showPrediction({ probs, image, verdict, reason, notDigit }) {
    const top = argmax(probs);
    const isDigit = verdict === "digit";
    this.digit.dataset.verdict = verdict;
    this.digit.textContent = isDigit ? String(top) : "✗";
    this.prompt.hidden = true;
    this.confidence.hidden = false;
    this.confidence.textContent = isDigit
      ? confidenceText(probs[top])
      : `${REASON_TEXT[reason] || REASON_TEXT["not-a-digit"]}` +
        (reason === "not-a-digit" && notDigit > 0 ? ` (${percent(notDigit)} sure)` : ""); // the network's own say
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
  }

  /** Colour the preview by which pixels pushed the answer (values: Float32Array, one per pixel):
   * red up, blue down, each as strong as its share of the largest. */
  paintWhy(values) {
    const side = this.preview.canvas.width;
    const img = this.preview.getImageData(0, 0, side, side);
    const top = values.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-12);
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

  /** The plain preview again (the next result redraws it). */
  hideWhy() {
    delete this.preview.canvas.dataset.why;
  }

  /** Tell screen readers a settled result: after `delay` ms (a pen lifted between two strokes of
   * one digit says nothing), in words ("Looks like an 8, 97% sure.", "Not a digit."). */
  announceResult(result, delay = 0) {
    this.cancelAnnouncement();
    let text = "Draw a digit.";
    if (result && result.verdict === "digit") {
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

/** The digit with the highest probability (the first one on a tie). */
function argmax(probs) {
  let top = 0;
  for (let d = 1; d < probs.length; d++) if (probs[d] > probs[top]) top = d;
  return top;
}

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

// Drawing for the "Train your own" card (train.js wires it): the loss of every batch as a curve
// (each batch a faint mark, the smoothed loss a line, the test accuracy after each epoch as points on
// its own scale), the first layer's weights as 28x28 pictures, and MNIST digits. Every number comes
// from Python (the training worker); this file only draws them, by hand on canvases.

import { readColours } from "./inside-draw.js";

const SIDE = 28; // an MNIST image's side (the pictures' layout: every weight vector is one)
const GAP = 2; // device pixels between two pictures
const SKIP = 20; // batches left out of the loss scale's low end

/** Colours from the page's CSS (static/css/train.css), read at each draw: the scheme may change. */
function chartColours() {
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  return { text: v("--muted"), grid: v("--line"), raw: v("--train-raw"), line: v("--accent"), acc: v("--train-acc") };
}

export class LossChart {
  constructor(canvas) {
    this.canvas = canvas;
    this.reset(0, 0);
    this.frame = 0;
  }

  /** A new run: `total` batches in all, `perEpoch` of them an epoch. */
  reset(total, perEpoch) {
    this.total = total;
    this.perEpoch = perEpoch;
    this.losses = [];
    this.smooth = [];
    this.accuracy = [];
    this.ema = 0;
    this.weight = 0;
    this.highest = 0; // the largest loss; the least after the first SKIP batches (a lucky early one
    this.lowest = Number.POSITIVE_INFINITY; // would stretch the scale's low end)
    this.draw();
  }

  /** New batch losses, and the test accuracy after each finished epoch so far; drawn next frame. */
  add(losses, accuracy) {
    // Exponential moving average, debiased (the first batches are not pulled towards 0); about a
    // twentieth of an epoch wide.
    const width = Math.max(5, Math.round((this.perEpoch || 100) / 20));
    const alpha = 2 / (width + 1);
    for (const loss of losses) {
      if (!Number.isFinite(loss)) continue;
      this.ema = (1 - alpha) * this.ema + alpha * loss;
      this.weight = (1 - alpha) * this.weight + alpha;
      this.losses.push(loss);
      this.smooth.push(this.ema / this.weight);
      if (loss > 0) {
        this.highest = Math.max(this.highest, loss);
        if (this.losses.length > SKIP || this.lowest === Number.POSITIVE_INFINITY) {
          this.lowest = Math.min(this.lowest, loss);
        }
      }
    }
    this.accuracy = accuracy.slice();
    if (!this.frame) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.draw();
      });
    }
  }

  draw() {
    const canvas = this.canvas;
    const cssWidth = canvas.clientWidth;
    if (!cssWidth) return; // hidden: drawn when shown
    const dpr = window.devicePixelRatio || 1;
    const cssHeight = canvas.clientHeight || Math.round(cssWidth * 0.45);
    canvas.width = Math.round(cssWidth * dpr);
    canvas.height = Math.round(cssHeight * dpr);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssWidth, cssHeight);
    const c = chartColours();
    const box = { left: 40, right: cssWidth - 40, top: 8, bottom: cssHeight - 20 };
    const n = this.losses.length;
    const total = Math.max(this.total, n, 1);
    const x = (i) => box.left + ((box.right - box.left) * i) / total;

    // The loss on a log scale, whole decades.
    const some = this.highest > 0;
    const lo = some ? Math.max(-3, Math.floor(Math.log10(this.lowest))) : -2;
    const hi = some ? Math.min(2, Math.ceil(Math.log10(this.highest))) : 1;
    const top = Math.max(hi, lo + 1);
    const y = (v) => {
      const t = (Math.log10(Math.min(Math.max(v, 10 ** lo), 10 ** top)) - lo) / (top - lo);
      return box.bottom - t * (box.bottom - box.top);
    };
    ctx.font = "11px system-ui, sans-serif";
    ctx.lineWidth = 1;
    ctx.fillStyle = c.text;
    ctx.strokeStyle = c.grid;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (let d = lo; d <= top; d++) {
      const yy = Math.round(y(10 ** d)) + 0.5;
      line(ctx, box.left, yy, box.right, yy);
      ctx.fillText(d >= 0 ? String(10 ** d) : (10 ** d).toFixed(-d), box.left - 4, yy);
    }
    // Epochs: a faint line at each end, numbered below.
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    const epochs = this.perEpoch ? Math.round(total / this.perEpoch) : 0;
    const every = Math.max(1, Math.ceil(epochs / 10));
    for (let e = 1; e <= epochs; e++) {
      const xx = Math.round(x(e * this.perEpoch)) + 0.5;
      line(ctx, xx, box.top, xx, box.bottom);
      if (e % every === 0) ctx.fillText(`${e}`, xx, box.bottom + 4);
    }
    ctx.textAlign = "left";
    ctx.fillText("epoch", box.left, box.bottom + 4);

    // Each batch: a faint mark; many batches to a pixel: the column from their least to their most.
    const columns = new Map();
    for (let i = 0; i < n; i++) {
      const col = Math.round(x(i));
      const v = this.losses[i];
      const m = columns.get(col);
      if (m) {
        m[0] = Math.min(m[0], v);
        m[1] = Math.max(m[1], v);
      } else columns.set(col, [v, v]);
    }
    ctx.fillStyle = c.raw;
    for (const [col, [a, b]] of columns) {
      const y0 = y(b);
      ctx.fillRect(col - 0.75, y0 - 0.75, 1.5, Math.max(1.5, y(a) - y0 + 1.5));
    }
    // The smoothed loss: a line.
    if (n > 1) {
      ctx.strokeStyle = c.line;
      ctx.lineWidth = 2;
      ctx.lineJoin = "round";
      ctx.beginPath();
      const step = Math.max(1, Math.floor(n / (box.right - box.left)));
      for (let i = 0; i < n; i += step) {
        if (i === 0) ctx.moveTo(x(i), y(this.smooth[i]));
        else ctx.lineTo(x(i), y(this.smooth[i]));
      }
      ctx.lineTo(x(n - 1), y(this.smooth[n - 1]));
      ctx.stroke();
    }
    this.#drawAccuracy(ctx, c, box, x);
    canvas.setAttribute("aria-label", this.describe());
  }

  /** The test accuracy after each epoch: points on a scale at the right, from a round lower end to 100%. */
  #drawAccuracy(ctx, c, box, x) {
    const acc = this.accuracy;
    const low = acc.length ? Math.min(0.9, Math.floor(Math.min(...acc) * 10) / 10) : 0.9;
    const y = (a) => box.bottom - ((a - low) / (1 - low)) * (box.bottom - box.top);
    ctx.fillStyle = c.acc;
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    for (const a of [low, 1]) ctx.fillText(`${Math.round(a * 100)}%`, box.right + 4, y(a));
    ctx.strokeStyle = c.acc;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    acc.forEach((a, e) => {
      const xx = x((e + 1) * this.perEpoch);
      if (e === 0) ctx.moveTo(xx, y(a));
      else ctx.lineTo(xx, y(a));
    });
    ctx.stroke();
    for (const [e, a] of acc.entries()) {
      ctx.beginPath();
      ctx.arc(x((e + 1) * this.perEpoch), y(a), 3.5, 0, 2 * Math.PI);
      ctx.fill();
    }
    if (acc.length) {
      // the latest, in words beside its point (left of it when it is at the right edge)
      const xx = x(acc.length * this.perEpoch);
      const right = xx > box.right - 50;
      ctx.textAlign = right ? "right" : "left";
      ctx.textBaseline = "bottom";
      ctx.fillText(`${(100 * acc.at(-1)).toFixed(1)}%`, xx + (right ? -6 : 6), y(acc.at(-1)) - 4);
    }
  }

  /** The chart in words, for its aria-label. */
  describe() {
    const n = this.losses.length;
    if (!n) return "The loss of every batch: no batch yet.";
    const acc = this.accuracy.map((a, e) => `${(100 * a).toFixed(1)}% after epoch ${e + 1}`).join(", ");
    return (
      `The loss of every batch: ${n} batches, from ${this.smooth[0].toFixed(2)} to ` +
      `${this.smooth[n - 1].toFixed(3)} (smoothed).${acc ? ` Test accuracy: ${acc}.` : ""}`
    );
  }
}

function line(ctx, x0, y0, x1, y1) {
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1, y1);
  ctx.stroke();
}

/** The first layer's weights (Float32Array of n x 784, each unit's scaled to [-1, 1] by Python) as
 * 28x28 pictures in a square-ish grid: blue negative, red positive (the Inside view's colours). */
export function paintWeights(canvas, values, n) {
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const w = cols * (SIDE + GAP) - GAP;
  const h = rows * (SIDE + GAP) - GAP;
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(w, h);
  const { zero, neg, pos } = readColours();
  for (let u = 0; u < n; u++) {
    const ox = (u % cols) * (SIDE + GAP);
    const oy = Math.floor(u / cols) * (SIDE + GAP);
    for (let p = 0; p < SIDE * SIDE; p++) {
      const t = Math.max(-1, Math.min(1, values[u * SIDE * SIDE + p]));
      const end = t < 0 ? neg : pos;
      const f = Math.abs(t);
      const o = 4 * ((oy + Math.floor(p / SIDE)) * w + ox + (p % SIDE));
      image.data[o] = zero[0] + (end[0] - zero[0]) * f;
      image.data[o + 1] = zero[1] + (end[1] - zero[1]) * f;
      image.data[o + 2] = zero[2] + (end[2] - zero[2]) * f;
      image.data[o + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
}

/** An MNIST digit (Uint8Array(784), ink 0-255): white on black, as the network sees it. */
export function paintDigit(canvas, pixels) {
  canvas.width = canvas.height = SIDE;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(SIDE, SIDE);
  for (let p = 0; p < SIDE * SIDE; p++) {
    image.data.set([pixels[p], pixels[p], pixels[p], 255], 4 * p);
  }
  ctx.putImageData(image, 0, 0);
}

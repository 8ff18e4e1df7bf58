// The drawing pad: pointer input (mouse, touch, pen) -> strokes, drawn sharp and smooth.
//
// A drawing is a list of strokes; a stroke is a list of [x, y] points in
// pad-normalised coordinates, [0, 1] on both axes (0,0 = top left), drawn with the pen
// it was drawn with: its width, a fraction of the pad side (a later change of the pen
// applies to new strokes only). The same
// strokes are drawn on the visible canvas (any size, x devicePixelRatio) and
// on an offscreen size x size canvas whose alpha channel is what the model
// gets, so a drawing gives the same model input on every screen. That size
// (digitnet.sizes.CANVAS) comes from the Python worker once it is ready.

import { PEN } from "../pkg/pen.mjs";

/** Default pen diameter as a fraction of the pad side (digitnet.sizes.PEN_DEFAULT). */
export const BRUSH = PEN.default;

/** Trace one stroke on ctx (already styled), scaled to `size` pixels: quadratic smoothing through midpoints. */
function traceStroke(ctx, points, size) {
  const n = points.length;
  if (n === 0) return;
  const [x0, y0] = points[0];
  ctx.beginPath();
  if (n === 1) {
    ctx.arc(x0 * size, y0 * size, ctx.lineWidth / 2, 0, 2 * Math.PI);
    ctx.fill();
    return;
  }
  ctx.moveTo(x0 * size, y0 * size);
  for (let i = 1; i < n - 1; i++) {
    const [x, y] = points[i];
    const [nx, ny] = points[i + 1];
    ctx.quadraticCurveTo(x * size, y * size, ((x + nx) / 2) * size, ((y + ny) / 2) * size);
  }
  const [xl, yl] = points[n - 1];
  ctx.lineTo(xl * size, yl * size);
  ctx.stroke();
}

/**
 * A stroke with its pen: {points, width}. Given as a plain list of points (or without a valid
 * width) it gets `brush`; points are clamped to the pad.
 */
export function penStroke(stroke, brush = BRUSH) {
  const points = Array.isArray(stroke) ? stroke : stroke.points;
  const width = Array.isArray(stroke) ? brush : stroke.width;
  return {
    points: points.map(([x, y]) => [clamp01(x), clamp01(y)]),
    width: Number.isFinite(width) && width > 0 ? width : brush,
  };
}

/** Clear ctx's size x size area and draw every stroke ({points, width}) with a round pen of
 * size * its width. */
export function renderStrokes(ctx, strokes, size, color) {
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, size, size);
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  for (const { points, width } of strokes) {
    ctx.lineWidth = size * width;
    traceStroke(ctx, points, size);
  }
  ctx.restore();
}

function makeCanvas(size) {
  if (typeof OffscreenCanvas === "function") return new OffscreenCanvas(size, size);
  const c = document.createElement("canvas");
  c.width = c.height = size;
  return c;
}

let modelCtx = null;

/** Strokes ({points, width}) -> Uint8Array(size * size) of ink (alpha, 0-255), row-major. */
export function strokesToPixels(strokes, size) {
  if (!modelCtx || modelCtx.canvas.width !== size) {
    // willReadFrequently keeps it a CPU canvas: same pixels on every machine, cheap reads.
    modelCtx = makeCanvas(size).getContext("2d", { willReadFrequently: true });
  }
  renderStrokes(modelCtx, strokes, size, "#000");
  const rgba = modelCtx.getImageData(0, 0, size, size).data;
  const out = new Uint8Array(size * size);
  for (let i = 0, j = 3; i < out.length; i++, j += 4) out[i] = rgba[j];
  return out;
}

/**
 * The visible pad. Events (all plain Events on the Pad):
 *   "ink"    new points were added to the stroke being drawn (or a stroke started)
 *   "stroke" a stroke ended
 *   "change" the drawing changed other than by drawing (clear, undo, redo, set)
 *   "history" only what can be undone or redone changed
 * Undo and redo step through whole drawings: each stroke, each clear and each drawing put in
 * by replace() is one step.
 */
export class Pad extends EventTarget {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    super();
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    /** The drawing: strokes with their pens. @type {{points: number[][], width: number}[]} */
    this.lines = [];
    /** Bumped on every change of the drawing. */
    this.version = 0;
    this.pointerId = null;
    this.current = null;
    this.rect = null;
    this.frame = 0;
    this.ink = "#000";
    /** The pen new strokes are drawn with (a fraction of the pad side). */
    this.brush = BRUSH;
    /** Drawings before the current one (undo) and after it (redo), as lists of strokes. */
    this.past = [];
    this.future = [];

    canvas.addEventListener("pointerdown", (e) => this.#down(e));
    canvas.addEventListener("pointermove", (e) => this.#move(e));
    canvas.addEventListener("pointerup", (e) => this.#up(e));
    canvas.addEventListener("pointercancel", (e) => this.#up(e));
    canvas.addEventListener("lostpointercapture", (e) => this.#up(e));
    // No context menu, text selection or double-tap zoom on the pad.
    canvas.addEventListener("contextmenu", (e) => e.preventDefault());
    canvas.addEventListener("touchstart", (e) => e.preventDefault(), { passive: false });

    new ResizeObserver(() => this.#resize()).observe(canvas);
    window.addEventListener("resize", () => this.#resize()); // devicePixelRatio changes (zoom)
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => this.#resize());
    this.#resize();
  }

  get drawing() {
    return this.pointerId !== null;
  }
  get isEmpty() {
    return this.lines.length === 0;
  }
  /** The drawing's strokes as lists of [x, y] points (their pens in `lines`). */
  get strokes() {
    return this.lines.map((s) => s.points);
  }
  /** The drawing's strokes as the reader takes them (digitnet.strokes.Strokes.from_flat): every
   * point, x then y in pixels of a size x size pad, stroke after stroke in the order drawn, and
   * where each stroke ends (in points). */
  strokeArrays(size) {
    const ends = new Int32Array(this.lines.length);
    let n = 0;
    this.lines.forEach((s, i) => {
      n += s.points.length;
      ends[i] = n;
    });
    const xy = new Float32Array(2 * n);
    let at = 0;
    for (const { points } of this.lines) {
      for (const [x, y] of points) {
        xy[at++] = x * size;
        xy[at++] = y * size;
      }
    }
    return { xy, ends };
  }
  /** The pen the drawing was drawn with, as a fraction of the pad side: its widest stroke's (a
   * single-pen drawing: that pen); the current pen while the pad is empty. */
  get pen() {
    return this.lines.reduce((w, s) => Math.max(w, s.width), 0) || this.brush;
  }
  get canUndo() {
    return this.past.length > 0;
  }
  get canRedo() {
    return this.future.length > 0;
  }

  /** Ink (alpha 0-255) of the current drawing on a size x size canvas. */
  pixels(size) {
    return strokesToPixels(this.lines, size);
  }

  /** Pen diameter as a fraction of the pad side, for the strokes drawn from now on (the drawing
   * already on the pad keeps its pens). */
  setBrush(fraction) {
    this.brush = fraction;
  }

  /** Empty the pad (one step: Undo brings the drawing back). */
  clear() {
    if (this.isEmpty) return false;
    this.#endStroke();
    this.#remember();
    this.lines = [];
    this.#changed("change");
    return true;
  }

  /** Put a drawing on the pad in place of the one there, as if drawn (one step: Undo brings the
   * previous drawing back). strokes: as setStrokes takes them. */
  replace(strokes) {
    this.#endStroke();
    this.#remember();
    this.lines = strokes.map((s) => penStroke(s, this.brush));
    this.#changed("change");
  }

  /** Back to the drawing before the last stroke or clear. */
  undo() {
    if (!this.canUndo) return false;
    this.#endStroke();
    this.future.push(this.lines.slice());
    this.lines = this.past.pop();
    this.#changed("change");
    return true;
  }

  /** Forward again after an undo. */
  redo() {
    if (!this.canRedo) return false;
    this.#endStroke();
    this.past.push(this.lines.slice());
    this.lines = this.future.pop();
    this.#changed("change");
    return true;
  }

  /** An empty pad with no history (automation: a fresh start). */
  reset() {
    this.#endStroke();
    this.past = [];
    this.future = [];
    if (this.isEmpty) {
      this.dispatchEvent(new Event("history"));
      return false;
    }
    this.lines = [];
    this.#changed("change");
    return true;
  }

  #remember() {
    this.past.push(this.lines.slice());
    if (this.past.length > 200) this.past.shift();
    this.future = [];
  }

  /** Replace the drawing, history forgotten (automation, a kept drawing): strokes of [x, y] points
   * in [0, 1], each a list of points (drawn with the current pen) or {points, width}. */
  setStrokes(strokes) {
    this.#endStroke();
    this.past = [];
    this.future = [];
    this.lines = strokes.map((s) => penStroke(s, this.brush));
    this.#changed("change");
  }

  #changed(type) {
    this.version++;
    this.#schedule();
    this.dispatchEvent(new Event(type));
  }

  #resize() {
    const rect = this.canvas.getBoundingClientRect();
    if (this.drawing) this.rect = rect; // resized mid-stroke (a phone turned): points map to the new box
    const dpr = window.devicePixelRatio || 1;
    const side = Math.max(1, Math.round(rect.width * dpr));
    if (this.canvas.width !== side || this.canvas.height !== side) {
      this.canvas.width = this.canvas.height = side;
    }
    this.ink = getComputedStyle(this.canvas).getPropertyValue("--ink").trim() || "#000";
    this.#render();
  }

  #schedule() {
    if (!this.frame)
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.#render();
      });
  }

  #render() {
    renderStrokes(this.ctx, this.lines, this.canvas.width, this.ink);
    this.canvas.parentElement?.setAttribute("data-empty", String(this.isEmpty));
  }

  #point(e) {
    const r = this.rect;
    return [clamp01((e.clientX - r.left) / r.width), clamp01((e.clientY - r.top) / r.height)];
  }

  #add(e) {
    const [x, y] = this.#point(e);
    const last = this.current[this.current.length - 1];
    // Skip points closer than half a CSS pixel to the previous one.
    const min = 0.5 / this.rect.width;
    if (last && Math.abs(x - last[0]) < min && Math.abs(y - last[1]) < min) return false;
    this.current.push([x, y]);
    return true;
  }

  #down(e) {
    if (this.pointerId !== null) return; // one stroke at a time (ignore a second finger)
    if (e.pointerType === "mouse" && e.button !== 0) return;
    e.preventDefault();
    this.canvas.setPointerCapture?.(e.pointerId);
    this.pointerId = e.pointerId;
    this.rect = this.canvas.getBoundingClientRect();
    this.#remember();
    this.current = [];
    this.#add(e);
    this.lines.push({ points: this.current, width: this.brush });
    this.#changed("ink");
  }

  #move(e) {
    if (e.pointerId !== this.pointerId) return;
    e.preventDefault();
    const events = e.getCoalescedEvents?.() || [];
    let added = false;
    for (const ev of events.length ? events : [e]) added = this.#add(ev) || added;
    if (added) this.#changed("ink");
  }

  #up(e) {
    if (e.pointerId !== this.pointerId) return;
    if (e.type === "pointerup") this.#add(e);
    this.#endStroke();
    this.version++;
    this.#schedule();
    this.dispatchEvent(new Event("stroke"));
  }

  #endStroke() {
    this.pointerId = null;
    this.current = null;
  }
}

function clamp01(v) {
  return v < 0 ? 0 : Math.min(v, 1);
}

// The drawing pad: pointer input (mouse, touch, pen) -> strokes, drawn sharp and smooth.
//
// A drawing is a list of strokes; a stroke is a list of [x, y] points measured in pad heights:
// y from 0 (top) to 1 (bottom), x from 0 (left) to the pad's width over its height (1 on a square
// pad, more on a wide one, where a number has room). Each stroke keeps the pen it was drawn with:
// its width, a fraction of the pad's height (a later change of the pen applies to new strokes only),
// so a pen keeps its size however wide the pad is. The same strokes are drawn on the visible canvas
// (any size, x devicePixelRatio) and on an offscreen canvas `size` pixels high whose alpha channel
// is what the model gets, so a drawing gives the same model input on every screen. That size
// (digitnet.sizes.CANVAS) comes from the Python worker once it is ready.

import { BRUSH, clamp01, penStroke, renderStrokes, strokesToPixels } from "./ink.js";

/**
 * The visible pad. Events (all plain Events on the Pad):
 *   "ink"    new points were added to the stroke being drawn (or a stroke started)
 *   "stroke" a stroke ended
 *   "change" the drawing changed other than by drawing (clear, undo, redo, set)
 *   "history" only what can be undone or redone changed
 *   "view"    the pad's shape changed (a window resized, a phone turned): the drawing's place on it
 *             and the model's canvas (shape()) may have changed with it
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
    /** The visible pad's width over its height (CSS decides it: square on a phone held upright,
     * wider where there is room). */
    this.aspect = 1;
    /** The widest the pad has been (in pad heights) while the drawing on it was there, or the
     * drawing's rightmost point if it was put there wider: how much of its ink the pad shows. */
    this.room = 1;
    /** The pen new strokes are drawn with (a fraction of the pad's height). */
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
  /** How wide the drawing is, in pad heights: the pad's width, or, when the pad has become narrower
   * than what was drawn on it (a phone turned, a window narrowed), the room it was drawn in: then
   * the pad shows all of that smaller, as it was, and the model reads all of it. */
  get span() {
    return rightEdges(this.lines).ink > this.aspect ? Math.max(this.aspect, this.room) : this.aspect;
  }
  /** The drawing as the worker reads it (Session.predict): its ink `size` pixels high and as wide
   * as its span, its strokes in those pixels, and its pen in pixels. */
  reading(size) {
    const [, width] = this.shape(size);
    return {
      pixels: strokesToPixels(this.lines, size, width),
      strokes: this.strokeArrays(size),
      width,
      height: size,
      pen: this.pen * size, // the drawing's pen (its widest stroke's), not the slider's next one
    };
  }
  /** Where the pad's visible box is in drawing units: {width, height} of the box in pad heights
   * (1 high unless the drawing is wider than the pad: Pad.span). */
  get view() {
    const { width, height } = this.canvas.getBoundingClientRect();
    const scale = this.#scale(width, height);
    return { width: width / scale, height: height / scale };
  }
  /** The drawing's strokes as the reader takes them (digitnet.strokes.Strokes.from_flat): every
   * point, x then y in pixels of a pad `size` pixels high, stroke after stroke in the order drawn,
   * and where each stroke ends (in points). */
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
  /** The pen the drawing was drawn with, as a fraction of the pad's height: its widest stroke's (a
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

  /** Ink (alpha 0-255) of the current drawing, as reading(size) gives it. */
  pixels(size) {
    return strokesToPixels(this.lines, size, this.shape(size)[1]);
  }

  /** [height, width] of the model's canvas for the drawing: `size` high, as wide as its span. */
  shape(size) {
    return [size, Math.max(1, Math.round(size * this.span))];
  }

  /** Pen diameter as a fraction of the pad's height, for the strokes drawn from now on (the drawing
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
    this.#fit(false);
    this.#changed("change");
    return true;
  }

  /** Put a drawing on the pad in place of the one there, as if drawn (one step: Undo brings the
   * previous drawing back). strokes: as setStrokes takes them. */
  replace(strokes) {
    this.#endStroke();
    this.#remember();
    this.lines = strokes.map((s) => penStroke(s, this.brush));
    this.#fit(false);
    this.#changed("change");
  }

  /** The drawing redrawn with a pen `width` pad heights wide, every stroke (one step: Undo brings
   * the pens back). */
  restroke(width) {
    if (this.isEmpty) return;
    this.replace(this.lines.map(({ points }) => ({ points, width })));
  }

  /** Back to the drawing before the last stroke or clear. */
  undo() {
    if (!this.canUndo) return false;
    this.#endStroke();
    this.future.push(this.lines.slice());
    this.lines = this.past.pop();
    this.#fit(true);
    this.#changed("change");
    return true;
  }

  /** Forward again after an undo. */
  redo() {
    if (!this.canRedo) return false;
    this.#endStroke();
    this.past.push(this.lines.slice());
    this.lines = this.future.pop();
    this.#fit(true);
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
    this.#fit(false);
    this.#changed("change");
    return true;
  }

  /** The pad's room for a drawing put on it: the pad, or all of the drawing's ink when its points
   * go past the pad's right edge (kept: the room it had so far, too). */
  #fit(kept) {
    const { point, ink } = rightEdges(this.lines);
    const room = point > this.aspect ? ink : this.aspect;
    this.room = kept ? Math.max(this.room, room) : room;
  }

  #remember() {
    this.past.push(this.lines.slice());
    if (this.past.length > 200) this.past.shift();
    this.future = [];
  }

  /** Replace the drawing, history forgotten (automation, a kept drawing): strokes of [x, y] points
   * in pad heights, each a list of points (drawn with the current pen) or {points, width}. */
  setStrokes(strokes) {
    this.#endStroke();
    this.past = [];
    this.future = [];
    this.lines = strokes.map((s) => penStroke(s, this.brush));
    this.#fit(false);
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
    const width = Math.max(1, Math.round(rect.width * dpr));
    const height = Math.max(1, Math.round(rect.height * dpr));
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    const aspect = rect.width > 0 && rect.height > 0 ? rect.width / rect.height : this.aspect;
    const reshaped = Math.abs(aspect - this.aspect) > 1e-3;
    this.aspect = aspect;
    this.room = this.isEmpty ? this.aspect : Math.max(this.room, this.aspect);
    this.ink = getComputedStyle(this.canvas).getPropertyValue("--ink").trim() || "#000";
    this.#render();
    if (reshaped && !this.isEmpty) this.dispatchEvent(new Event("view"));
  }

  #schedule() {
    if (!this.frame)
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.#render();
      });
  }

  /** Pixels (of a box width x height showing the pad) to a pad height: the box's height, or less
   * when the drawing is wider than the box. */
  #scale(width, height) {
    return Math.min(height, width / this.span) || 1;
  }

  #render() {
    const { width, height } = this.canvas;
    renderStrokes(this.ctx, this.lines, this.#scale(width, height), this.ink, width, height);
    this.canvas.parentElement?.setAttribute("data-empty", String(this.isEmpty));
  }

  #point(e, scale) {
    const r = this.rect;
    const x = (e.clientX - r.left) / scale;
    return [x < 0 ? 0 : Math.min(x, r.width / scale), clamp01((e.clientY - r.top) / scale)];
  }

  #add(e) {
    const scale = this.#scale(this.rect.width, this.rect.height);
    const [x, y] = this.#point(e, scale);
    const last = this.current[this.current.length - 1];
    // Skip points closer than half a CSS pixel to the previous one.
    const min = 0.5 / scale;
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

/** How far right a drawing goes, in pad heights: its rightmost point, and its ink's right edge
 * (a point and half its pen). */
function rightEdges(lines) {
  let point = 0;
  let ink = 0;
  for (const { points, width } of lines) {
    for (const [x] of points) {
      point = Math.max(point, x);
      ink = Math.max(ink, x + width / 2);
    }
  }
  return { point, ink };
}

// Strokes to ink: a drawing's strokes traced with a round pen on a canvas, for the visible pad
// (static/js/pad.js) and for the model, whose canvas is `size` pixels to a pad height (points and
// pens are measured in pad heights; see pad.js).

import { PEN } from "../pkg/pen.mjs";

/** Default pen diameter as a fraction of the pad's height (digitnet.sizes.PEN_DEFAULT). */
export const BRUSH = PEN.default;

/** Trace one stroke on ctx (already styled), `size` pixels to a pad height: quadratic smoothing
 * through midpoints. */
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
 * width) it gets `brush`; points are clamped to the pad's height and to its left edge (a pad
 * narrower than the drawing shows it smaller: Pad.span).
 */
export function penStroke(stroke, brush = BRUSH) {
  const points = Array.isArray(stroke) ? stroke : stroke.points;
  const width = Array.isArray(stroke) ? brush : stroke.width;
  return {
    points: points.map(([x, y]) => [Math.max(0, x), clamp01(y)]),
    width: Number.isFinite(width) && width > 0 ? width : brush,
  };
}

/** Strokes made on a square pad (x in [0, 1]: a sample digit) moved to the middle of a pad `span`
 * heights wide. */
export function centred(strokes, span) {
  const dx = Math.max(0, (span - 1) / 2);
  return strokes.map((s) => s.map(([x, y]) => [x + dx, y]));
}

/** Clear ctx's width x height area and draw every stroke ({points, width}) `size` pixels to a pad
 * height, with a round pen of size * its width. */
export function renderStrokes(ctx, strokes, size, color, width = size, height = size) {
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, width, height);
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

function makeCanvas(width, height) {
  if (typeof OffscreenCanvas === "function") return new OffscreenCanvas(width, height);
  const c = document.createElement("canvas");
  c.width = width;
  c.height = height;
  return c;
}

let modelCtx = null;

/** Strokes ({points, width}) -> Uint8Array(size * width) of ink (alpha, 0-255), row-major: the
 * drawing `size` pixels high (a pad height) and `width` pixels wide. */
export function strokesToPixels(strokes, size, width = size) {
  if (!modelCtx || modelCtx.canvas.width !== width || modelCtx.canvas.height !== size) {
    // willReadFrequently keeps it a CPU canvas: same pixels on every machine, cheap reads.
    modelCtx = makeCanvas(width, size).getContext("2d", { willReadFrequently: true });
  }
  renderStrokes(modelCtx, strokes, size, "#000", width, size);
  const rgba = modelCtx.getImageData(0, 0, width, size).data;
  const out = new Uint8Array(size * width);
  for (let i = 0, j = 3; i < out.length; i++, j += 4) out[i] = rgba[j];
  return out;
}

export function clamp01(v) {
  return v < 0 ? 0 : Math.min(v, 1);
}

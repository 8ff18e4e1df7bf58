// Drawing for the "Inside the network" view (inside.js wires it): layers as grids of coloured
// cells on canvases, colour scales with their numbers, and numbers as text. Every number drawn here
// comes from Python (digitnet.inside_wire); this file only maps them to colours, cells and words.

/** The colour scales, from the page's CSS (static/css/inside.css): zero, the sequential scale's top,
 * and the diverging scale's ends. Read again when the colour scheme changes. */
export function readColours() {
  const css = getComputedStyle(document.documentElement);
  const rgb = (name) => {
    const hex = css.getPropertyValue(name).trim().replace("#", "");
    return [0, 2, 4].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  };
  return {
    zero: rgb("--cell-zero"),
    high: rgb("--cell-high"),
    neg: rgb("--cell-neg"),
    pos: rgb("--cell-pos"),
    gap: css.getPropertyValue("--card").trim(),
    up: css.getPropertyValue("--path-up").trim(),
    down: css.getPropertyValue("--path-down").trim(),
    mark: css.getPropertyValue("--text").trim(),
  };
}

/** A value -> [r, g, b]: kind "seq" from zero (0) to high (scale and beyond); "div" from neg
 * (-scale) through zero to pos (+scale). */
function colourOf(colours, kind, value, scale) {
  const t = Math.max(-1, Math.min(1, value / scale));
  const end = kind === "seq" || t >= 0 ? colours.high : colours.neg;
  const far = kind === "div" && t >= 0 ? colours.pos : end;
  const f = Math.abs(kind === "seq" ? Math.max(t, 0) : t);
  const z = colours.zero;
  return [z[0] + (far[0] - z[0]) * f, z[1] + (far[1] - z[1]) * f, z[2] + (far[2] - z[2]) * f];
}

/** One layer drawn as a grid of cells, `columns` wide, on `canvas` (PITCH device pixels a cell;
 * CSS sizes it). Cells are painted into a columns x rows image and scaled up without smoothing. */
export class Grid {
  static PITCH = 12;

  constructor(canvas, units, columns) {
    this.canvas = canvas;
    this.units = units;
    this.columns = columns;
    this.rows = Math.ceil(units / columns);
    canvas.width = columns * Grid.PITCH;
    canvas.height = this.rows * Grid.PITCH;
    this.cells = new OffscreenCanvas(columns, this.rows);
    this.cellContext = this.cells.getContext("2d");
    this.image = this.cellContext.createImageData(columns, this.rows);
    this.context = canvas.getContext("2d");
  }

  /** The unit under a pointer event on the canvas, or -1. */
  unitAt(event) {
    const box = this.canvas.getBoundingClientRect();
    const col = Math.floor(((event.clientX - box.left) / box.width) * this.columns);
    const row = Math.floor(((event.clientY - box.top) / box.height) * this.rows);
    const unit = row * this.columns + col;
    return col >= 0 && col < this.columns && row >= 0 && unit < this.units ? unit : -1;
  }

  /** Paint values (Float32Array of `units`) on the scale [0, scale] ("seq") or [-scale, scale]
   * ("div"); marks: {up: [unit...], down: [...]} ringed; selected and cursor: a unit or -1. */
  paint(colours, values, scale, kind, { up = [], down = [], selected = -1, cursor = -1 } = {}) {
    const data = this.image.data;
    data.fill(0);
    for (let i = 0; i < this.units; i++) {
      const [r, g, b] = colourOf(colours, kind, values[i], scale);
      const o = i * 4;
      data[o] = r;
      data[o + 1] = g;
      data[o + 2] = b;
      data[o + 3] = 255;
    }
    this.cellContext.putImageData(this.image, 0, 0);
    const ctx = this.context;
    const p = Grid.PITCH;
    ctx.imageSmoothingEnabled = false;
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.drawImage(this.cells, 0, 0, this.columns * p, this.rows * p);
    this.#gaps(colours.gap);
    // A ring on a halo of the card's colour: it stands out on any cell colour.
    const ring = (unit, colour) => {
      if (unit < 0 || unit >= this.units) return;
      const x = (unit % this.columns) * p;
      const y = Math.floor(unit / this.columns) * p;
      ctx.strokeStyle = colours.gap;
      ctx.lineWidth = 5;
      ctx.strokeRect(x + 1.5, y + 1.5, p - 3, p - 3);
      ctx.strokeStyle = colour;
      ctx.lineWidth = 2.5;
      ctx.strokeRect(x + 1.5, y + 1.5, p - 3, p - 3);
    };
    for (const u of up) ring(u, colours.up);
    for (const u of down) ring(u, colours.down);
    ring(selected, colours.mark);
    if (cursor !== selected) {
      ctx.setLineDash([3, 2]);
      ring(cursor, colours.mark);
      ctx.setLineDash([]);
    }
  }

  /** Thin lines between the cells, in the card's colour, so neighbours of one colour stay apart. */
  #gaps(colour) {
    const ctx = this.context;
    const p = Grid.PITCH;
    ctx.beginPath();
    for (let c = 1; c < this.columns; c++) ctx.rect(c * p - 0.5, 0, 1, this.rows * p);
    for (let r = 1; r < this.rows; r++) ctx.rect(0, r * p - 0.5, this.columns * p, 1);
    ctx.fillStyle = colour;
    ctx.fill();
  }
}

// ---- numbers as words ----

const MINUS = "\u2212";

/** 2.41, −0.08, 13.5, 0.000021 -> "2.1e−5": at most 4 significant digits, a real minus sign. */
export function fmt(value, digits = 2) {
  if (!Number.isFinite(value)) return String(value);
  const size = Math.abs(value);
  let text;
  if (size !== 0 && size < 10 ** -digits) text = value.toExponential(1).replace("e-", `e${MINUS}`);
  else if (size >= 1000) text = value.toFixed(0);
  else text = value.toFixed(digits);
  return text.replace(/^-/, MINUS);
}

/** With its sign: "+2.41", "−0.08". */
export function signed(value, digits = 2) {
  const text = fmt(value, digits);
  return value >= 0 ? `+${text}` : text;
}

/** A scale's legend: a swatch of the gradient and its end numbers. kind "seq": 0 -> scale; "div":
 * −scale, 0, +scale. */
export function legend(element, kind, scale, words) {
  if (!element.legendParts) {
    const part = (tag, className) => {
      const e = document.createElement(tag);
      e.className = className;
      return e;
    };
    const parts = {
      label: part("span", "legend-words"),
      low: part("span", "legend-end"),
      swatch: part("span", "swatch"),
      high: part("span", "legend-end"),
    };
    parts.swatch.setAttribute("aria-hidden", "true");
    element.replaceChildren(parts.label, parts.low, parts.swatch, parts.high);
    element.legendParts = parts; // made once, then only their words change
  }
  const { label, low, swatch, high } = element.legendParts;
  swatch.className = `swatch swatch-${kind}`;
  setText(low, kind === "seq" ? "0" : fmt(-scale));
  setText(high, kind === "seq" ? fmt(scale) : `+${fmt(scale)}`);
  setText(label, words);
}

/** Set an element's text only when it changes (no work for the browser otherwise). */
export function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

/** Signed bars for a few values (the unit's weights to the outputs): rows made once, updated. */
export class SignedBars {
  constructor(element, labels) {
    this.rows = labels.map((label) => {
      const row = document.createElement("div");
      row.className = "sbar";
      row.innerHTML =
        '<span class="sbar-label"></span><span class="sbar-track" aria-hidden="true">' +
        '<span class="sbar-fill"></span></span><span class="sbar-value"></span>';
      row.querySelector(".sbar-label").textContent = label;
      element.append(row);
      return { fill: row.querySelector(".sbar-fill"), value: row.querySelector(".sbar-value"), row };
    });
  }

  show(values, scale) {
    this.rows.forEach(({ fill, value, row }, i) => {
      const v = values[i];
      const half = Math.min(1, Math.abs(v) / scale) * 50;
      fill.style.left = `${v >= 0 ? 50 : 50 - half}%`;
      fill.style.width = `${half}%`;
      row.dataset.sign = v >= 0 ? "pos" : "neg";
      setText(value, signed(v));
    });
  }
}

// The "Inside the network" view: every layer of the network as a grid, live as you draw; one unit's
// whole sum; the formulas with this drawing's numbers; and the network broken on purpose.
//
// The numbers come with each reading while the view is open (model.js asks for them: Predictor.inside),
// computed by Python (digitnet.inside, laid out by digitnet.inside_wire); breaking the network is a
// request to the worker (Predictor.modify), and its state comes back as "modified" events.
// <html data-inside="open|closed" data-modified="true|false">; digitApp.inside, digitApp.selectUnit,
// digitApp.insideDrawTimes (ms of main-thread drawing per reading).

import { Grid, SignedBars, fmt, legend, readColours, signed } from "./inside-draw.js";

const $ = (selector, root = document) => root.querySelector(selector);
const html = document.documentElement;
const OPEN_KEY = "digit-app.inside";
const SUBSCRIPT = "₀₁₂₃₄₅₆₇₈₉";
const sub = (n) => [...String(n)].map((d) => SUBSCRIPT[d]).join("");

export function installInside({ predictor, hooks, sizes, character }) {
  const card = $('[data-testid="inside-card"]');
  const toggle = $('[data-testid="inside"]');
  const layersBox = $('[data-testid="layers"]');
  const detail = $('[data-testid="unit-detail"]');
  const knockOut = $('[data-testid="knock-out"]');
  const knockPath = $('[data-testid="knock-path"]');
  const knockCount = $('[data-testid="knock-count"]');
  const knockLayer = $('[data-testid="knock-layer"]');
  const zeroBiases = $('[data-testid="zero-biases"]');
  const noise = $('[data-testid="noise"]');
  const restore = $('[data-testid="restore"]');
  const note = $('[data-testid="modified-note"]');
  let colours = readColours();
  let net = null; // digitnet.inside_wire.describe of the model in use: {layout, sizes, columns, terms, path}
  let grids = []; // per layer 0 (input) .. L (outputs): {grid, box, caption, cursor}
  let unitGrid = null; // the selected unit's incoming weights
  let unitBars = null;
  let wanted = { layer: -1, index: -1 }; // the unit asked for (-1: the top of the first layer's path)
  let shown = null; // {layer, index} the last reading showed in detail
  let last = null; // the last reading's numbers ({name: Float32Array})
  let state = { modified: false, knocked: [], zero_biases: false, noise: 0 };
  hooks.inside = null;
  hooks.insideDrawTimes = [];

  const isOpen = () => !card.hidden;
  const outputs = () => net.sizes.length - 1; // L: the output layer's number
  const label = (k) => (k < sizes().classes ? String(k) : "not a digit");
  const layerName = (l) => (l === outputs() ? "out" : String(l));

  // While the pen is down the view follows at most every LIVE_MS (the readings between go without
  // its numbers, so drawing stays as quick as with the view closed); every settled reading has them.
  const LIVE_MS = 100;
  let askedAt = Number.NEGATIVE_INFINITY;
  predictor.inside = ({ live }) => {
    if (!isOpen() || !net) return null;
    const now = performance.now();
    if (live && now - askedAt < LIVE_MS) return null;
    askedAt = now;
    return { ...wanted, character: character() };
  };

  // ---- open and close (remembered) ----

  function setOpen(open) {
    card.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    html.dataset.inside = open ? "open" : "closed";
    try {
      localStorage.setItem(OPEN_KEY, open ? "open" : "closed");
    } catch {
      /* not remembered */
    }
    if (open) predictor.request(); // the numbers for the drawing on the pad
  }
  toggle.addEventListener("click", () => setOpen(!isOpen()));
  $(".inside-close", card).addEventListener("click", () => {
    setOpen(false);
    toggle.focus();
  });
  let remembered = "closed";
  try {
    remembered = localStorage.getItem(OPEN_KEY) || "closed";
  } catch {
    /* storage unavailable: closed */
  }
  setOpen(remembered === "open");

  // ---- the grids, made for each model ----

  predictor.addEventListener("model", (e) => build(e.detail.inside));

  function build(described) {
    net = described;
    layersBox.textContent = "";
    knockLayer.textContent = "";
    grids = net.sizes.map((units, l) => {
      const figure = document.createElement("figure");
      figure.className = `layer layer-${l === 0 ? "input" : layerName(l)}`;
      const caption = document.createElement("figcaption");
      const title = document.createElement("span");
      title.className = "layer-title";
      title.textContent = layerTitle(l, units);
      const scale = document.createElement("span");
      scale.className = "legend";
      caption.append(title, scale);
      const canvas = document.createElement("canvas");
      canvas.setAttribute("aria-hidden", "true");
      const grid = new Grid(canvas, units, net.columns[l]);
      canvas.style.width = `${net.columns[l] * (l === 0 ? 4 : l === outputs() ? 22 : 9)}px`; // CSS px a cell
      const entry = { grid, caption: scale, cursor: -1, box: null, cell: null };
      if (l === 0) {
        figure.append(canvas, caption); // the input: pixels to look at, not units to select
        canvas.removeAttribute("aria-hidden");
        canvas.setAttribute("role", "img");
        canvas.setAttribute("aria-label", `The input x: ${units} values, the image normalised`);
      } else {
        figure.append(selectable(entry, l, units, canvas), caption);
      }
      if (l === outputs()) figure.append(outputLabels(units));
      if (l > 0 && l < outputs()) knockLayer.append(new Option(`layer ${l}`, String(l)));
      layersBox.append(figure);
      return entry;
    });
    unitBars = new SignedBars(
      $(".unit-out-bars", detail),
      Array.from({ length: net.sizes.at(-1) }, (_, k) => label(k)),
    );
    $(".unit-out-bars", detail).replaceChildren(...unitBars.rows.map((r) => r.row));
    unitGrid = null;
    wanted = { layer: -1, index: -1 };
    showEmpty();
  }

  function layerTitle(l, units) {
    if (l === 0) return `Input x: ${units} pixels`;
    if (l === outputs()) return `Outputs: ${units} logits z${sub(l)}`;
    return `Layer ${l}: ${units} units a${sub(l)}`;
  }

  function outputLabels(units) {
    const row = document.createElement("div");
    row.className = "out-labels";
    row.setAttribute("aria-hidden", "true");
    row.style.setProperty("--columns", String(units));
    for (let k = 0; k < units; k++) {
      const span = document.createElement("span");
      span.textContent = k < sizes().classes ? String(k) : "✗";
      row.append(span);
    }
    return row;
  }

  /** A grid of units with one tab stop: arrows move, Enter or Space selects, a click or tap selects. */
  function selectable(entry, l, units, canvas) {
    const id = `layer-${layerName(l)}`;
    const box = document.createElement("div");
    box.className = "grid";
    box.tabIndex = 0;
    box.setAttribute("role", "grid");
    box.dataset.testid = id;
    box.dataset.units = String(units);
    box.setAttribute("aria-label", `${layerTitle(l, units)}, ${entry.grid.columns} a row`);
    box.setAttribute("aria-activedescendant", `${id}-cell`);
    const row = document.createElement("div");
    row.setAttribute("role", "row");
    row.className = "visually-hidden";
    const cell = document.createElement("div");
    cell.setAttribute("role", "gridcell");
    cell.id = `${id}-cell`;
    row.append(cell);
    box.append(canvas, row);
    entry.box = box;
    entry.cell = cell;
    const columns = entry.grid.columns;
    const moveTo = (unit) => {
      entry.cursor = Math.max(0, Math.min(units - 1, unit));
      describeCell(entry, l);
      if (last) paintLayer(l);
    };
    box.addEventListener("focus", () =>
      moveTo(entry.cursor < 0 ? (shown?.layer === l ? shown.index : 0) : entry.cursor),
    );
    box.addEventListener("blur", () => {
      entry.cursor = -1;
      if (last) paintLayer(l);
    });
    box.addEventListener("keydown", (e) => {
      const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -columns, ArrowDown: columns }[e.key];
      if (step !== undefined) moveTo(entry.cursor + step);
      else if (e.key === "Home") moveTo(0);
      else if (e.key === "End") moveTo(units - 1);
      else if (e.key === "Enter" || e.key === " ") select(l, entry.cursor);
      else if (e.key === "Delete" || e.key === "Escape") {
        e.stopPropagation(); // the page's keys to clear the pad: here they would wipe the drawing looked into
        return;
      } else return;
      e.preventDefault();
      e.stopPropagation(); // not the page's keys (Delete clears the pad)
    });
    canvas.addEventListener("click", (e) => {
      const unit = entry.grid.unitAt(e);
      if (unit < 0) return;
      entry.cursor = unit;
      box.focus({ preventScroll: true });
      select(l, unit);
    });
    return box;
  }

  function describeCell(entry, l) {
    const u = entry.cursor;
    if (u < 0 || !entry.cell) return;
    const row = Math.floor(u / entry.grid.columns) + 1;
    const col = (u % entry.grid.columns) + 1;
    const name = l === outputs() ? `Output ${label(u)}` : `Unit ${u}`;
    let value = "";
    if (last) {
      value =
        l === outputs()
          ? `: z = ${fmt(last.logits[u])}, p = ${fmt(last.probs[u], 4)}`
          : `: a = ${fmt(last[`hidden${l}`][u])}, push ${signed(last[`contrib${l}`][u])}`;
    }
    entry.cell.textContent = `${name} (row ${row}, column ${col})${value}${shown?.layer === l && shown.index === u ? ", selected" : ""}`;
  }

  function select(layer, index) {
    wanted = { layer, index };
    predictor.request();
  }

  hooks.selectUnit = (layer, index) => {
    select(layer === "out" ? outputs() : Number(layer), Number(index));
  };

  // ---- each reading ----

  predictor.addEventListener("result", (e) => {
    if (!isOpen() || !net) return;
    if (!e.detail.probs) showEmpty();
    else if (e.detail.inside) show(e.detail.inside, e.detail.live);
  });

  function showEmpty() {
    last = null;
    hooks.inside = null;
    shown = null;
    card.dataset.empty = "true";
    knockOut.disabled = knockPath.disabled = true;
  }

  /** Draw a reading's numbers; live (the pen is down): the grids and the unit, the words and
   * tables wait for the settled reading. */
  function show(values, live = false) {
    const t = performance.now();
    last = values;
    card.dataset.empty = "false";
    shown = { layer: values.unit_layer[0], index: values.unit_index[0] };
    const hidden = net.sizes.length - 2;
    for (let l = 0; l <= outputs(); l++) paintLayer(l);
    const target = values.target[0];
    $(".path-target", card).textContent = `“${label(target)}”`;
    showUnit(values);
    if (!live) showFormulas(values, hidden);
    for (const [l, entry] of grids.entries()) if (l > 0 && document.activeElement === entry.box) describeCell(entry, l);
    hooks.inside = {
      input: values.input,
      hidden: Array.from({ length: hidden }, (_, i) => values[`hidden${i + 1}`]),
      logits: values.logits,
      probs: values.probs,
      contributions: Array.from({ length: hidden }, (_, i) => values[`contrib${i + 1}`]),
      target,
      unit: { ...shown, z: values.unit_z[0], a: values.unit_a[0] },
    };
    hooks.insideDrawTimes.push(performance.now() - t);
  }

  function paintLayer(l) {
    const v = last;
    const entry = grids[l];
    const marks = { cursor: entry.cursor, selected: shown?.layer === l ? shown.index : -1 };
    if (l === 0) {
      entry.grid.paint(colours, v.input, v.scale_input[0], "div");
      legend(entry.caption, "div", v.scale_input[0], "x");
    } else if (l === outputs()) {
      entry.grid.paint(colours, v.logits, v.scale_logits[0], "div", marks);
      legend(entry.caption, "div", v.scale_logits[0], "z");
    } else {
      const scale = v[`scale_hidden${l}`][0];
      entry.grid.paint(colours, v[`hidden${l}`], scale, "seq", {
        ...marks,
        up: [...v[`up${l}`]].filter((u) => u >= 0),
        down: [...v[`down${l}`]].filter((u) => u >= 0),
      });
      legend(entry.caption, "seq", scale, `a${sub(l)}`);
    }
  }

  function showUnit(v) {
    const { layer, index } = shown;
    const isOut = layer === outputs();
    const below = layer - 1;
    const fanIn = v.unit_fan_in[0];
    detail.dataset.layer = layerName(layer);
    detail.dataset.unit = String(index);
    detail.dataset.z = String(v.unit_z[0]);
    detail.dataset.a = String(v.unit_a[0]);
    const knocked = v.unit_knocked[0] === 1;
    detail.dataset.knocked = String(knocked);
    $(".unit-title", detail).textContent = isOut
      ? `Output ${label(index)}: its logit z${sub(layer)}`
      : `Layer ${layer}, unit ${index} of ${net.sizes[layer]}${knocked ? " (knocked out)" : ""}`;
    if (!unitGrid || unitGrid.layer !== below) {
      unitGrid = new Grid($(".unit-in", detail), net.sizes[below], net.columns[below]);
      unitGrid.layer = below;
    }
    const weights = v.unit_in.subarray(0, fanIn);
    unitGrid.paint(colours, weights, v.scale_unit_in[0], "div");
    const from = below === 0 ? "one for each input pixel" : `one for each unit of layer ${below}, on its grid`;
    $(".unit-in-words", detail).textContent = `Its ${fanIn} incoming weights, ${from}: red raises z, blue lowers it.`;
    legend($(".unit-in-legend", detail), "div", v.scale_unit_in[0], "w");
    const term = (_, i) => {
      const at = v.term_index[i];
      const where =
        below === 0 ? `pixel ${Math.floor(at / net.columns[0]) + 1},${(at % net.columns[0]) + 1}` : `unit ${at}`;
      return `${signed(v.term_value[i])} (${where})`;
    };
    const terms = Array.from({ length: net.terms }, term).join(" ");
    const a = below === 0 ? "x" : `a${sub(below)}`;
    $(".unit-sum", detail).textContent = knocked
      ? `z = Σ w·${a} + b = ${fmt(v.unit_z[0])}: every weight w and the bias b are zero.`
      : `z = Σ w·${a} + b = ${terms} ${signed(v.unit_rest_sum[0])} (the other ${v.unit_rest_count[0]} terms) ` +
        `${signed(v.unit_bias[0])} (its bias b) = ${fmt(v.unit_z[0])}`;
    $(".unit-relu", detail).textContent = isOut
      ? `No ReLU on an output: softmax turns the logits into probabilities (below). p = ${fmt(v.probs[index], 4)}`
      : knocked
        ? "Knocked out: its weights and bias are zero, so a = relu(0) = 0 whatever you draw."
        : `a = relu(z) = max(0, ${fmt(v.unit_z[0])}) = ${fmt(v.unit_a[0])}${v.unit_a[0] > 0 ? "" : ": off"}`;
    const outBox = $(".unit-out", detail);
    outBox.hidden = isOut;
    if (!isOut) {
      $(".unit-out-label", detail).textContent =
        layer === outputs() - 1
          ? "Its weights to the outputs:"
          : "Its effective weights to the outputs (through the later units that are on for this drawing):";
      unitBars.show(v.unit_out, v.scale_unit_out[0]);
    }
    knockOut.disabled = isOut;
    knockOut.textContent = isOut
      ? "Outputs cannot be knocked out"
      : knocked
        ? `Bring back unit ${index}`
        : `Knock out unit ${index}`;
    knockPath.disabled = false;
  }

  function showFormulas(v, hidden) {
    const items = [];
    for (let l = 1; l <= outputs(); l++) {
      const input = l === 1 ? "x" : `a${sub(l - 1)}`;
      const shape = `${net.sizes[l - 1]} → ${net.sizes[l]}`;
      if (l <= hidden) {
        items.push(
          `z${sub(l)} = ${input}W${sub(l)} + b${sub(l)} (${shape}); a${sub(l)} = relu(z${sub(l)}): ` +
            `${v.active[l - 1]} of ${net.sizes[l]} units on. Path to “${label(v.target[0])}”: ` +
            `the pushes of layer ${l} and the biases' share, ${signed(v.shares[l - 1])}, add up to its logit, ` +
            `${fmt(v.logits[v.target[0]])}.`,
        );
      } else {
        items.push(
          `z${sub(l)} = ${input}W${sub(l)} + b${sub(l)} (${shape}): the logits; ` +
            `“${label(v.target[0])}” is largest, ${fmt(v.logits[v.target[0]])}.`,
        );
      }
    }
    items.push(`p = softmax(z${sub(outputs())}): e^(z − max z) over their sum, ${fmt(v.exp_sum[0], 4)}.`);
    const list = $(".formula-list", card);
    while (list.children.length < items.length) list.append(document.createElement("li"));
    while (list.children.length > items.length) list.lastChild.remove();
    items.forEach((text, i) => {
      list.children[i].textContent = text;
    });
    const body = $(".softmax tbody", card);
    const k = net.sizes.at(-1);
    while (body.rows.length < k)
      body.insertRow().append(...Array.from({ length: 4 }, () => document.createElement("td")));
    for (let i = 0; i < k; i++) {
      const cells = body.rows[i].cells;
      cells[0].textContent = label(i);
      cells[1].textContent = fmt(v.logits[i]);
      cells[2].textContent = fmt(v.exp[i], 4);
      cells[3].textContent = fmt(v.probs[i], 4);
      body.rows[i].classList.toggle("is-target", i === v.target[0]);
    }
  }

  // ---- break it, and restore ----

  let asking = null; // the modify request in flight; a newer noise value waits in `noiseNext`
  let noiseNext = null;
  function change(c) {
    if (asking) {
      if ("noise" in c)
        noiseNext = c; // the slider: only its latest value matters
      else asking = asking.then(() => change(c));
      return;
    }
    if (shown) wanted = { ...shown }; // acting on a unit keeps it in view
    asking = predictor
      .modify(c)
      .then(() => predictor.request()) // the answer from the network as it is now
      .catch((err) => {
        note.textContent = `The network could not be changed: ${err.message}`;
      })
      .finally(() => {
        asking = null;
        if (noiseNext) {
          const next = noiseNext;
          noiseNext = null;
          change(next);
        }
      });
  }

  knockOut.addEventListener("click", () => {
    if (shown && shown.layer < outputs()) change({ knock: [shown.layer, shown.index] });
  });
  knockPath.addEventListener("click", () => {
    const count = Math.max(1, Math.min(50, Math.round(Number(knockCount.value) || 10)));
    knockCount.value = String(count);
    change({ knock_path: [Number(knockLayer.value), count] });
  });
  zeroBiases.addEventListener("change", () => change({ zero_biases: zeroBiases.checked }));
  noise.addEventListener("input", () => {
    $("#noise-value").textContent = fmt(Number(noise.value));
    change({ noise: Number(noise.value) });
  });
  restore.addEventListener("click", () => change({ restore: true }));

  predictor.addEventListener("modified", (e) => {
    state = e.detail;
    html.dataset.modified = String(state.modified);
    zeroBiases.checked = state.zero_biases;
    noise.max = String(state.noise_max);
    if (!asking) {
      noise.value = String(state.noise);
      $("#noise-value").textContent = fmt(state.noise);
    }
    restore.disabled = !state.modified;
    const parts = [];
    if (state.knocked.length)
      parts.push(`${state.knocked.length} unit${state.knocked.length > 1 ? "s" : ""} knocked out`);
    if (state.zero_biases) parts.push("all biases zero");
    if (state.noise > 0) parts.push(`noise ${fmt(state.noise)} × each layer's spread of weights`);
    note.textContent = state.modified
      ? `Modified: ${parts.join(", ")}. The answer comes from this broken network until you restore it; ` +
        "it is never saved, and Learn starts from the network as trained."
      : "The network is as trained.";
  });

  // ---- the colour scheme changed: new colours, the same numbers ----

  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    colours = readColours();
    if (last && isOpen()) show(last);
  });
}

// Whole numbers (digitnet.number): a box over the pad around each character the network read, with
// its reading on a tab; selecting a tab (click, tap, or Tab and Enter) shows that character's bars
// and the 28x28 image it was read from. A single digit shows no boxes: it reads as it always has.
//
// The worker's result carries every character ({box: [left, top, right, bottom] in pad pixels,
// probs, image, notDigit, verdict, reason}); pick() turns it into the result the page shows: the
// number's value and the selected character's numbers.

const argmax = (values) => values.reduce((best, v, i) => (v > values[best] ? i : best), 0);
const NOT_A_DIGIT = "?";

export class NumberBoxes {
  /**
   * @param {HTMLElement} frame  the pad's frame: the boxes are laid over it
   * @param {() => {size: number, width: number, height: number}} frameUnits  the pixels to a pad
   *        height in what the worker read (digitnet.sizes.CANVAS), and the frame's box in pad
   *        heights (Pad.view)
   * @param {(index: number) => void} onSelect  a box was selected (the page reads again for it)
   */
  constructor(frame, frameUnits, onSelect) {
    this.layer = document.createElement("div");
    this.layer.className = "digit-boxes";
    frame.append(this.layer);
    this.frameUnits = frameUnits;
    this.onSelect = onSelect;
    this.selected = 0;
    this.boxes = [];
  }

  /** The text of a character: its digit, or "?" when it is not one. */
  static text(c) {
    return c.verdict === "digit" ? String(argmax(c.probs)) : NOT_A_DIGIT;
  }

  /** A result from the worker -> the result to show: for a number, its value ("20?6"), the
   * characters, and the selected character's probs, image and reason; else the result as it is. */
  pick(result) {
    const characters = result.characters || [];
    if (result.verdict !== "number" || characters.length < 2) {
      this.clear();
      return { ...result, value: null };
    }
    this.selected = Math.min(this.selected, characters.length - 1);
    const c = characters[this.selected];
    const value = characters.map(NumberBoxes.text).join("");
    this.#draw(characters);
    return {
      ...result,
      probs: c.probs,
      image: c.image,
      notDigit: c.notDigit,
      reason: c.reason,
      character: { index: this.selected, count: characters.length, verdict: c.verdict },
      value,
    };
  }

  clear() {
    this.layer.textContent = "";
    this.boxes = [];
    this.selected = 0;
  }

  /** For automation: {value, boxes: [{x0, y0, x1, y1 (in pad heights, as strokes are), digit, probs}]}. */
  describe(result) {
    const side = this.frameUnits().size;
    return {
      value: result.value,
      boxes: result.characters.map((c) => ({
        x0: c.box[0] / side,
        y0: c.box[1] / side,
        x1: c.box[2] / side,
        y1: c.box[3] / side,
        digit: NumberBoxes.text(c),
        probs: c.probs,
      })),
    };
  }

  #draw(characters) {
    const { size, width, height } = this.frameUnits();
    const pct = (v, across) => `${((100 * v) / size / across).toFixed(2)}%`;
    const focused = this.boxes.findIndex((b) => b.tab === document.activeElement);
    this.layer.textContent = "";
    this.boxes = characters.map((c, i) => {
      const [left, top, right, bottom] = c.box;
      const outline = document.createElement("div");
      outline.className = "digit-outline";
      Object.assign(outline.style, {
        left: pct(left, width),
        top: pct(top, height),
        width: pct(right - left, width),
        height: pct(bottom - top, height),
      });
      const tab = document.createElement("button");
      tab.type = "button";
      tab.className = "digit-box";
      tab.dataset.testid = "digit-box";
      tab.dataset.index = String(i);
      const text = NumberBoxes.text(c);
      tab.dataset.digit = text;
      tab.textContent = text;
      tab.style.left = pct(left, width);
      tab.style.top = pct(top, height);
      const what = text === NOT_A_DIGIT ? "not a digit" : text;
      tab.setAttribute("aria-label", `Character ${i + 1} of ${characters.length}: ${what}`);
      tab.setAttribute("aria-pressed", String(i === this.selected));
      outline.dataset.selected = tab.dataset.selected = String(i === this.selected);
      tab.addEventListener("pointerdown", (e) => e.stopPropagation()); // a tap on a tab is not a stroke
      tab.addEventListener("click", () => {
        this.selected = i;
        this.onSelect(i);
      });
      this.layer.append(outline, tab);
      return { outline, tab };
    });
    if (focused >= 0 && this.boxes[focused]) this.boxes[focused].tab.focus({ preventScroll: true });
  }
}

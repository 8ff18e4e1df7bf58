// The drawings' file format, shared with the offline side: the training CSV
// (header "label,1x1,...,28x28", then "label,p1,...,p784" with pixels 0-255; training/data.py),
// the label a digit 0-9 or 10 for "not a digit" (digitnet.sizes.NOT_DIGIT), so
// `python -m training.train --extra my-digits.csv` learns from what was taught here (the not-a-digit
// drawings too, for a model with that class: the default).

export const NOT_DIGIT_LABEL = 10; // digitnet.sizes.NOT_DIGIT: the model's 11th output
const PIXELS = 784;

/** Drawings [{label, image: Uint8Array(784)}] -> CSV text, every drawing (not a digit: label 10). */
export function csvFromDrawings(drawings) {
  const header = ["label", ...Array.from({ length: PIXELS }, (_, i) => `${Math.floor(i / 28) + 1}x${(i % 28) + 1}`)];
  const rows = drawings.map((d) => [d.label, ...d.image].join(","));
  return [header.join(","), ...rows].join("\n") + "\n";
}

/** CSV text -> drawings [{label (0-9, 10: not a digit), image, strokes: []}]; throws Error naming the
 * file and line. */
export function drawingsFromCsv(text, name) {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  while (lines.length && !lines[lines.length - 1].trim()) lines.pop();
  if (!lines.length) throw new Error(`${name}: the file is empty`);
  const header = lines[0].split(",");
  if (/^\d+$/.test(header[0].trim()) || header.length !== PIXELS + 1) {
    throw new Error(`${name}: line 1: expected a header of ${PIXELS + 1} columns (label, then ${PIXELS} pixels)`);
  }
  return lines.slice(1).map((line, i) => {
    const cells = line.split(",");
    const where = `${name}: line ${i + 2}`;
    if (cells.length !== PIXELS + 1) throw new Error(`${where}: ${cells.length} columns, expected ${PIXELS + 1}`);
    const values = cells.map((c) => (/^\s*\d+\s*$/.test(c) ? Number(c) : NaN));
    const bad = values.findIndex((v, k) => !(v >= 0 && v <= (k === 0 ? NOT_DIGIT_LABEL : 255)));
    if (bad >= 0) {
      throw new Error(`${where}: column ${bad + 1} is ${JSON.stringify(cells[bad])}, ` +
        (bad === 0 ? `expected a digit 0-9 or ${NOT_DIGIT_LABEL} (not a digit)` : "expected a pixel 0-255"));
    }
    return { label: values[0], image: Uint8Array.from(values.slice(1)), strokes: [] };
  });
}

// How many terminal columns text takes, where its graphemes are, and how it
// wraps. Most of what is drawn is printable ASCII and chatroom's own few
// symbols, one column a character; the rest is measured by string-width and
// wrapped by wrap-ansi, loaded by loadWidths(): their Unicode tables and ICU's
// grapheme data take ~30 ms that the first menu (all ASCII and our symbols)
// need not wait for. Short pieces (a grapheme, a
// name) are remembered once measured, a bounded number of them.

/** Printable ASCII and the symbols chatroom draws around text, each one column. */
const ONE_COLUMN_EACH = /^[\x20-\x7e❯›↑↓·…─│╭╮╰╯⋯]*$/;
const known = new Map<string, number>();
const MOST_KNOWN = 4096;
const LONGEST_KNOWN = 64;
let measure: ((text: string) => number) | undefined;
let wrapper: typeof import("wrap-ansi").default | undefined;
let loading: Promise<void> | undefined;

/**
 * Loads string-width and wrap-ansi. Everything that may measure text other
 * than ASCII and our symbols (names, messages, paths), or wrap any, waits
 * for it first.
 */
export function loadWidths(): Promise<void> {
  return loading ??= Promise.all([import("string-width"), import("wrap-ansi")]).then(
    ([width, wrap]) => {
      measure = width.default;
      wrapper = wrap.default;
    },
  );
}

/** `text` word-wrapped to `columns` by wrap-ansi (loaded by loadWidths()), words cut if longer. */
export function wrapColumns(text: string, columns: number): string {
  if (!wrapper) throw new Error("wrapColumns() before loadWidths()");
  return wrapper(text, columns, { hard: true, trim: true });
}

/** Whether measuring `text` takes string-width: it holds more than ASCII and our symbols. */
export function needsWidths(text: string): boolean {
  return !ONE_COLUMN_EACH.test(text);
}

/**
 * The columns `text` takes in a terminal (escape sequences take none).
 *
 * @example
 * ```ts
 * import { displayWidth, loadWidths } from "./width.ts";
 * await loadWidths();
 * displayWidth("hi"); // 2
 * displayWidth("日本"); // 4
 * ```
 */
export function displayWidth(text: string): number {
  if (!needsWidths(text)) return text.length; // each of them is one UTF-16 unit
  let width = known.get(text);
  if (width === undefined) {
    if (!measure) {
      throw new Error(`displayWidth() before loadWidths(), for ${JSON.stringify(text)}`);
    }
    width = measure(text);
    if (text.length <= LONGEST_KNOWN) {
      if (known.size >= MOST_KNOWN) known.clear();
      known.set(text, width);
    }
  }
  return width;
}

let segmenter: Intl.Segmenter | undefined;

/**
 * The graphemes of `text`, what a terminal draws as one character (a flag,
 * an accented letter), with their offsets; by one Segmenter made on first use.
 */
export function graphemes(text: string): Intl.Segments {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
  return segmenter.segment(text);
}

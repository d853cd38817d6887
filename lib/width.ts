// How many terminal columns text takes. Most of what is drawn is printable
// ASCII, one column a character; the rest is measured by string-width and
// short pieces (a grapheme, a name) are remembered, a bounded number of them.
import stringWidth from "string-width";

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const known = new Map<string, number>();
const MOST_KNOWN = 4096;
const LONGEST_KNOWN = 64;

/**
 * The columns `text` takes in a terminal (escape sequences take none).
 *
 * @example
 * ```ts
 * import { displayWidth } from "./width.ts";
 * displayWidth("hi"); // 2
 * displayWidth("日本"); // 4
 * ```
 */
export function displayWidth(text: string): number {
  if (PRINTABLE_ASCII.test(text)) return text.length;
  let width = known.get(text);
  if (width === undefined) {
    width = stringWidth(text);
    if (text.length <= LONGEST_KNOWN) {
      if (known.size >= MOST_KNOWN) known.clear();
      known.set(text, width);
    }
  }
  return width;
}

// Anyone who can write the database file can put any bytes in a message, a user
// name or a room name. Everything read from the file goes through `inert()`
// before it reaches the screen, so no stored text can drive the terminal.

const CONTROL_PICTURES_BASE = 0x2400; // U+2400 SYMBOL FOR NULL .. U+241F
const DELETE_PICTURE = "\u2421";
const REPLACEMENT = "\uFFFD";
const MAX_STACKED_MARKS = 4;

// C1 controls, bidi embeddings/overrides/isolates and marks, line/paragraph separators.
const INVISIBLE_CONTROL =
  /[\u0080-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;
// Invisible characters that some terminals draw with a width: dropped.
const IGNORABLE = /[\u200b\u2060-\u2064\ufeff\u00ad]/g;
const STACKED_MARKS = new RegExp(`(\\p{M}{${MAX_STACKED_MARKS}})\\p{M}+`, "gu");
const PLAIN = /^[\x20-\x7e]*$/;
const PLAIN_LINES = /^[\x20-\x7e\n]*$/;

/**
 * Returns `text` with everything that could drive a terminal made visible and
 * harmless: C0 controls become control pictures (ESC shows as `␛`), DEL as
 * `␡`, C1 controls, bidi controls and lone surrogates as `�`; invisible
 * characters are dropped and runs of combining marks are capped. Newlines are
 * kept when `multiline` is true and tabs become spaces.
 *
 * @example
 * ```ts
 * inert("\x1b[2Jhi"); // "␛[2Jhi"
 * ```
 */
export function inert(text: string, multiline = false): string {
  // Most text is printable ASCII (and line breaks), which holds nothing to change.
  if ((multiline ? PLAIN_LINES : PLAIN).test(text)) return text;
  let out = "";
  for (const char of text.toWellFormed()) {
    const code = char.codePointAt(0)!;
    if (char === "\n" && multiline) out += char;
    else if (char === "\t") out += "    ";
    else if (code < 0x20) out += String.fromCodePoint(CONTROL_PICTURES_BASE + code);
    else if (code === 0x7f) out += DELETE_PICTURE;
    else out += char;
  }
  return out
    .replace(INVISIBLE_CONTROL, REPLACEMENT)
    .replace(IGNORABLE, "")
    .replace(STACKED_MARKS, "$1");
}

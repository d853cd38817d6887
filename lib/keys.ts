// What the terminal sends in raw mode, read into keys, typed text and pastes.

/** A key the chat view acts on. */
export type KeyName =
  | "enter"
  | "newline"
  | "backspace"
  | "delete"
  | "left"
  | "right"
  | "up"
  | "down"
  | "home"
  | "end"
  | "word-left"
  | "word-right"
  | "page-up"
  | "page-down"
  | "tab"
  | "escape"
  | "ctrl-c"
  | "ctrl-d"
  | "ctrl-k"
  | "ctrl-l"
  | "ctrl-u"
  | "ctrl-w"
  | "alt-a";

/** One thing the user did at the keyboard. */
export type KeyEvent =
  | { kind: "text"; text: string }
  | { kind: "paste"; text: string }
  | { kind: "key"; name: KeyName };

const PASTE_START = "\x1b[200~";
const PASTE_END = "\x1b[201~";

const CONTROL_KEYS: Record<string, KeyName> = {
  "\r": "enter",
  "\n": "newline", // Ctrl-J
  "\x7f": "backspace",
  "\b": "backspace",
  "\t": "tab",
  "\x01": "home", // Ctrl-A
  "\x05": "end", // Ctrl-E
  "\x02": "left", // Ctrl-B
  "\x06": "right", // Ctrl-F
  "\x10": "up", // Ctrl-P
  "\x0e": "down", // Ctrl-N
  "\x03": "ctrl-c",
  "\x04": "ctrl-d",
  "\x0b": "ctrl-k",
  "\x0c": "ctrl-l",
  "\x15": "ctrl-u",
  "\x17": "ctrl-w",
};

// CSI and SS3 sequences by their final part: arrows, Home/End, Delete, PageUp/Down.
const SEQUENCES: Record<string, KeyName> = {
  "[A": "up",
  "[B": "down",
  "[C": "right",
  "[D": "left",
  "[H": "home",
  "[F": "end",
  "OA": "up",
  "OB": "down",
  "OC": "right",
  "OD": "left",
  "OH": "home",
  "OF": "end",
  "[1~": "home",
  "[7~": "home",
  "[4~": "end",
  "[8~": "end",
  "[3~": "delete",
  "[5~": "page-up",
  "[6~": "page-down",
  "[1;5C": "word-right",
  "[1;5D": "word-left",
  "[1;3C": "word-right",
  "[1;3D": "word-left",
  "a": "alt-a", // Alt-A: the next room with news
  "b": "word-left", // Alt-B
  "f": "word-right", // Alt-F
  "\r": "newline", // Alt-Enter
  "\x7f": "ctrl-w", // Alt-Backspace
};

// An escape sequence: CSI parameters and a final byte, SS3 and a letter, or Alt and one character.
// deno-lint-ignore no-control-regex -- reading escape sequences is the point
const ESCAPE_SEQUENCE = /^\x1b(\[[0-9;?]*[\x40-\x7e]|O[A-Za-z]|[^\x1b])/;
// deno-lint-ignore no-control-regex -- reading escape sequences is the point
const INCOMPLETE_ESCAPE = /^\x1b(\[[0-9;?]*|O)?$/;

/**
 * Reads raw-mode terminal input, chunk by chunk, into events. A bracketed
 * paste is one event however many chunks it spans; typed text comes in runs;
 * an escape sequence cut at a chunk's end waits for the next chunk.
 *
 * @example
 * ```ts
 * const keys = new KeyReader();
 * keys.feed("hi\r"); // [{ kind: "text", text: "hi" }, { kind: "key", name: "enter" }]
 * keys.feed("\x1b[200~a\nb\x1b[201~"); // [{ kind: "paste", text: "a\nb" }]
 * ```
 */
export class KeyReader {
  #pending = "";
  #paste: string | undefined;

  /** The events in `chunk`, with what earlier chunks left unfinished. */
  feed(chunk: string): KeyEvent[] {
    let input = this.#pending + chunk;
    this.#pending = "";
    const events: KeyEvent[] = [];
    const text = (t: string) => {
      const last = events.at(-1);
      if (last?.kind === "text") last.text += t;
      else events.push({ kind: "text", text: t });
    };
    while (input.length > 0) {
      if (this.#paste !== undefined) {
        const end = input.indexOf(PASTE_END);
        if (end === -1) {
          // Keep what could be the start of the end marker for the next chunk.
          const keep = partialSuffix(input, PASTE_END);
          this.#paste += input.slice(0, input.length - keep);
          this.#pending = input.slice(input.length - keep);
          return events;
        }
        events.push({ kind: "paste", text: normalizePaste(this.#paste + input.slice(0, end)) });
        this.#paste = undefined;
        input = input.slice(end + PASTE_END.length);
        continue;
      }
      if (input.startsWith(PASTE_START)) {
        this.#paste = "";
        input = input.slice(PASTE_START.length);
        continue;
      }
      const char = String.fromCodePoint(input.codePointAt(0)!);
      if (char === "\x1b") {
        if (input.length > 1 && INCOMPLETE_ESCAPE.test(input)) {
          this.#pending = input; // the rest of the sequence is in the next chunk
          return events;
        }
        const match = ESCAPE_SEQUENCE.exec(input);
        if (!match) {
          events.push({ kind: "key", name: "escape" });
          input = input.slice(1);
          continue;
        }
        const name = SEQUENCES[match[1]];
        if (name) events.push({ kind: "key", name });
        input = input.slice(match[0].length);
        continue;
      }
      const control = CONTROL_KEYS[char];
      if (control) events.push({ kind: "key", name: control });
      else if (char >= " ") text(char);
      input = input.slice(char.length);
    }
    return events;
  }
}

/** How many characters at the end of `text` begin `marker`. */
function partialSuffix(text: string, marker: string): number {
  for (let length = Math.min(marker.length - 1, text.length); length > 0; length--) {
    if (text.endsWith(marker.slice(0, length))) return length;
  }
  return 0;
}

/**
 * Line breaks in a paste, whatever the terminal sent, as `\n`; those at its
 * end are dropped (a copied line usually brings its line break, which would
 * sit unseen at the end of the draft).
 */
function normalizePaste(text: string): string {
  return text.replace(/\r\n?/g, "\n").replace(/\n+$/, "");
}

import process from "node:process";

const BRACKETED_PASTE_ON = "\x1b[?2004h";
const encoder = new TextEncoder();
/** Something to wait on, for a millisecond at a time, while the terminal is busy. */
const NAP = new Int32Array(new SharedArrayBuffer(4));
/** Longest a write waits for a terminal that takes nothing, in 1 ms naps. */
const MAX_NAPS = 10_000;
const BRACKETED_PASTE_OFF = "\x1b[?2004l";

/** Lines of text for a terminal in raw mode, where a line feed does not return the carriage. */
function rawLines(text: string): string {
  return text ? text.replaceAll("\n", "\r\n") + "\r\n" : "";
}

/**
 * The one module that writes to the terminal. In the chat view, anything
 * printed goes above the input area and the prompt and draft are redrawn with
 * the cursor where it was, in one write, so incoming messages never disturb
 * what the user is typing.
 */
export class Terminal {
  readonly input: NodeJS.ReadStream;
  readonly output: NodeJS.WriteStream;

  constructor(input = process.stdin, output = process.stdout) {
    this.input = input;
    this.output = output;
  }

  /** True when both ends are a terminal. */
  get interactive(): boolean {
    return Boolean(this.input.isTTY && this.output.isTTY);
  }

  /** Terminal width in columns. */
  get columns(): number {
    return this.output.columns || 80;
  }

  /** Prints a block of text (outside the chat view: a notice between menus). */
  print(text: string): void {
    this.#write(text + "\n");
  }

  /**
   * Writes all of `text`, in order. The terminal's descriptor is the one
   * stdin reads from, which Deno sets non-blocking, so a long write (a burst
   * of messages, a redraw) can be cut short or refused while the terminal
   * catches up; what is left is written as it takes more, never dropped.
   */
  #write(text: string): void {
    if (this.output !== process.stdout || !this.output.isTTY) {
      this.output.write(text); // a pipe, or a stream of a test's
      return;
    }
    let bytes = encoder.encode(text);
    let naps = 0;
    while (bytes.length > 0) {
      try {
        bytes = bytes.subarray(Deno.stdout.writeSync(bytes));
        naps = 0;
      } catch (err) {
        if (!(err instanceof Deno.errors.WouldBlock) || ++naps > MAX_NAPS) throw err;
        Atomics.wait(NAP, 0, 0, 1);
      }
    }
  }

  /**
   * Until the returned function is called, SIGTERM and SIGHUP (a closed
   * window) end the program with the terminal as the shell needs it: line mode
   * and echo back, the cursor shown, on a line of its own. A half-typed line
   * is never sent on the way out.
   */
  exitOnSignals(): () => void {
    const listeners = (["SIGTERM", "SIGHUP"] as const).map((signal) => {
      const listener = () => {
        this.restore();
        Deno.exit(128 + (signal === "SIGTERM" ? 15 : 1));
      };
      Deno.addSignalListener(signal, listener);
      return () => Deno.removeSignalListener(signal, listener);
    });
    return () => listeners.forEach((remove) => remove());
  }

  /** Gives the terminal back as the shell left it: cooked mode, echo, a visible cursor. */
  restore(): void {
    if (!this.interactive) return;
    try {
      this.input.setRawMode(false);
      // Show the cursor (menus hide it), and leave the line the cursor is on
      // with what is below it cleared (a menu's hints), for the shell's prompt.
      this.#write(BRACKETED_PASTE_OFF + "\x1b[?25h\n\x1b[J");
    } catch {
      // The terminal is gone (the window was closed): nothing to give back.
    }
  }

  /** Terminal height in rows. */
  get rows(): number {
    return this.output.rows || 24;
  }

  /**
   * Reads keys in raw mode, with bracketed paste, until the returned function
   * is called: `onInput` gets each chunk as the terminal sent it, `onResize`
   * is called when the window changes size, `onEnd` when input ends. Line
   * mode, echo and plain paste come back on stop.
   */
  readKeys(
    onInput: (chunk: string) => void,
    onResize: () => void,
    onEnd: () => void,
  ): () => void {
    const onData = (chunk: Buffer | string) => onInput(String(chunk));
    this.input.setRawMode(true);
    this.input.setEncoding("utf8");
    this.input.on("data", onData);
    this.input.once("end", onEnd); // the terminal is gone (a closed window)
    this.input.once("error", onEnd);
    this.input.resume();
    this.output.on("resize", onResize);
    this.#write(BRACKETED_PASTE_ON);
    this.#inputArea = { rows: 1, cursorRow: 0 };
    return () => {
      this.#write(BRACKETED_PASTE_OFF);
      this.output.off("resize", onResize);
      this.input.off("data", onData);
      this.input.off("end", onEnd);
      this.input.off("error", onEnd);
      this.input.pause();
      this.input.setRawMode(false);
      this.#inputArea = undefined;
    };
  }

  /** Where the input area drawn last is: how many rows, and the cursor's row in it. */
  #inputArea: { rows: number; cursorRow: number } | undefined;

  /** Moves to the first row of the input area and clears from there down. */
  #clearInputArea(): string {
    const area = this.#inputArea;
    if (!area) return "";
    return (area.cursorRow > 0 ? `\x1b[${area.cursorRow}A` : "") + "\r\x1b[J";
  }

  #inputText(view: { rows: string[]; cursorRow: number; cursorColumn: number }): string {
    this.#inputArea = { rows: view.rows.length, cursorRow: view.cursorRow };
    const up = view.rows.length - 1 - view.cursorRow;
    return view.rows.join("\r\n") + (up > 0 ? `\x1b[${up}A` : "") + "\r" +
      (view.cursorColumn > 0 ? `\x1b[${view.cursorColumn}C` : "");
  }

  /**
   * Prints `text` above the input area (when `text` is not empty) and draws
   * the input area, in one write; with `ring`, the terminal's bell rings too.
   */
  drawInput(
    view: { rows: string[]; cursorRow: number; cursorColumn: number },
    above = "",
    ring = false,
  ): void {
    this.#write(
      (ring ? "\x07" : "") + this.#clearInputArea() + rawLines(above) + this.#inputText(view),
    );
  }

  /**
   * Clears the screen and draws `screen` (the last rows of what was shown, at
   * the current width) and the input area, in one write. Used after a resize,
   * when what the terminal shows was laid out for another width.
   */
  redraw(screen: string, view: { rows: string[]; cursorRow: number; cursorColumn: number }): void {
    this.#write("\x1b[H\x1b[2J" + rawLines(screen) + this.#inputText(view));
  }

  /** Leaves the input area: the cursor goes to a fresh line below it. */
  leaveInput(): void {
    const area = this.#inputArea;
    if (!area) return;
    const down = area.rows - 1 - area.cursorRow;
    this.#write((down > 0 ? `\x1b[${down}B` : "") + "\r\n");
  }
}

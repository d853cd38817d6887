import process from "node:process";
import {
  clearScreenDown,
  createInterface,
  cursorTo,
  emitKeypressEvents,
  type Interface,
  moveCursor,
} from "node:readline";
import stringWidth from "string-width";

/**
 * The one module that writes to the terminal. While a line is being read,
 * anything printed goes above the input line and the prompt and draft are
 * redrawn with the cursor where it was, so incoming messages never disturb
 * what the user is typing.
 */
export class Terminal {
  readonly input: NodeJS.ReadStream;
  readonly output: NodeJS.WriteStream;
  #reader: Interface | undefined;
  #history: string[] = [];
  #pendingDraft = "";

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

  /** Prints a block of text; above the prompt and draft when a line is being read. */
  print(text: string): void {
    const reader = this.#reader;
    if (!reader) {
      this.output.write(text + "\n");
      return;
    }
    const { rows } = reader.getCursorPos();
    moveCursor(this.output, 0, -rows);
    cursorTo(this.output, 0);
    clearScreenDown(this.output);
    this.output.write(text + "\n");
    reader.prompt(true);
  }

  /**
   * Reads lines with `prompt` until the user presses Ctrl-C or Ctrl-D, or the
   * loop stops. Each submitted line is wiped from the screen (the chat shows
   * it again as a bubble); up and down recall earlier lines, across calls.
   */
  async *lines(prompt: string): AsyncGenerator<string> {
    const reader = createInterface({
      input: this.input,
      output: this.output,
      prompt,
      terminal: this.interactive,
      history: this.#history,
      historySize: 500,
      removeHistoryDuplicates: true,
    });
    reader.on("history", (history: string[]) => this.#history = history);
    reader.on("SIGINT", () => reader.close());
    // At the end of input (a closed window) readline hands over the half-typed
    // line as if Enter had been pressed; it was not, so it is dropped.
    let ended = false;
    const onEnd = () => ended = true;
    this.input.prependListener("end", onEnd);
    this.#reader = reader;
    try {
      reader.prompt();
      for await (const line of reader) {
        if (ended) break;
        this.#wipeSubmitted(prompt, line);
        yield line;
        reader.prompt();
        if (this.#pendingDraft) reader.write(this.#pendingDraft);
        this.#pendingDraft = "";
      }
    } finally {
      this.input.off("end", onEnd);
      this.#reader = undefined;
      reader.close();
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
      this.output.write("\x1b[?25h\n\x1b[J");
    } catch {
      // The terminal is gone (the window was closed): nothing to give back.
    }
  }

  /** Puts text back into the draft, e.g. a message that could not be sent. */
  restoreDraft(text: string): void {
    this.#pendingDraft = text;
  }

  /** Changes the prompt of the line being read. */
  setPrompt(prompt: string): void {
    this.#reader?.setPrompt(prompt);
  }

  #wipeSubmitted(prompt: string, line: string): void {
    if (!this.interactive) return;
    const rows = Math.ceil(Math.max(1, stringWidth(prompt + line)) / this.columns);
    moveCursor(this.output, 0, -rows);
    cursorTo(this.output, 0);
    clearScreenDown(this.output);
  }

  /**
   * Calls `onEscape` when Esc is pressed until the returned function is called.
   * Menus use it to go back.
   */
  onEscape(onEscape: () => void): () => void {
    emitKeypressEvents(this.input);
    const listener = (_text: string, key?: { name?: string }) => {
      if (key?.name === "escape") onEscape();
    };
    this.input.on("keypress", listener);
    return () => this.input.off("keypress", listener);
  }
}

import { createInterface, type Interface } from "node:readline";
import type { Readable } from "node:stream";

/**
 * The lines of a stream, read as they arrive and shared by whoever needs them:
 * `--password-stdin` takes the first, `send` the rest.
 *
 * @example
 * ```ts
 * const lines = new StdinLines(process.stdin);
 * const password = await lines.next();
 * for await (const line of lines) console.log(line);
 * ```
 */
export class StdinLines implements AsyncIterable<string> {
  readonly #input: Readable;
  #iterator: AsyncIterator<string> | undefined;
  #reader: Interface | undefined;

  constructor(input: Readable) {
    this.#input = input;
  }

  #lines(): AsyncIterator<string> {
    if (!this.#iterator) {
      this.#reader = createInterface({ input: this.#input, terminal: false, crlfDelay: Infinity });
      this.#iterator = this.#reader[Symbol.asyncIterator]();
    }
    return this.#iterator;
  }

  /** The next line, or undefined at the end of the stream. */
  async next(): Promise<string | undefined> {
    const { value, done } = await this.#lines().next();
    return done ? undefined : value;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    for (;;) {
      const line = await this.next();
      if (line === undefined) return;
      yield line;
    }
  }

  /** Stops reading. */
  close(): void {
    this.#reader?.close();
  }
}

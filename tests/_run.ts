// Runs the program the way a user does: `deno task chat ...` from the repo root,
// so the tests use the same least-privilege flags as the README.

/** The repository root. */
export const ROOT = new URL("..", import.meta.url).pathname;

/** The command line that starts chatroom, as a user types it. */
export const CHAT = [Deno.execPath(), "task", "-q", "chat"];

/** The `deno run ...` line that `deno task chat` runs, without the task runner in between. */
export const CHAT_RUN: string[] = (() => {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`));
  const [deno, ...rest] = (config.tasks.chat as string).split(" ");
  if (deno !== "deno") throw new Error(`unexpected chat task: ${config.tasks.chat}`);
  return [Deno.execPath(), ...rest];
})();

/**
 * The `deno run ...` line of `deno task chat:pg`, with its network permission
 * for `address` (HOST:PORT) filled in as the task runner would.
 */
export function chatPgRun(address: string): string[] {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`));
  const [deno, ...rest] = (config.tasks["chat:pg"] as string).split(" ");
  if (deno !== "deno") throw new Error(`unexpected chat:pg task: ${config.tasks["chat:pg"]}`);
  return [Deno.execPath(), ...rest.map((arg) => arg.replace("$CHATROOM_PG_ADDR", address))];
}

/** Quotes one argument for sh. */
export function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The result of one run. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno task chat ...args` (or another task) with `env` and optional stdin text. */
export async function runChat(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string; task?: string } = {},
): Promise<Run> {
  const child = new Deno.Command(CHAT[0], {
    args: [...CHAT.slice(1, -1), options.task ?? "chat", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...options.env },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

/**
 * A long-running process (`chatroom ...` unless told otherwise) whose stdout is
 * read by line. It runs `deno run` directly, not through `deno task`, so that
 * killing it kills the program and leaves nothing behind.
 */
export class Running implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly #chunks: AsyncIterator<string>;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  /** Output read but not yet taken by nextLine(). */
  #buffered = "";
  /** Everything written to stderr so far. */
  #stderr = "";
  readonly #stderrDone: Promise<void>;

  constructor(
    args: string[],
    env: Record<string, string>,
    { withStdin = false, command = CHAT_RUN } = {},
  ) {
    const child = new Deno.Command(command[0], {
      args: [...command.slice(1), ...args],
      cwd: ROOT,
      env: { NO_COLOR: "1", ...env },
      stdin: withStdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.child = child;
    this.#stdin = withStdin ? child.stdin.getWriter() : undefined;
    this.#chunks = this.child.stdout.pipeThrough(new TextDecoderStream())[Symbol.asyncIterator]();
    this.#stderrDone = (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        this.#stderr += chunk;
      }
    })().catch(() => {});
  }

  /** Waits until stderr has shown `text`; fails after `timeoutMs`. */
  async waitForError(text: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#stderr.includes(text)) {
      if (Date.now() > deadline) {
        throw new Error(`Timed out waiting for ${JSON.stringify(text)} on stderr: ${this.#stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Reads more output into the buffer; fails at the deadline or at the end of output. */
  async #more(deadline: number, what: string): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Timed out waiting for ${what}`)),
        deadline - Date.now(),
      );
    });
    try {
      const { value, done } = await Promise.race([this.#chunks.next(), timeout]);
      if (done) throw new Error(`The process closed its output before ${what}`);
      this.#buffered += value;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The next line of stdout; fails after `timeoutMs` or at the end of output. */
  async nextLine(timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#buffered.includes("\n")) await this.#more(deadline, "a line");
    const end = this.#buffered.indexOf("\n");
    const line = this.#buffered.slice(0, end);
    this.#buffered = this.#buffered.slice(end + 1);
    return line;
  }

  /** Waits until stdout has shown `text`, for output that is not line by line (a terminal). */
  async waitForText(text: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#buffered.includes(text)) await this.#more(deadline, JSON.stringify(text));
  }

  /** Writes text to the process's stdin; a line unless told otherwise. */
  async write(text: string, end = "\n"): Promise<void> {
    await this.#stdin!.write(new TextEncoder().encode(text + end));
  }

  /** Closes stdin and waits for the process to end. */
  async finish(): Promise<Deno.CommandStatus & { stderr: string }> {
    await this.#stdin?.close().catch(() => {}); // already closed if the process died
    const status = await this.child.status;
    await this.#stderrDone;
    return { ...status, stderr: this.#stderr };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await this.child.status;
    await this.#chunks.return?.().catch(() => {});
    await this.#stderrDone;
  }
}

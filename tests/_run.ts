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

/** The result of one run. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno task chat ...args` with `env` and optional stdin text. */
export async function runChat(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<Run> {
  const child = new Deno.Command(CHAT[0], {
    args: [...CHAT.slice(1), ...args],
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
  readonly #lines: AsyncIterator<string>;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #buffered = "";
  #rawChunks = false;

  constructor(
    args: string[],
    env: Record<string, string>,
    { withStdin = false, command = CHAT_RUN } = {},
  ) {
    this.child = new Deno.Command(command[0], {
      args: [...command.slice(1), ...args],
      cwd: ROOT,
      env: { NO_COLOR: "1", ...env },
      stdin: withStdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = withStdin ? this.child.stdin.getWriter() : undefined;
    this.#lines = this.#readLines();
  }

  async *#readLines(): AsyncGenerator<string> {
    const decoder = new TextDecoder();
    for await (const chunk of this.child.stdout) {
      this.#buffered += decoder.decode(chunk, { stream: true });
      if (this.#rawChunks) {
        yield this.#buffered;
        this.#buffered = "";
        continue;
      }
      let end;
      while ((end = this.#buffered.indexOf("\n")) >= 0) {
        const line = this.#buffered.slice(0, end);
        this.#buffered = this.#buffered.slice(end + 1);
        yield line;
      }
    }
  }

  /** The next line of stdout; fails after `timeoutMs` or at the end of output. */
  async nextLine(timeoutMs = 20_000): Promise<string> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("Timed out waiting for a line")), timeoutMs);
    });
    try {
      const { value, done } = await Promise.race([this.#lines.next(), timeout]);
      if (done) throw new Error("The process closed its output");
      return value;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The next chunk of stdout as it came, for output that is not line by line. */
  nextChunk(timeoutMs = 20_000): Promise<string> {
    this.#rawChunks = true;
    return this.nextLine(timeoutMs);
  }

  /** Writes text to the process's stdin; a line unless told otherwise. */
  async write(text: string, end = "\n"): Promise<void> {
    await this.#stdin!.write(new TextEncoder().encode(text + end));
  }

  /** Closes stdin and waits for the process to end. */
  async finish(): Promise<Deno.CommandStatus & { stderr: string }> {
    await this.#stdin?.close().catch(() => {}); // already closed if the process died
    const status = await this.child.status;
    return { ...status, stderr: await new Response(this.child.stderr).text() };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await this.child.status;
    await this.child.stdout.cancel().catch(() => {});
    await this.child.stderr.cancel().catch(() => {});
  }
}

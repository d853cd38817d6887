// Runs the program the way a user does: `deno task chat ...` from the repo root,
// so the tests use the same least-privilege flags as the README.

/** The repository root. */
export const ROOT = new URL("..", import.meta.url).pathname;

/** The command line that starts chatroom, as a user types it. */
export const CHAT = [Deno.execPath(), "task", "-q", "chat"];

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

/** A long-running `chatroom` process whose stdout is read line by line. */
export class Running implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly #lines: AsyncIterator<string>;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #buffered = "";

  constructor(args: string[], env: Record<string, string>, withStdin = false) {
    this.child = new Deno.Command(CHAT[0], {
      args: [...CHAT.slice(1), ...args],
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

  /** Writes a line to the process's stdin. */
  async writeLine(line: string): Promise<void> {
    await this.#stdin!.write(new TextEncoder().encode(line + "\n"));
  }

  /** Closes stdin and waits for the process to end. */
  async finish(): Promise<Deno.CommandStatus & { stderr: string }> {
    await this.#stdin?.close();
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

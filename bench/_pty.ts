// A program on a pseudo-terminal (util-linux `script`), as a user runs it: the
// bench reads what reaches the terminal, stamps when each marker first shows,
// and reads the program's CPU time per thread from /proc.

const decoder = new TextDecoder();
const stamp = () => performance.timeOrigin + performance.now();

/** CPU time (ms) a process has used, by thread kind: main, worker, V8's helpers, I/O. */
export type ThreadCpu = Record<"main" | "worker" | "v8" | "io" | "other", number>;

/** Markers `m<number>q` in a text, as the sender writes them. */
const MARKER = /m(\d+)q/g;

export class PtyProgram implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly started = stamp();
  /** The newest output, enough to find a marker cut between two reads. */
  #tail = "";
  /** All output seen so far, up to a cap, for waiting on text. */
  #seen = "";
  /** When each marker first reached the terminal. */
  readonly markers = new Map<number, number>();
  readonly #reading: Promise<void>;
  #waiters: { text: string; resolve: (at: number) => void }[] = [];

  /** Runs `command` (an argv) in a 100x30 pseudo-terminal with `env`, in `cwd`. */
  constructor(command: string[], env: Record<string, string>, cwd?: string) {
    const line = `exec ${command.map(shellQuote).join(" ")}`;
    this.#child = new Deno.Command("script", {
      args: ["-qfec", line, "/dev/null"],
      cwd,
      env: { COLUMNS: "100", LINES: "30", TERM: "xterm-256color", ...env },
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#reading = this.#read();
  }

  async #read(): Promise<void> {
    for await (const chunk of this.#child.stdout) {
      const at = stamp();
      const text = decoder.decode(chunk, { stream: true });
      const window = this.#tail + text;
      for (const match of window.matchAll(MARKER)) {
        const id = Number(match[1]);
        if (!this.markers.has(id)) this.markers.set(id, at);
      }
      this.#tail = window.slice(-64);
      if (this.#seen.length < 1 << 20) this.#seen += text;
      this.#waiters = this.#waiters.filter((waiter) => {
        if (!this.#seen.includes(waiter.text)) return true;
        waiter.resolve(at);
        return false;
      });
    }
  }

  /** Resolves with the time `text` first reached the terminal; fails after `timeoutMs`. */
  waitFor(text: string, timeoutMs = 30_000): Promise<number> {
    if (this.#seen.includes(text)) return Promise.resolve(stamp());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no "${text}" on the terminal: ${JSON.stringify(this.#seen)}`)),
        timeoutMs,
      );
      this.#waiters.push({
        text,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      });
    });
  }

  /** The program's own process id (under `script`, and under `deno task` when `depth` is 2). */
  pid(depth = 1): number {
    let pid = this.#child.pid;
    for (let i = 0; i < depth; i++) {
      pid = Number(Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim().split(" ")[0]);
    }
    return pid;
  }

  /** Types `text` into the terminal. */
  async type(text: string): Promise<void> {
    const writer = this.#child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(text));
    writer.releaseLock();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // gone already
    }
    await this.#child.status;
    await this.#reading.catch(() => {});
  }
}

/** CPU time used so far by each thread of `pid`, from schedstat (ns on CPU), by kind. */
export function threadCpu(pid: number): ThreadCpu {
  const cpu: ThreadCpu = { main: 0, worker: 0, v8: 0, io: 0, other: 0 };
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    let comm: string, ns: number;
    try {
      comm = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/comm`).trim();
      ns = Number(Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/schedstat`).split(" ")[0]);
    } catch {
      continue; // the thread ended meanwhile
    }
    const kind = Number(task.name) === pid
      ? "main"
      : comm.startsWith("worker-")
      ? "worker"
      : comm.startsWith("V8 ")
      ? "v8"
      : comm.startsWith("tokio")
      ? "io"
      : "other";
    cpu[kind] += ns / 1e6;
  }
  return cpu;
}

/** `after - before`, thread kind by thread kind. */
export function cpuSince(before: ThreadCpu, after: ThreadCpu): ThreadCpu {
  const out = { ...after };
  for (const kind of Object.keys(out) as (keyof ThreadCpu)[]) out[kind] -= before[kind];
  return out;
}

export function totalCpu(cpu: ThreadCpu): number {
  return cpu.main + cpu.worker + cpu.v8 + cpu.io + cpu.other;
}

/** Resident memory of `pid`, in MiB. */
export function rssMiB(pid: number): number {
  const kb = Number(Deno.readTextFileSync(`/proc/${pid}/status`).match(/VmRSS:\s*(\d+)/)?.[1]);
  return kb / 1024;
}

function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

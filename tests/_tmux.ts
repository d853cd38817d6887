// Real terminals for end-to-end tests: each Screen is a tmux session running
// the program; tests type with send-keys and read with capture-pane, waiting
// for text with a deadline instead of sleeping.
import { CHAT, ROOT, shellQuote } from "./_run.ts";

const SOCKET = `chatroom-test-${Deno.pid}`;

async function tmux(...args: string[]): Promise<string> {
  for (let attempt = 1;; attempt++) {
    const { code, stdout, stderr } = await new Deno.Command("tmux", {
      args: ["-L", SOCKET, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (code === 0) return new TextDecoder().decode(stdout);
    const said = new TextDecoder().decode(stderr);
    // A server whose last session has just ended can still take a new one, then exit under it.
    if (args[0] === "new-session" && said.includes("server exited") && attempt < 3) continue;
    throw new Error(`tmux ${args[0]} failed: ${said}`);
  }
}

let sessions = 0;

/** A terminal of 100 x 30 running `deno task chat ...args`. */
export class Screen implements AsyncDisposable {
  readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }

  /**
   * Starts the program in a new terminal. When it exits, "[exit N]" is
   * printed, then what the shell command `after` prints. `before` runs first.
   */
  static async start(
    args: string[],
    env: Record<string, string>,
    { before = "", after = "", task = "chat" } = {},
  ): Promise<Screen> {
    const name = `s${++sessions}`;
    const command = before + [...CHAT.slice(0, -1), task, ...args].map(shellQuote).join(" ");
    const vars = Object.entries({ TERM: "xterm-256color", ...env })
      .flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    await tmux(
      "new-session",
      "-d",
      "-s",
      name,
      "-x",
      "100",
      "-y",
      "30",
      "-c",
      ROOT,
      ...vars,
      `${command}; echo "[exit $?]"; ${after} sleep 600`,
    );
    return new Screen(name);
  }

  /** The visible screen (with `scrollback`, all of history too), trailing spaces removed. */
  async text(scrollback = false): Promise<string> {
    const range = scrollback ? ["-S", "-"] : [];
    const rows = (await tmux("capture-pane", "-p", ...range, "-t", this.name)).split("\n");
    return rows.map((row) => row.trimEnd()).join("\n");
  }

  /** Types text literally. */
  async type(text: string): Promise<void> {
    await tmux("send-keys", "-t", this.name, "-l", text);
  }

  /** Presses keys by tmux name: Enter, Escape, Down, Left, C-c, ... */
  async press(...keys: string[]): Promise<void> {
    await tmux("send-keys", "-t", this.name, ...keys);
  }

  /** Pastes `text` the way a terminal does, inside bracketed-paste markers when the program asks. */
  async paste(text: string): Promise<void> {
    const file = Deno.makeTempFileSync();
    try {
      Deno.writeTextFileSync(file, text);
      await tmux("load-buffer", "-b", "test-paste", file);
      await tmux("paste-buffer", "-p", "-d", "-b", "test-paste", "-t", this.name);
    } finally {
      Deno.removeSync(file);
    }
  }

  /** Resizes the terminal. */
  async resize(columns: number, rows: number): Promise<void> {
    await tmux("resize-window", "-t", this.name, "-x", String(columns), "-y", String(rows));
  }

  /** Types a line and presses Enter. */
  async line(text: string): Promise<void> {
    await this.type(text);
    await this.press("Enter");
  }

  /** Waits until the screen matches; fails with the screen after `timeoutMs`. */
  async waitFor(
    pattern: string | RegExp,
    { timeoutMs = 20_000, scrollback = false } = {},
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = await this.text(scrollback);
      if (typeof pattern === "string" ? screen.includes(pattern) : pattern.test(screen)) {
        return screen;
      }
      if (Date.now() > deadline) {
        throw new Error(`Timed out waiting for ${pattern} on the screen:\n${screen}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The cursor position, zero-based. */
  async cursor(): Promise<{ x: number; y: number }> {
    const [x, y] = (await tmux("display-message", "-p", "-t", this.name, "#{cursor_x} #{cursor_y}"))
      .trim().split(" ").map(Number);
    return { x, y };
  }

  /** A tmux format variable of this pane, e.g. `pane_title` or `window_bell_flag`. */
  async format(name: string): Promise<string> {
    return (await tmux("display-message", "-p", "-t", this.name, `#{${name}}`)).trimEnd();
  }

  /** How many paste buffers tmux holds (OSC 52 clipboard writes would add one). */
  async buffers(): Promise<number> {
    return (await tmux("list-buffers")).split("\n").filter(Boolean).length;
  }

  /** The row the cursor is on. */
  async cursorLine(): Promise<string> {
    const { y } = await this.cursor();
    return (await this.text()).split("\n")[y];
  }

  /** Sends `signal` to the program (not to the shell or `deno task` around it). */
  async signal(signal: Deno.Signal): Promise<void> {
    Deno.kill(await this.programPid(), signal);
  }

  /** The process id of the program (`deno run`, under the shell and `deno task`). */
  async programPid(): Promise<number> {
    const children = async (pid: string) =>
      new TextDecoder().decode(
        (await new Deno.Command("pgrep", { args: ["-P", pid], stdout: "piped" }).output()).stdout,
      ).trim();
    const shell = await this.format("pane_pid");
    const program = await children(await children(shell)); // shell > deno task > deno run
    if (!/^\d+$/.test(program)) throw new Error(`no single program under ${shell}: ${program}`);
    return Number(program);
  }

  /** Closes the terminal, as closing its window does. */
  async close(): Promise<void> {
    await tmux("kill-session", "-t", this.name);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await tmux("kill-session", "-t", this.name).catch(() => {});
  }
}

/** A bubble row holding exactly `text`, padded to the bubble's width. */
export function bubbleLine(text: string): RegExp {
  return new RegExp(`│ ${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} *│`);
}

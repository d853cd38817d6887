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

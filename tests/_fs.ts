// File-system helpers the tests need beyond Deno's own API.
import { chmodSync, linkSync } from "node:fs";

export { chmodSync, linkSync };

/** Makes a FIFO (Deno has no mkfifo). */
export function mkfifoSync(path: string): void {
  const { code, stderr } = new Deno.Command("mkfifo", { args: [path], stderr: "piped" })
    .outputSync();
  if (code !== 0) throw new Error(`mkfifo ${path}: ${new TextDecoder().decode(stderr)}`);
}

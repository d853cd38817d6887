import process from "node:process";
import config from "./deno.json" with { type: "json" };
import { run } from "./lib/app.ts";
import { parseCommandLine, takeEnvPassword, USAGE } from "./lib/cli.ts";
import { ChatError } from "./lib/errors.ts";
import { inert } from "./lib/sanitize.ts";
import { Terminal } from "./lib/terminal.ts";

async function main(args: string[]): Promise<number> {
  // Read the password once and take it out of the environment, so nothing we start can see it.
  const password = takeEnvPassword(process.env);
  // Past a file-size limit the kernel would kill us with SIGXFSZ; handled, the
  // write fails instead and SQLite rolls the message back, which we report.
  Deno.addSignalListener("SIGXFSZ", () => {});
  try {
    const invocation = parseCommandLine(args);
    if (invocation.command === "help") {
      console.log(USAGE);
      return 0;
    }
    if (invocation.command === "version") {
      console.log(`chatroom ${config.version}`);
      return 0;
    }
    const interrupted = () => new Promise((resolve) => process.once("SIGINT", resolve));
    // `chatroom tail | head` closes the pipe early: that is the reader's choice, not an error.
    process.stdout.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(0);
    });
    await run(invocation, {
      db: process.env.CHATROOM_DB || undefined,
      password,
      noColor: Boolean(process.env.NO_COLOR),
    }, { terminal: new Terminal(), interrupted });
    return 0;
  } catch (err) {
    if (err instanceof ChatError) {
      // Error lines carry names, paths and argv values: one inert line, whatever they hold.
      console.error(`chatroom: ${inert(err.message)}`);
      return err.exitCode;
    }
    console.error(`chatroom: unexpected error: ${inert(String((err as Error)?.message ?? err))}`);
    if (process.env.CHATROOM_DEBUG) console.error(err);
    return 1;
  }
}

if (import.meta.main) process.exit(await main(Deno.args));

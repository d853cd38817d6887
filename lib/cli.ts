import { parseArgs } from "node:util";
import { UsageError } from "./errors.ts";

/** What the command line asked for. */
export interface Invocation {
  command: "chat" | "register" | "help" | "version";
  db?: string;
  user?: string;
  room?: string;
  passwordStdin: boolean;
}

/** The text `--help` prints. */
export const USAGE = `chatroom: chat with other terminals through one SQLite file

Usage:
  chatroom [--db PATH] [--user NAME] [--room NAME]
  chatroom register --user NAME [--db PATH] [--password-stdin]
  chatroom --help | --version

Options:
  --db PATH          Database file (default: $CHATROOM_DB, else ./chatroom.db)
  --user NAME        Log in as NAME (register: the account to create)
  --room NAME        Go straight into room NAME, creating it if needed
  --password-stdin   register: read the password from the first line of stdin
  -h, --help         Show this help
  -V, --version      Show the version

Environment:
  CHATROOM_DB        Database file when --db is not given
  CHATROOM_PASSWORD  Password for --user, so no prompt is shown (read once, then removed)
  NO_COLOR           Any value turns colours off

In a room, type /help for the commands; q alone leaves the room.`;

/**
 * Parses the command line. Bad usage throws {@linkcode UsageError} (exit 2).
 *
 * @example
 * ```ts
 * parseCommandLine(["--user", "alice", "--room", "lobby"]);
 * // { command: "chat", user: "alice", room: "lobby", passwordStdin: false }
 * ```
 */
export function parseCommandLine(args: string[]): Invocation {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        db: { type: "string" },
        user: { type: "string" },
        room: { type: "string" },
        "password-stdin": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
        version: { type: "boolean", short: "V", default: false },
      },
    });
  } catch (err) {
    // Node's messages go on with advice about "--"; the first sentence is the point.
    throw new UsageError(`${(err as Error).message.split(". ")[0]}; see chatroom --help`);
  }
  const { values, positionals } = parsed;
  const base = {
    db: values.db,
    user: values.user,
    room: values.room,
    passwordStdin: values["password-stdin"],
  };
  if (values.help) return { ...base, command: "help" };
  if (values.version) return { ...base, command: "version" };
  const [command, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`Unexpected argument "${extra[0]}"`);
  if (command === undefined) {
    if (base.passwordStdin) throw new UsageError("--password-stdin goes with register");
    return { ...base, command: "chat" };
  }
  if (command === "register") {
    if (!base.user) throw new UsageError("register needs --user NAME");
    if (base.room) throw new UsageError("register takes no --room");
    return { ...base, command: "register" };
  }
  throw new UsageError(`Unknown command "${command}"; see chatroom --help`);
}

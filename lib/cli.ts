import { parseArgs } from "node:util";
import { UsageError } from "./errors.ts";

/** Formats `chatroom export` writes. */
export const EXPORT_FORMATS = ["txt", "md", "json"] as const;
/** One of {@linkcode EXPORT_FORMATS}. */
export type ExportFormat = typeof EXPORT_FORMATS[number];

/** What the command line asked for. */
export interface Invocation {
  command:
    | "chat"
    | "setup"
    | "register"
    | "send"
    | "tail"
    | "rooms"
    | "export"
    | "search"
    | "help"
    | "version";
  db?: string;
  user?: string;
  room?: string;
  passwordStdin: boolean;
  /** send: the message given as arguments; undefined to read stdin. search: the words. */
  text?: string;
  /** send: to this account's direct conversation instead of a room. */
  to?: string;
  /** tail: follow the direct conversation with this account instead of a room. */
  with?: string;
  /** tail: how many earlier messages to print first. */
  history: number;
  /** tail: resume after this message id instead of printing history. */
  after?: number;
  /** tail, rooms: JSON output. */
  json: boolean;
  /** export: the output format. */
  format: ExportFormat;
}

/** The text `--help` prints. */
export const USAGE =
  `chatroom: chat with other terminals through one SQLite file or a PostgreSQL server

Usage:
  chatroom [--db PATH|URL] [--user NAME] [--room NAME]
  chatroom setup --db postgres://HOST[:PORT]/DBNAME
  chatroom register --user NAME [--password-stdin]
  chatroom send --user NAME (--room ROOM | --to NAME) [--password-stdin] [TEXT...]
  chatroom tail --user NAME (--room ROOM | --with NAME) [--password-stdin]
                [--history N | --after ID] [--json]
  chatroom rooms [--user NAME] [--json]
  chatroom export --room ROOM [--format txt|md|json]
  chatroom search [--user NAME] [--room ROOM] [--json] WORDS...
  chatroom --help | --version

Commands:
  setup              PostgreSQL: create or update the schema, roles and policies (the owner, once)
  register           Create an account
  send               Send TEXT as one message, or each line of stdin as it arrives
  tail               Print the last N messages (default 10), then follow new ones
  rooms              List rooms with their message counts and last activity (with --user,
                     that account's direct conversations too)
  export             Print a room's whole history
  search             Print the newest messages (at most 20) holding every one of WORDS

Options:
  --db PATH|URL      Database file (default: $CHATROOM_DB, else ./chatroom.db), or a
                     postgres:// URL (PG* variables and ~/.pgpass fill in the rest)
  --user NAME        Log in as NAME (register: the account to create)
  --room NAME        The room; the chat view and send create it if needed
  --to NAME          send: to your direct conversation with NAME
  --with NAME        tail: your direct conversation with NAME
  --password-stdin   Read the password from the first line of stdin
  --history N        tail: how many earlier messages to print first (at most 1000)
  --after ID         tail: print every message after id ID first (to resume)
  --json             tail, search: one JSON object per line; rooms: a JSON array
  --format F         export: txt (default), md or json (an array)
  -h, --help         Show this help
  -V, --version      Show the version

Environment:
  CHATROOM_DB        Database file or postgres:// URL when --db is not given
  CHATROOM_PG_ADDR   HOST:PORT of the PostgreSQL server: the one address deno task chat:pg may reach
  CHATROOM_PASSWORD  Password for --user, so no prompt is shown (read once, then removed)
  NO_COLOR           Any value turns colours off

In a room, type /help for the commands; q alone leaves the room.`;

/** Most earlier messages `tail --history` prints. */
const MAX_HISTORY = 1000;

const COMMANDS = ["setup", "register", "send", "tail", "rooms", "export", "search"] as const;

/** Which options each command takes, beyond --db. */
const ACCEPTS: Record<Invocation["command"], readonly string[]> = {
  chat: ["user", "room"],
  setup: [],
  register: ["user", "password-stdin"],
  send: ["user", "room", "to", "password-stdin"],
  tail: ["user", "room", "with", "password-stdin", "history", "after", "json"],
  rooms: ["user", "password-stdin", "json"],
  export: ["room", "format"],
  search: ["user", "room", "password-stdin", "json"],
  help: [],
  version: [],
};

/** Which options each command cannot do without. */
const NEEDS: Partial<Record<Invocation["command"], readonly string[]>> = {
  register: ["user"],
  send: ["user"],
  tail: ["user"],
  export: ["room"],
};

/**
 * Parses the command line. Bad usage throws {@linkcode UsageError} (exit 2).
 *
 * @example
 * ```ts
 * parseCommandLine(["--user", "alice", "--room", "lobby"]).command; // "chat"
 * parseCommandLine(["send", "--user", "bot", "--room", "ops", "deploy", "done"]).text;
 * // "deploy done"
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
        to: { type: "string" },
        with: { type: "string" },
        "password-stdin": { type: "boolean" },
        history: { type: "string" },
        after: { type: "string" },
        json: { type: "boolean" },
        format: { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
      },
    });
  } catch (err) {
    // Node's messages go on with advice on further lines; the first sentence is the point.
    const reason = (err as Error).message.split("\n")[0].split(". ")[0].replace(/\.$/, "");
    // Passwords never go in argv, where every process on the host can read them.
    if (args.some((arg) => /^--password(=|$)/.test(arg))) {
      throw new UsageError(
        `${reason}: passwords are never taken from the command line; set CHATROOM_PASSWORD or use --password-stdin`,
      );
    }
    throw new UsageError(`${reason}; see chatroom --help`);
  }
  const { values, positionals } = parsed;
  const [first, ...rest] = positionals;
  const command: Invocation["command"] = values.help
    ? "help"
    : values.version
    ? "version"
    : first === undefined
    ? "chat"
    : COMMANDS.find((c) => c === first) ??
      fail(`Unknown command "${first}"; see chatroom --help`);

  if (command !== "help" && command !== "version") {
    for (const [option, value] of Object.entries(values)) {
      if (value === undefined || option === "db") continue;
      if (!ACCEPTS[command].includes(option)) {
        fail(
          command === "chat" ? `--${option} needs a command` : `${command} takes no --${option}`,
        );
      }
    }
    for (const option of NEEDS[command] ?? []) {
      if (values[option as keyof typeof values] === undefined) {
        fail(`${command} needs --${option} ${option === "user" ? "NAME" : "ROOM"}`);
      }
    }
    // send and tail go to a room or to one person's direct conversation: one of the two.
    const where = command === "send" ? "to" : command === "tail" ? "with" : undefined;
    if (where && (values.room === undefined) === (values[where] === undefined)) {
      fail(`${command} needs --room ROOM or --${where} NAME (one of them)`);
    }
    if (command === "search" && rest.length === 0) fail("search needs WORDS to look for");
    if (command !== "send" && command !== "search" && rest.length > 0) {
      fail(`Unexpected argument "${rest[0]}"`);
    }
  }

  const history = values.history === undefined ? 10 : wholeNumber(values.history);
  if (history === undefined) {
    fail(`--history takes a whole number of messages, not "${values.history}"`);
  }
  if (history > MAX_HISTORY) {
    fail(`--history takes at most ${MAX_HISTORY} messages; export writes a whole room`);
  }
  const after = values.after === undefined ? undefined : wholeNumber(values.after);
  if (values.after !== undefined && after === undefined) {
    fail(`--after takes a message id, not "${values.after}"`);
  }
  if (after !== undefined && values.history !== undefined) {
    fail("tail takes --history or --after, not both");
  }
  const format = values.format ?? "txt";
  if (!EXPORT_FORMATS.includes(format as ExportFormat)) {
    fail(`--format takes ${EXPORT_FORMATS.join(", ")}, not "${format}"`);
  }
  return {
    command,
    db: values.db,
    user: values.user,
    room: values.room,
    passwordStdin: values["password-stdin"] ?? false,
    text: (command === "send" || command === "search") && rest.length > 0
      ? rest.join(" ")
      : undefined,
    to: values.to,
    with: values.with,
    history,
    after,
    json: values.json ?? false,
    format: format as ExportFormat,
  };
}

/**
 * Reads `CHATROOM_PASSWORD` once and removes it from the environment, so that
 * nothing started later (the watch worker included) can read it.
 *
 * @example
 * ```ts
 * const password = takeEnvPassword(process.env);
 * ```
 */
export function takeEnvPassword(env: Record<string, string | undefined>): string | undefined {
  const password = env.CHATROOM_PASSWORD;
  delete env.CHATROOM_PASSWORD;
  return password;
}

/** Plain decimal digits only: "", " 2 ", "0x2" and "1e0" are not numbers here. */
function wholeNumber(text: string): number | undefined {
  const value = Number(text);
  return /^[0-9]+$/.test(text) && Number.isSafeInteger(value) ? value : undefined;
}

function fail(message: string): never {
  throw new UsageError(message);
}

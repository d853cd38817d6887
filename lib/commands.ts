import { ChatError } from "./errors.ts";
import { normalizeName } from "./names.ts";
import { formatTime } from "./render.ts";
import { inert } from "./sanitize.ts";
import type { Room, User } from "./model.ts";
import type { Store } from "./store.ts";

/** What a command asks the chat view to do. */
export type Effect =
  | { kind: "notice"; text: string }
  | { kind: "error"; text: string }
  | { kind: "join"; room: Room }
  | { kind: "leave" }
  | { kind: "quit" };

/** What a command can see. */
export interface CommandContext {
  store: Store;
  user: User;
  room: Room;
  now: number;
}

/** One slash command. `/help` and usage errors come from this table. */
export interface Command {
  name: string;
  /** Argument synopsis, e.g. "NAME", or "[WORD]" when it may be left out; empty for none. */
  args: string;
  help: string;
  run(args: string, context: CommandContext): Effect[] | Promise<Effect[]>;
}

/** The chat view's commands, in the order `/help` lists them. */
export const COMMANDS: readonly Command[] = [
  {
    name: "help",
    args: "",
    help: "List the commands",
    run: () => [{ kind: "notice", text: helpText() }],
  },
  {
    name: "join",
    args: "NAME",
    help: "Switch to room NAME, creating it if there is none",
    async run(args, { store, user, room }) {
      const name = normalizeName(args, "Room name");
      const target = await store.findOrCreateRoom(name, user.id);
      if (target.id === room.id) {
        return [{ kind: "notice", text: `You are in ${inert(room.name)}` }];
      }
      return [{ kind: "join", room: target }];
    },
  },
  {
    name: "rooms",
    args: "[WORD]",
    help: "List the most recently active rooms; /rooms WORD lists those whose name holds it",
    async run(args, { store, room, now }) {
      const search = args || undefined;
      const found = await store.listRooms({ search });
      const total = await store.countRooms(search);
      const more = total > found.length ? ` (the first ${found.length} of ${total})` : "";
      const title = search !== undefined
        ? `Rooms whose name holds "${inert(search)}"${total ? `${more}:` : ": none"}`
        : more
        ? `The ${found.length} most recently active of ${total} rooms (/rooms WORD finds the others):`
        : "Rooms:";
      const lines = found.map((r) =>
        `${inert(r.name)}  ${
          r.lastActivity === null
            ? "no messages yet"
            : `last message ${formatTime(r.lastActivity, now)}`
        }${r.id === room.id ? "  (you are here)" : ""}`
      );
      return [{ kind: "notice", text: [title, ...lines].join("\n") }];
    },
  },
  {
    name: "leave",
    args: "",
    help: "Leave this room and go back to the room menu (or type q)",
    run: () => [{ kind: "leave" }],
  },
  {
    name: "quit",
    args: "",
    help: "Quit chatroom",
    run: () => [{ kind: "quit" }],
  },
];

function usage(command: Command): string {
  return `/${command.name}${command.args ? " " + command.args : ""}`;
}

/** The text `/help` shows, built from {@linkcode COMMANDS}. */
export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => usage(c).length));
  return [
    "Commands:",
    ...COMMANDS.map((c) => `  ${usage(c).padEnd(width)}  ${c.help}`),
    "Type a line and press Enter to send it; start it with // to send a leading /.",
  ].join("\n");
}

/**
 * Runs `/name args`. Unknown commands, missing arguments and failures become
 * an error effect for the sender, never an exception.
 *
 * @example
 * ```ts
 * await runCommand("join", "lobby", context); // [{ kind: "join", room: { ... } }]
 * ```
 */
export async function runCommand(
  name: string,
  args: string,
  context: CommandContext,
): Promise<Effect[]> {
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) return fail(`Unknown command /${name}; /help lists the commands`);
  const optional = command.args.startsWith("[");
  if (command.args && !optional && !args) return fail(`Usage: ${usage(command)}`);
  if (!command.args && args) return fail(`/${name} takes no arguments`);
  try {
    return await command.run(args, context);
  } catch (err) {
    if (err instanceof ChatError) return fail(err.message);
    throw err;
  }
}

function fail(text: string): Effect[] {
  return [{ kind: "error", text }];
}

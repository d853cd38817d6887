import { ChatError } from "./errors.ts";
import { normalizeName } from "./names.ts";
import { formatTime, truncate } from "./render.ts";
import { inert } from "./sanitize.ts";
import {
  type Found,
  HISTORY_MAX,
  HISTORY_PAGE,
  type MessageKind,
  namesIn,
  type Room,
  SEARCH_LIMIT,
  type Unread,
  type User,
} from "./model.ts";
import type { Store } from "./store.ts";

/** What a command asks the chat view to do. */
export type Effect =
  | { kind: "notice"; text: string }
  | { kind: "error"; text: string }
  | { kind: "join"; room: Room }
  /** Send `text` to `roomId` as a line of kind `as`, in turn with what the user typed. */
  | { kind: "say"; roomId: number; text: string; as: MessageKind }
  /** Show `limit` messages before the oldest on screen. */
  | { kind: "history"; limit: number }
  | { kind: "bell"; on: boolean }
  | { kind: "leave" }
  | { kind: "quit" };

/** What a command can see. */
export interface CommandContext {
  store: Store;
  user: User;
  room: Room;
  now: number;
  /** The other rooms with news, most urgent first. */
  hotlist: readonly Unread[];
  /** Whether a mention rings the bell now. */
  bell: boolean;
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
      if (args.startsWith("@")) {
        return [{ kind: "error", text: `To talk to ${args.slice(1)} alone: /dm ${args.slice(1)}` }];
      }
      const name = normalizeName(args, "Room name");
      const target = await store.findOrCreateRoom(name, user.id);
      if (target.id === room.id) {
        return [{ kind: "notice", text: `You are in ${inert(room.name)}` }];
      }
      return [{ kind: "join", room: target }];
    },
  },
  {
    name: "dm",
    args: "NAME",
    help: "Open your direct conversation with NAME (only the two of you see it)",
    async run(args, { store, user }) {
      return [{ kind: "join", room: await store.openDirect(user.id, args) }];
    },
  },
  {
    name: "msg",
    args: "NAME TEXT",
    help: "Send TEXT to NAME alone, staying where you are",
    async run(args, { store, user }) {
      const match = /^(\S+)\s+(.+)$/s.exec(args);
      if (!match) return [{ kind: "error", text: "Usage: /msg NAME TEXT" }];
      const direct = await store.openDirect(user.id, match[1]);
      return [
        { kind: "say", roomId: direct.id, text: match[2], as: "text" },
        {
          kind: "notice",
          text: `To ${inert(direct.name.slice(1))}: ${match[2]}  (/dm ${
            inert(direct.name.slice(1))
          } opens the conversation)`,
        },
      ];
    },
  },
  {
    name: "me",
    args: "ACTION",
    help: "Say what you are doing: /me waves shows as * NAME waves",
    run: (args, { room }) => [{ kind: "say", roomId: room.id, text: args, as: "me" }],
  },
  {
    name: "topic",
    args: "[TEXT]",
    help: "Show this room's topic; /topic TEXT sets it for everyone",
    run(args, { room }) {
      if (args) return [{ kind: "say", roomId: room.id, text: args, as: "topic" }];
      return [{
        kind: "notice",
        text: room.topic ? `Topic: ${room.topic}` : "No topic yet; /topic TEXT sets one",
      }];
    },
  },
  {
    name: "who",
    args: "",
    help: "List who is in this room, and who is online elsewhere",
    async run(_args, { store, room }) {
      const present = await store.present();
      const here = namesIn(present, room.id);
      const elsewhere = new Map<string, string[]>();
      for (const p of present) {
        if (p.roomId === room.id || here.includes(p.userName)) continue;
        const where = p.roomId === null ? "in the menus" : p.roomName ?? "in a conversation";
        elsewhere.set(p.userName, [...(elsewhere.get(p.userName) ?? []), where]);
      }
      const lines = [
        `In ${inert(room.name)}: ${some(here.map((name) => inert(name))) || "nobody else"}`,
      ];
      if (elsewhere.size > 0) {
        const places = [...elsewhere].map(([name, where]) =>
          `${inert(name)} (${where.map((w) => inert(w)).join(", ")})`
        );
        lines.push(`Online elsewhere: ${some(places)}`);
      }
      return [{ kind: "notice", text: lines.join("\n") }];
    },
  },
  {
    name: "next",
    args: "",
    help: "Go to the room with the most urgent news (Alt-A): mentions first",
    run(_args, { hotlist }) {
      const [first] = hotlist;
      if (!first) return [{ kind: "notice", text: "Nothing new in your other rooms" }];
      return [{ kind: "join", room: first.room }];
    },
  },
  {
    name: "history",
    args: "[N]",
    help: `Show the N messages before the oldest on screen (PageUp: ${HISTORY_PAGE})`,
    run(args) {
      if (args && !/^\d{1,3}$/.test(args)) {
        return [{ kind: "error", text: `/history takes a number of messages, not "${args}"` }];
      }
      const limit = args ? Number(args) : HISTORY_PAGE;
      if (limit < 1 || limit > HISTORY_MAX) {
        return [{ kind: "error", text: `/history shows 1 to ${HISTORY_MAX} messages at a time` }];
      }
      return [{ kind: "history", limit }];
    },
  },
  {
    name: "search",
    args: "[--all] WORDS",
    help: "Find messages holding WORDS in this room (--all: in every room), newest first",
    async run(args, { store, user, room, now }) {
      const all = /^--all(\s+|$)/.exec(args);
      const words = all ? args.slice(all[0].length) : args;
      if (!words.trim()) return [{ kind: "error", text: "Usage: /search [--all] WORDS" }];
      const found = await store.search(words, {
        userId: user.id,
        roomId: all ? undefined : room.id,
      });
      const where = all ? "in your rooms" : `in ${inert(room.name)}`;
      if (found.length === 0) {
        return [{ kind: "notice", text: `No message ${where} holds "${words}"` }];
      }
      return [{
        kind: "notice",
        text: [
          `${
            found.length === SEARCH_LIMIT ? `The newest ${found.length}` : found.length
          } found ${where}:`,
          ...found.map((m) => foundLine(m, now)),
        ].join("\n"),
      }];
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
    name: "bell",
    args: "[on|off]",
    help: "Whether a mention of you rings the terminal bell (remembered for your account)",
    async run(args, { store, user, bell }) {
      if (!args) {
        return [{
          kind: "notice",
          text: `The bell is ${bell ? "on" : "off"}; /bell ${bell ? "off" : "on"} turns it ${
            bell ? "off" : "on"
          }`,
        }];
      }
      if (args !== "on" && args !== "off") {
        return [{ kind: "error", text: `/bell takes on or off, not "${args}"` }];
      }
      await store.setBell(user.id, args === "on");
      return [{ kind: "bell", on: args === "on" }, {
        kind: "notice",
        text: `The bell is ${args}`,
      }];
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

/** Up to 50 of `items`, and how many more: a crowd planted in the file is one short line. */
function some(items: readonly string[], most = 50): string {
  return items.length <= most
    ? items.join(", ")
    : `${items.slice(0, most).join(", ")} and ${items.length - most} more`;
}

/** One search result: `#42  ops  Nov 24 14:02  alice: the deploy failed`, on one line. */
function foundLine(message: Found, now: number): string {
  const text = message.kind === "me" ? `* ${message.userName} ${message.text}` : message.text;
  return `#${message.id}  ${inert(message.roomName)}  ${formatTime(message.sentAt, now)}  ${
    inert(message.userName)
  }: ${truncate(inert(text.replaceAll("\n", " ")), 80)}`;
}

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

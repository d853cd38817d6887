import { runCommand } from "./commands.ts";
import type { Follower } from "./follower.ts";
import { parseInput } from "./input.ts";
import { renderBubble, renderNotice } from "./render.ts";
import { inert } from "./sanitize.ts";
import type { Message, Room, Store, User } from "./store.ts";
import type { Terminal } from "./terminal.ts";
import type { Theme } from "./theme.ts";
import { ChatError } from "./errors.ts";

/** Everything the chat view works with, for one logged-in user. */
export interface ChatSession {
  store: Store;
  user: User;
  terminal: Terminal;
  follower: Follower;
  theme: Theme;
  now: () => number;
}

function promptFor(room: Room): string {
  return `${inert(room.name)} › `;
}

/**
 * The chat view: shows the room's recent history, then live messages from
 * the watch worker above the input line, and sends what the user types.
 * `/join` switches rooms in place. Resolves with what the user asked for next.
 */
export async function chat(session: ChatSession, room: Room): Promise<"leave" | "quit"> {
  const { store, user, terminal, follower, theme, now } = session;
  let current = room;
  let lastShown = 0;

  const notice = (text: string) =>
    terminal.print(renderNotice(text, theme.notice, terminal.columns));
  // An error is one line: a line break in a name it quotes cannot forge another.
  const error = (text: string) =>
    terminal.print(renderNotice(inert(text), theme.error, terminal.columns));
  // The follower passes on only batches for the latest follow, so none from a room we left.
  const show = (_roomId: number, messages: Message[]) => {
    const bubbles: string[] = [];
    for (const message of messages) {
      if (message.id <= lastShown) continue;
      lastShown = message.id;
      bubbles.push(renderBubble(message, {
        width: terminal.columns,
        own: message.userId === user.id,
        theme,
        now: now(),
      }));
    }
    // One print per batch: the prompt and draft are redrawn once, not per bubble.
    if (bubbles.length > 0) terminal.print(bubbles.join("\n"));
  };
  const enter = (next: Room) => {
    current = next;
    lastShown = 0;
    notice(`You are in ${inert(next.name)}. /help lists the commands; q leaves the room.`);
    show(next.id, store.recentMessages(next.id));
    follower.follow(next.id, lastShown);
    terminal.setPrompt(promptFor(next));
  };

  follower.handlers = { onMessages: show, onError: error };
  enter(room);
  try {
    for await (const line of terminal.lines(promptFor(current))) {
      const input = parseInput(line);
      if (input.kind === "empty") continue;
      if (input.kind === "text") {
        try {
          store.addMessage(current.id, user.id, input.text);
          follower.poll();
        } catch (err) {
          if (!(err instanceof ChatError)) throw err;
          error(err.message);
          terminal.restoreDraft(input.text);
        }
        continue;
      }
      const context = { store, user, room: current, now: now() };
      for (const effect of runCommand(input.name, input.args, context)) {
        switch (effect.kind) {
          case "notice":
            notice(effect.text);
            break;
          case "error":
            error(effect.text);
            break;
          case "join":
            enter(effect.room);
            break;
          case "leave":
            return "leave";
          case "quit":
            return "quit";
        }
      }
    }
    return "quit"; // Ctrl-C or Ctrl-D
  } finally {
    follower.unfollow();
    follower.handlers = undefined;
  }
}

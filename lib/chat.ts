// The chat view's runner: it turns keys, resizes and the worker's batches into
// events for `update`, and performs the effects (draw, store, follow).
import {
  type ChatEffect,
  type ChatEvent,
  type ChatState,
  hotlist,
  initialState,
  update,
} from "./chat_model.ts";
import { type InputView, inputView, renderShown } from "./chat_view.ts";
import { runCommand } from "./commands.ts";
import { ChatError, WaitError } from "./errors.ts";
import { KeyReader } from "./keys.ts";
import { inert } from "./sanitize.ts";
import { MAX_UNREAD_COUNTED, type Message, type Room, type User } from "./model.ts";
import type { Heartbeat } from "./presence.ts";
import type { Follower, Store } from "./store.ts";
import type { Terminal } from "./terminal.ts";
import type { Theme } from "./theme.ts";

/** Everything the chat view works with, for one logged-in user. */
export interface ChatSession {
  store: Store;
  user: User;
  terminal: Terminal;
  follower: Follower;
  theme: Theme;
  now: () => number;
  /** The account's input history, kept across rooms; the caller clears it at log-out. */
  history: string[];
  /** This terminal's presence, moved to each room the view enters. */
  heartbeat: Heartbeat;
}

/** How long the read marker waits, so that a burst of messages moves it once (and leaving writes it). */
const READ_MARKER_DELAY_MS = 5000;
/** The bell rings at most this often, however many mentions come (or are planted). */
const BELL_EVERY_MS = 5000;
/** Most rooms with news named in the prompt. */
const HOTLIST_SHOWN = 4;

/** `general [dev 3, ops 1@] › `: the room, and the others with news (`@`: you were named). */
export function promptFor(state: ChatState): string {
  const news = hotlist(state);
  const named = news.slice(0, HOTLIST_SHOWN).map((u) =>
    `${inert(u.room.name)} ${u.unread >= MAX_UNREAD_COUNTED ? `${MAX_UNREAD_COUNTED}+` : u.unread}${
      u.mentions > 0 ? "@" : ""
    }`
  );
  if (news.length > HOTLIST_SHOWN) named.push(`+${news.length - HOTLIST_SHOWN}`);
  return `${inert(state.room.name)}${named.length ? ` [${named.join(", ")}]` : ""} › `;
}

/**
 * The chat view: shows the room's recent history, then live messages from the
 * watch worker above the input line, and sends what the user types. `/join`
 * switches rooms in place. Resolves with what the user asked for next.
 */
export function chat(session: ChatSession, room: Room): Promise<"leave" | "quit"> {
  const { store, user, terminal, follower, theme, now, heartbeat } = session;
  let state: ChatState = initialState(room, user, session.history);
  const keys = new KeyReader();

  return new Promise((resolve, reject) => {
    let done = false;
    let wake: ReturnType<typeof setTimeout> | undefined;
    const options = () => ({
      width: terminal.columns,
      theme,
      now: now(),
      userId: user.id,
      userName: user.name,
    });
    // Laid out again only when the prompt, the draft or the width changed: not for each message.
    let laidOut: { prompt: string; draft: unknown; columns: number; view: InputView } | undefined;
    const view = () => {
      const prompt = promptFor(state);
      const columns = terminal.columns;
      if (
        laidOut?.prompt !== prompt || laidOut.draft !== state.draft || laidOut.columns !== columns
      ) {
        laidOut = {
          prompt,
          draft: state.draft,
          columns,
          view: inputView(prompt, state.draft, columns),
        };
      }
      return laidOut.view;
    };

    let rangAt = -Infinity;
    /** The read marker waiting to be written: a burst of messages moves it once. */
    let unsaved: { roomId: number; messageId: number } | undefined;
    let saving: ReturnType<typeof setTimeout> | undefined;
    const saveRead = () => {
      clearTimeout(saving);
      saving = undefined;
      const marker = unsaved;
      unsaved = undefined;
      if (!marker) return;
      const failed = (err: unknown) => {
        if (!(err instanceof ChatError)) fail(err); // a locked file: the next one moves it
      };
      try {
        // The SQLite store throws at once (a locked file); PostgreSQL's rejects.
        Promise.resolve(store.markRead(user.id, marker.roomId, marker.messageId)).catch(failed);
      } catch (err) {
        failed(err);
      }
    };
    const read = (roomId: number, messageId: number) => {
      if (unsaved && unsaved.roomId !== roomId) saveRead();
      unsaved = { roomId, messageId };
      saving ??= setTimeout(guarded(saveRead), READ_MARKER_DELAY_MS);
    };

    let settled = false;
    /** Gives the terminal and the follower back, whatever happened; once. */
    const release = () => {
      if (settled) return false;
      settled = true;
      done = true;
      clearTimeout(wake);
      try {
        terminal.leaveInput();
      } finally {
        stopKeys();
        follower.unfollow();
        follower.watch(undefined);
        follower.handlers = undefined;
        session.history.splice(0, session.history.length, ...state.history);
        saveRead();
      }
      return true;
    };

    const finish = (how: "leave" | "quit") => {
      if (done) return;
      done = true;
      try {
        if (state.outbox.length > 0) {
          terminal.drawInput(
            view(),
            renderShown({
              kind: "error",
              text:
                `${state.outbox.length} messages waiting for the rate limit were not sent; Up recalls them`,
            }, options()),
          );
        }
      } finally {
        if (release()) resolve(how);
      }
    };

    /** Events waiting for `update`: they arrive while an effect is awaited, and keep their order. */
    const queue: ChatEvent[] = [];
    let pumping = false;
    /** Queues events; one pump at a time runs them through `update`. */
    const dispatch = (...events: ChatEvent[]) => {
      queue.push(...events);
      if (!pumping) void pump();
    };

    /** Runs queued events through `update` and performs the effects, drawing once the queue is empty. */
    const pump = async () => {
      pumping = true;
      try {
        let above = "";
        let redraw = false;
        let ring = false;
        for (let event = queue.shift(); event && !done; event = queue.shift()) {
          let effects: ChatEffect[];
          [state, effects] = update(state, event);
          // What the effects bring about comes before events that were waiting: a line typed
          // after /join goes to the room joined, after a line held back by the rate limit.
          const results: ChatEvent[] = [];
          for (const effect of effects) {
            switch (effect.kind) {
              case "show":
                for (const item of effect.items) {
                  above += (above ? "\n" : "") + renderShown(item, options());
                }
                break;
              case "redraw":
                redraw = true;
                break;
              case "send":
                results.push(await send(effect));
                break;
              case "history":
                try {
                  results.push({
                    kind: "earlier",
                    roomId: effect.roomId,
                    messages: await store.messagesBefore(
                      effect.roomId,
                      effect.beforeId,
                      effect.limit,
                    ),
                  });
                } catch (err) {
                  if (!(err instanceof ChatError)) throw err;
                  results.push({ kind: "error", text: err.message });
                }
                break;
              case "read":
                read(effect.roomId, effect.messageId);
                break;
              case "ring":
                ring = true;
                break;
              case "wake":
                clearTimeout(wake);
                wake = setTimeout(guarded(() => dispatch({ kind: "flush" })), effect.afterMs);
                break;
              case "command": {
                const { events, exit } = await perform(effect.name, effect.args, effect.line);
                if (exit) {
                  terminal.drawInput(view(), above);
                  finish(exit);
                  return;
                }
                results.push(...events);
                break;
              }
              case "follow":
                follower.follow(effect.roomId, effect.afterId);
                await heartbeat.in(effect.roomId);
                break;
              case "complete": {
                const { completion } = effect;
                try {
                  const names = await store.namesStartingWith(
                    completion.what === "room" ? "room" : "user",
                    completion.prefix,
                  );
                  results.push({ kind: "completions", completion, names });
                } catch (err) {
                  if (!(err instanceof ChatError)) throw err; // Tab just completes nothing
                }
                break;
              }
              case "leave":
              case "quit":
                // The input line as it is now, so no stale draft stays on screen.
                terminal.drawInput(view(), above);
                finish(effect.kind);
                return;
            }
          }
          queue.unshift(...results);
        }
        if (done) return;
        if (redraw) {
          // What is on screen was laid out for another width: draw what fits, anew.
          const lines = state.shown.map((item) => renderShown(item, options())).join("\n")
            .split("\n");
          const room = Math.max(0, terminal.rows - view().rows.length);
          terminal.redraw(lines.slice(Math.max(0, lines.length - room)).join("\n"), view());
        } else {
          ring &&= now() - rangAt >= BELL_EVERY_MS;
          if (ring) rangAt = now();
          terminal.drawInput(view(), above, ring);
        }
      } catch (err) {
        fail(err);
      } finally {
        pumping = false;
      }
      if (queue.length > 0 && !done) void pump(); // came in after the last draw
    };

    /** Stores a message; what became of it, as an event. */
    const send = async (
      { roomId, text, as, line }: Extract<ChatEffect, { kind: "send" }>,
    ): Promise<ChatEvent> => {
      try {
        await store.addMessage(roomId, user.id, text, as);
        follower.poll();
        return { kind: "sent" };
      } catch (err) {
        if (err instanceof WaitError) {
          return { kind: "limited", roomId, text, as, line, waitMs: err.waitMs };
        }
        // What comes back is what was typed: `/msg bob secret`, never `secret` on its own,
        // which one Enter would post in this room.
        if (err instanceof ChatError) {
          return { kind: "refused", text: line ?? text, reason: err.message };
        }
        throw err;
      }
    };

    /** A slash command's effects, as events, or the way out it asks for. */
    const perform = async (name: string, args: string, line: string) => {
      const events: ChatEvent[] = [];
      const context = {
        store,
        user,
        room: state.room,
        now: now(),
        hotlist: hotlist(state),
        bell: state.bell,
      };
      for (const effect of await runCommand(name, args, context)) {
        switch (effect.kind) {
          case "notice":
          case "bell":
            events.push(effect);
            break;
          case "say":
            events.push({ ...effect, line });
            break;
          case "error":
            // The line comes back to be corrected, as a refused message does.
            events.push({ kind: "refused", text: line, reason: effect.text });
            break;
          case "history":
            events.push({ kind: "page", limit: effect.limit }); // the model knows what is shown
            break;
          case "join":
            saveRead(); // the room left keeps what was read in it
            events.push(await joined(effect.room));
            break;
          case "leave":
          case "quit":
            return { events, exit: effect.kind };
        }
      }
      return { events, exit: undefined };
    };

    /** Entering `target`: its last messages and where the reader left off. */
    const joined = async (target: Room): Promise<ChatEvent> => ({
      kind: "joined",
      room: target,
      history: await store.recentMessages(target.id),
      lastRead: await store.lastRead(user.id, target.id),
      now: now(),
    });

    /** A bug ends the chat view with the terminal given back, not left raw. */
    const fail = (err: unknown) => {
      try {
        release();
      } finally {
        reject(err);
      }
    };

    /** Runs `fn`; a bug in it ends the chat view with the terminal given back, not left raw. */
    const guarded = <A extends unknown[]>(fn: (...args: A) => void) => (...args: A) => {
      try {
        fn(...args);
      } catch (err) {
        fail(err);
      }
    };

    const stopKeys = terminal.readKeys(
      guarded((chunk: string) =>
        dispatch(...keys.feed(chunk).map((key) => ({ kind: "key" as const, key, now: now() })))
      ),
      guarded(() => dispatch({ kind: "resize" })),
      guarded(() => finish("quit")), // what was typed is never sent on the way out
    );
    follower.handlers = {
      onMessages: guarded((roomId: number, messages: Message[]) =>
        dispatch({ kind: "messages", roomId, messages })
      ),
      onError: guarded((text: string) => dispatch({ kind: "error", text })),
      onPresence: guarded((present) => dispatch({ kind: "presence", present })),
      onUnread: guarded((unread) => dispatch({ kind: "unread", unread })),
    };
    follower.watch(user.id);
    (async () => {
      const bell = await store.bell(user.id);
      dispatch({ kind: "bell", on: bell }, await joined(room));
    })().catch(fail);
  });
}

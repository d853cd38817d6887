/** One line typed in the chat view, parsed. */
export type Input =
  | { kind: "empty" }
  | { kind: "text"; text: string }
  | { kind: "command"; name: string; args: string };

/**
 * Parses a line from the chat input. `/name args` is a command; `q` alone is
 * `/leave`; `//text` sends text that starts with a slash; blank lines are empty.
 *
 * @example
 * ```ts
 * parseInput("/join lobby"); // { kind: "command", name: "join", args: "lobby" }
 * parseInput("hi"); // { kind: "text", text: "hi" }
 * ```
 */
export function parseInput(line: string): Input {
  if (line.trim().length === 0) return { kind: "empty" };
  if (line.trim() === "q") return { kind: "command", name: "leave", args: "" };
  if (line.startsWith("//")) return { kind: "text", text: line.slice(1) };
  const match = /^\/(\S*)\s*(.*)$/s.exec(line);
  if (match) return { kind: "command", name: match[1].toLowerCase(), args: match[2].trim() };
  return { kind: "text", text: line };
}

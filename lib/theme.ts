import { createColors } from "picocolors";

type Paint = (text: string) => string;

/** How rendered text is styled. `plainTheme` styles nothing. */
export interface Theme {
  /** Paints a user name in that user's colour. */
  user(name: string, key: string): string;
  /** Paints the border of your own bubbles. */
  ownBorder: Paint;
  /** Paints the border of other people's bubbles. */
  border: Paint;
  /** Paints timestamps and other quiet text. */
  dim: Paint;
  /** Paints a notice from the program. */
  notice: Paint;
  /** Paints an error line. */
  error: Paint;
  /** Paints an `@mention` of the reader. */
  mention: Paint;
}

const identity: Paint = (text) => text;

/** A theme with no styling at all, for NO_COLOR, pipes and tests. */
export const plainTheme: Theme = {
  user: identity,
  ownBorder: identity,
  border: identity,
  dim: identity,
  notice: identity,
  error: identity,
  mention: identity,
};

/**
 * The colour theme. Each user gets one of six colours, picked from a hash of
 * their name key, so a user keeps their colour in every terminal and session.
 *
 * @example
 * ```ts
 * const theme = colorTheme();
 * theme.user("alice", "alice"); // "\x1b[1m\x1b[36malice\x1b[39m\x1b[22m" (or another colour)
 * ```
 */
export function colorTheme(): Theme {
  const c = createColors(true);
  const palette: Paint[] = [c.cyan, c.green, c.yellow, c.magenta, c.blue, c.red];
  return {
    user: (name, key) => c.bold(palette[hash(key) % palette.length](name)),
    ownBorder: c.green,
    border: c.gray,
    dim: c.dim,
    notice: c.cyan,
    error: c.red,
    mention: (text) => c.bold(c.inverse(c.yellow(text))),
  };
}

/** FNV-1a: small, stable across runs and platforms. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (const char of text) {
    h ^= char.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

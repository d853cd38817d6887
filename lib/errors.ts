/**
 * User-facing errors. The entry point prints `message` as one line and exits
 * with `exitCode`; everything else that is thrown is a bug and keeps its stack.
 *
 * @example
 * ```ts
 * throw new ChatError("Name taken: alice");
 * ```
 */
export class ChatError extends Error {
  /** Process exit code for this error when it ends the program. */
  readonly exitCode: number = 1;

  constructor(message: string) {
    super(message);
    this.name = "ChatError";
  }
}

/**
 * Bad command-line usage: exit code 2.
 *
 * @example
 * ```ts
 * throw new UsageError("Unknown option --colour");
 * ```
 */
export class UsageError extends ChatError {
  override readonly exitCode = 2;

  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Refused for now: the same try can succeed after `waitMs` (a rate limit, or
 * wrong passwords in a row). Callers that can wait, wait instead of failing.
 *
 * @example
 * ```ts
 * throw new WaitError("You are sending too fast; wait 0.2 s", 200);
 * ```
 */
export class WaitError extends ChatError {
  readonly waitMs: number;

  constructor(message: string, waitMs: number) {
    super(message);
    this.name = "WaitError";
    this.waitMs = waitMs;
  }
}

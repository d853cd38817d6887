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

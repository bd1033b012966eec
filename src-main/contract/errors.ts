// Errors cross every transport as plain `{code, message}` data: no stack traces, no file contents.

export const ERROR_CODES = [
  /** The request name is not part of the contract. */
  "unknown_request",
  /** The input failed the request's schema; `issues` says where. */
  "invalid_input",
  /** A named thing (model, conversation, file) does not exist. */
  "not_found",
  /** The operation was cancelled by the user. */
  "cancelled",
  /** Another operation holds the resource; try again when it ends. */
  "busy",
  /** A file the user gave us is not what it claims to be. */
  "bad_file",
  /** The disk is (or would be) full; what was saved before is intact. */
  "disk_full",
  /** A server refused access: a gated or private repository, or a token it did not accept. */
  "access_denied",
  /** A server could not be reached, or the connection kept dropping. */
  "network",
  /** This transport cannot do it (e.g. a native file dialog in web mode); the UI falls back. */
  "unsupported",
  /** Something failed inside the app; details are in the log, not in the message. */
  "internal",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface InputIssue {
  /** Where in the input, e.g. `["messages", 2, "text"]`. */
  path: (string | number)[];
  message: string;
}

export interface ApiError {
  code: ErrorCode;
  /** A sentence for people: what happened and what to do. */
  message: string;
  issues?: InputIssue[];
}

/** Services throw this for failures the user should read; anything else becomes `internal`. */
export class BillaError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "BillaError";
  }
}

/** The one envelope every request answers with, on every transport. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: ApiError };

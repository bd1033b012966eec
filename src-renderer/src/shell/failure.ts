// A failed request as the pages show it: our own sentence in the user's language (what happened, what to
// do next) plus the service's sentence, which names the file or the number involved but is in English.
import type { ErrorCode } from "../../../src-main/contract/errors.js";
import { BackendError } from "../backend/api-client.js";
import type { MessageKey } from "../i18n/i18n.svelte.js";

export interface Failure {
  key: MessageKey;
  params?: Record<string, string | number>;
  /** The service's own message, shown as detail (lang="en"). */
  detail?: string;
}

export function errorCode(error: unknown): ErrorCode | "unknown" {
  return error instanceof BackendError ? error.code : "unknown";
}

export function errorDetail(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Picks the sentence for a failure by its code; `byCode` overrides the general ones where a page knows
 * better what to do next (a missing folder in the wizard is not the same as a missing model).
 */
export function failureOf(error: unknown, byCode: Partial<Record<ErrorCode | "unknown", MessageKey>> = {}, params: Record<string, string | number> = {}): Failure {
  const code = errorCode(error);
  const general: Record<ErrorCode | "unknown", MessageKey> = {
    unknown_request: "failure.notAvailable",
    invalid_input: "failure.invalidInput",
    not_found: "failure.notFound",
    cancelled: "failure.cancelled",
    busy: "failure.busy",
    bad_file: "failure.badFile",
    disk_full: "failure.diskFull",
    unsupported: "failure.unsupported",
    access_denied: "failure.accessDenied",
    network: "failure.network",
    internal: "failure.internal",
    unknown: "failure.internal",
  };
  return { key: byCode[code] ?? general[code], params, detail: errorDetail(error) };
}

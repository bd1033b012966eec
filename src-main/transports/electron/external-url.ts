// The one gate in front of shell.openExternal. The contract already refuses non-http(s) links, but the
// main process checks again: openExternal hands the string to the OS, where file:, javascript:, smb: or a
// custom scheme can run programs, so nothing reaches it that is not checked right here.

/** Longer than any link the app shows; the contract's limit too. */
const MAX_URL_LENGTH = 2048;

/**
 * The normalized URL if `raw` is an absolute http(s) URL with a host and no user:password part, else null.
 * Callers pass the returned string on, never `raw`.
 */
export function safeExternalUrl(raw: unknown): string | null {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > MAX_URL_LENGTH) return null;
  // Control characters and spaces are silently dropped or re-encoded by the URL parser; a link that has
  // them was not written by us.
  if (/[\u0000-\u0020\u007f]/.test(raw)) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  if (url.hostname === "" || url.username !== "" || url.password !== "") return null;
  return url.href;
}

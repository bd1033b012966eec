// The address of a remote OpenAI-compatible server (vLLM, llama.cpp's server, another BiLLa Desktop's `billa serve`):
// how a typed address becomes the base URL stored with a remote model, and whether talking to it is unencrypted.
// Pure functions shared by the services and the UI, so that the warning the form shows while typing is the one the
// library and the CLI give.

/** The base URL as OpenAI's clients take it, or what is wrong with the text typed. */
export type RemoteBaseUrl = { ok: true; baseUrl: string } | { ok: false; problem: string };

const EXAMPLE = "http://gpu-server:8000/v1";
/** A request path people paste along with the server's address; the base URL ends before it. */
const ENDPOINT_PATH = /\/(?:chat\/completions|completions|models)$/;

/**
 * `http(s)://host[:port][/path]`: no credentials (the key has a field of its own and must not sit in an address that
 * is shown and logged), no query or fragment. A bare server address gets `/v1`, where every OpenAI-compatible server
 * serves; a pasted `…/v1/chat/completions` is cut back to `…/v1`.
 */
export function parseRemoteBaseUrl(text: string): RemoteBaseUrl {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return { ok: false, problem: `Give the server's address with http:// or https://, e.g. ${EXAMPLE}.` };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { ok: false, problem: `Only http:// and https:// addresses are accepted, e.g. ${EXAMPLE}.` };
  if (url.username !== "" || url.password !== "") return { ok: false, problem: "Put the API key in its own field, not in the address." };
  if (url.search !== "" || url.hash !== "") return { ok: false, problem: `The address cannot have a ?query or #fragment part, e.g. ${EXAMPLE}.` };
  const path = url.pathname.replace(/\/+$/, "").replace(ENDPOINT_PATH, "");
  return { ok: true, baseUrl: `${url.origin}${path === "" ? "/v1" : path}` };
}

/** This computer's own names: traffic to them never crosses a network. */
function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname.endsWith(".localhost") || hostname === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/** Plain http to another computer: the conversation and the API key cross the network unencrypted. */
export function isUnencrypted(baseUrl: string): boolean {
  const url = new URL(baseUrl);
  return url.protocol === "http:" && !isLoopbackHost(url.hostname);
}

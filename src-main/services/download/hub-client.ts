// Talks to the Hugging Face Hub, or a mirror speaking its API: the commit a revision points to, a repository's
// files (the tree API, page by page), and where one file's bytes are (`resolve/`, whose large files redirect to
// a CDN on another host). The access token goes to the endpoint's own origin only: a redirect or a next-page
// link to another origin is followed without it. What the Hub answers is untrusted and checked.
import { z } from "zod";
import { BillaError } from "../../contract/errors.js";

export const DEFAULT_ENDPOINT = "https://huggingface.co";
const API_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 5;
const MAX_PAGES = 1000;

/** Which Hub to talk to: the command's `--endpoint` (or request field), the setting, `HF_ENDPOINT`, the Hub itself. */
export function chooseEndpoint(sources: { requested?: string | undefined; setting: string | null; env: NodeJS.ProcessEnv }): string {
  const fromEnv = sources.env["HF_ENDPOINT"]?.trim();
  const chosen = sources.requested ?? sources.setting ?? (fromEnv || DEFAULT_ENDPOINT);
  let url: URL;
  try {
    url = new URL(chosen);
  } catch {
    throw new BillaError("invalid_input", `HF_ENDPOINT is set to ${JSON.stringify(chosen)}, which is not a web address. Set it to the Hub or a mirror, e.g. https://hf-mirror.com, or unset it.`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new BillaError("invalid_input", `The Hub endpoint must be an http(s) address, not ${url.protocol}.`);
  if (url.username || url.password) throw new BillaError("invalid_input", "The Hub endpoint's address must not hold a user name or password; put the access token in Settings.");
  return url.href.replace(/\/+$/, "");
}

/** One file of a repository as the tree API lists it. */
export interface HubFile {
  path: string;
  size: number;
  /** The LFS oid (sha256 of the content), for files kept in LFS. */
  sha256: string | null;
  /** The git blob id: of the content for small files, of the LFS pointer otherwise. */
  gitOid: string;
}

/** Where to fetch a file's bytes, and with which headers (the token only when it is the endpoint itself). */
export interface FileLocation {
  url: string;
  headers: Record<string, string>;
  acceptsRanges: boolean;
}

const treeEntrySchema = z.object({
  type: z.enum(["file", "directory"]),
  path: z.string().min(1).max(1024),
  size: z.number().int().nonnegative().optional(),
  oid: z.string().regex(/^[0-9a-f]{40}$/),
  lfs: z.object({ oid: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() }).nullish(),
});
const revisionInfoSchema = z.object({ sha: z.string().regex(/^[0-9a-f]{40}$/) });

type What = { repo: string; revision?: string; path?: string };

function stripEtag(value: string | null): string | null {
  return value === null ? null : value.replace(/^W\//, "").replace(/^"|"$/g, "");
}

/** The Hub's error bodies are `{"error": "…"}`; anything else is quoted as it came. */
function errorOfBody(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    return typeof parsed.error === "string" ? parsed.error : text;
  } catch {
    return text;
  }
}

/** The next page from a `Link: <url>; rel="next"` header, as GitHub and the Hub send it. */
function nextPage(link: string | null): string | null {
  for (const part of link?.split(",") ?? []) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (match) return match[1]!;
  }
  return null;
}

export class HubClient {
  readonly #origin: string;
  readonly host: string;

  constructor(
    readonly endpoint: string,
    private readonly token: string | null,
    private readonly signal?: AbortSignal,
  ) {
    const url = new URL(endpoint);
    this.#origin = url.origin;
    this.host = url.host;
  }

  /** The commit `revision` points to now (the Hub's model info `sha`). */
  async commitOf(repo: string, revision: string): Promise<string> {
    const response = await this.#request(`${this.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}`, "GET", { repo, revision });
    const parsed = revisionInfoSchema.safeParse(await this.#json(response));
    if (!parsed.success) throw this.#notAHub("its model information has no commit id");
    return parsed.data.sha;
  }

  /** Every file of the repository at `commit`, following the listing's pages. */
  async listFiles(repo: string, commit: string): Promise<HubFile[]> {
    const files: HubFile[] = [];
    let url: string | null = `${this.endpoint}/api/models/${repo}/tree/${commit}?recursive=true&expand=false`;
    for (let page = 0; url !== null; page++) {
      if (page >= MAX_PAGES) throw this.#notAHub("its file list never ends");
      const response = await this.#request(url, "GET", { repo, revision: commit });
      const entries = z.array(treeEntrySchema).safeParse(await this.#json(response));
      if (!entries.success) throw this.#notAHub("its file list is not in the Hub's format");
      for (const entry of entries.data) {
        if (entry.type !== "file") continue;
        files.push({ path: entry.path, size: entry.lfs?.size ?? entry.size ?? 0, sha256: entry.lfs?.oid ?? null, gitOid: entry.oid });
      }
      url = nextPage(response.headers.get("link"));
      if (url !== null) url = new URL(url, response.url || this.endpoint).href;
    }
    return files;
  }

  /**
   * Where `path` at `commit` is served: asks `resolve/` (HEAD) and follows same-origin redirects with the token;
   * a redirect to another origin (the CDN for LFS files) is where the bytes are, fetched without the token.
   */
  async locate(repo: string, commit: string, file: HubFile): Promise<FileLocation> {
    const what = { repo, revision: commit, path: file.path };
    const encodedPath = file.path.split("/").map(encodeURIComponent).join("/");
    let url = `${this.endpoint}/${repo}/resolve/${commit}/${encodedPath}`;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const response = await this.#fetch(url, "HEAD", { "Accept-Encoding": "identity" }, what);
      if (response.status >= 300 && response.status < 400) {
        const location = response.headers.get("location");
        if (!location) throw this.#notAHub(`it redirected ${file.path} nowhere`);
        this.#checkLinked(response, file);
        const target = new URL(location, url);
        if (target.origin !== this.#origin) return { url: target.href, headers: {}, acceptsRanges: true };
        url = target.href;
        continue;
      }
      if (!response.ok) throw await this.#failure(response, what);
      this.#checkLinked(response, file);
      return { url, headers: this.#authorization(url), acceptsRanges: response.headers.get("accept-ranges") === "bytes" };
    }
    throw this.#notAHub(`it redirected ${file.path} more than ${MAX_REDIRECTS} times`);
  }

  /** A mirror serving another file than its listing says would fail the checksum later; say it now. */
  #checkLinked(response: Response, file: HubFile): void {
    const linkedSize = response.headers.get("x-linked-size");
    const linkedEtag = stripEtag(response.headers.get("x-linked-etag"));
    const sizeDiffers = linkedSize !== null && Number(linkedSize) !== file.size;
    const hashDiffers = linkedEtag !== null && file.sha256 !== null && /^[0-9a-f]{64}$/.test(linkedEtag) && linkedEtag !== file.sha256;
    if (sizeDiffers || hashDiffers) {
      throw new BillaError("bad_file", `${this.host} serves a different ${file.path} than its file list names (${sizeDiffers ? `${linkedSize} bytes instead of ${file.size}` : "another sha256"}). A mirror may be out of date: try again later, or use ${DEFAULT_ENDPOINT}.`);
    }
  }

  #authorization(url: string): Record<string, string> {
    return this.token !== null && new URL(url).origin === this.#origin ? { Authorization: `Bearer ${this.token}` } : {};
  }

  /** A GET or HEAD of the API, following redirects (the token only to the endpoint's origin). */
  async #request(url: string, method: "GET" | "HEAD", what: What): Promise<Response> {
    let current = url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const response = await this.#fetch(current, method, { Accept: "application/json" }, what);
      if (response.status >= 300 && response.status < 400 && response.headers.get("location")) {
        current = new URL(response.headers.get("location")!, current).href;
        continue;
      }
      if (!response.ok) throw await this.#failure(response, what);
      return response;
    }
    throw this.#notAHub(`it redirected more than ${MAX_REDIRECTS} times`);
  }

  async #fetch(url: string, method: "GET" | "HEAD", headers: Record<string, string>, what: What): Promise<Response> {
    const timeout = AbortSignal.timeout(API_TIMEOUT_MS);
    try {
      return await fetch(url, {
        method,
        redirect: "manual",
        headers: { ...headers, ...this.#authorization(url) },
        signal: this.signal ? AbortSignal.any([this.signal, timeout]) : timeout,
      });
    } catch (error) {
      if (this.signal?.aborted) throw new BillaError("cancelled", "The download was stopped.");
      const cause = timeout.aborted ? "no answer in 30 s" : ((error as { cause?: { code?: string } }).cause?.code ?? "connection failed");
      throw new BillaError("network", `Could not reach ${this.host} for ${what.path ?? what.repo} (${cause}). Check the internet connection, or set a mirror in Settings (Hugging Face endpoint).`);
    }
  }

  async #json(response: Response): Promise<unknown> {
    try {
      return await response.json();
    } catch {
      throw this.#notAHub("it answered with something other than JSON");
    }
  }

  #notAHub(problem: string): BillaError {
    return new BillaError("bad_file", `${this.host} does not answer like a Hugging Face Hub: ${problem}. Check the endpoint in Settings (or HF_ENDPOINT); it must be the Hub or a mirror of it.`);
  }

  /** The Hub's error as a sentence that says what to do; its own message (never our token) is quoted. */
  async #failure(response: Response, what: What): Promise<BillaError> {
    const code = response.headers.get("x-error-code");
    let serverMessage = (response.headers.get("x-error-message") ?? errorOfBody(await response.text().catch(() => ""))).replace(/\s+/g, " ").slice(0, 300);
    if (this.token !== null) serverMessage = serverMessage.replaceAll(this.token, "…");
    const quoted = serverMessage ? ` The Hub says: “${serverMessage}”.` : "";
    const page = `${this.endpoint}/${what.repo}`;
    const { status } = response;
    const thing = what.path ? `${what.path} of ${what.repo}` : what.repo;
    if (status === 401 && serverMessage.includes("Invalid credentials")) {
      return new BillaError("access_denied", `${this.host} refused the access token in Settings (invalid credentials). Check the token, or remove it: public models need none.`);
    }
    if (code === "GatedRepo") {
      return this.token === null
        ? new BillaError("access_denied", `${what.repo} is gated (${status}): accept its conditions at ${page}, then put a Hugging Face access token in Settings.${quoted}`)
        : new BillaError("access_denied", `Your access token has no access to ${what.repo} yet (${status}). Ask for access at ${page}, then start again.${quoted}`);
    }
    if (status === 401 || (status === 404 && code === "RepoNotFound")) {
      const privateHint = this.token === null ? " If it is private, put an access token in Settings." : " If it is private, check that your access token may read it.";
      return new BillaError(status === 401 ? "access_denied" : "not_found", `${what.repo} was not found on ${this.host} (${status}). Check the name, e.g. Neutralzz/BiLLa-7B-SFT.${privateHint}`);
    }
    if (status === 403) return new BillaError("access_denied", `${this.host} refused access to ${thing} (403).${quoted} If the repository is gated or private, check your access token in Settings.`);
    if (status === 404 && code === "RevisionNotFound") return new BillaError("not_found", `${what.repo} has no revision “${what.revision}” on ${this.host} (404). Check the branch or commit.`);
    if (status === 404 && code === "EntryNotFound") return new BillaError("not_found", `${what.path} is missing from ${what.repo} on ${this.host} (404).${quoted}`);
    if (status === 404) return new BillaError("not_found", `${this.host} answered 404 Not Found for ${thing}. Check the repository name and the endpoint in Settings (or HF_ENDPOINT).`);
    if (status === 429) return new BillaError("network", `${this.host} asks to slow down (429 Too Many Requests). Wait a minute, then resume.`);
    if (status >= 500) return new BillaError("network", `${this.host} had an error (${status}) for ${thing}. Try again later; partial files are kept.`);
    return new BillaError("bad_file", `${this.host} answered ${status} for ${thing}.${quoted}`);
  }
}

// A loopback stand-in for the Hugging Face Hub that answers as the real one does (as huggingface_hub's client
// expects it): model info with the commit (`/api/models/{repo}/revision/{rev}`), the tree API with `Link`
// pagination, and `resolve/{rev}/{path}`, where small files answer 200 from the Hub itself and LFS files 302 to a
// second origin standing for the CDN, with X-Linked-Size, X-Linked-Etag and X-Repo-Commit. Both honour
// `Range: bytes=N-` / `N-M` with 206 and Content-Range. Errors carry X-Error-Code as the Hub's do: 401 for a gated
// repository without a token (and for a missing one), 403 for a token without access, 404 RepoNotFound /
// RevisionNotFound / EntryNotFound. Every request is logged; faults can be injected per file.
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { join } from "node:path";
import { DEMO } from "./demo.js";

export interface RepoFile {
  path: string;
  content: Buffer;
  /** Kept in LFS: listed with its sha256, served through the CDN. */
  lfs: boolean;
}

export interface LoggedRequest {
  server: "hub" | "cdn";
  method: string;
  url: string;
  /** The repository path of the file whose bytes were asked for, if any. */
  file: string | null;
  range: string | null;
  authorization: string | null;
  status: number;
  /** Body bytes actually written to the socket. */
  bytesSent: number;
}

interface Commit {
  sha: string;
  files: RepoFile[];
}

interface Repo {
  commits: Commit[];
  /** A token that may read it; with one, requests without it are 401 and with another 403 (GatedRepo). */
  gatedFor: string | null;
}

type Fault =
  | { kind: "drop"; file: string; at: number }
  | { kind: "stall"; file: string; at: number; reached: () => void }
  | { kind: "corrupt"; file: string; offset: number }
  | { kind: "status"; file: string; status: number; errorCode: string | null; message: string; times: number };

/** The files of the demo release, laid out as the Hub keeps them (.gitattributes puts *.bin and *.model in LFS). */
export function demoReleaseFiles(): RepoFile[] {
  const files: RepoFile[] = readdirSync(DEMO.released)
    .sort()
    .map((name) => ({ path: name, content: readFileSync(join(DEMO.released, name)), lfs: /\.(bin|model)$/.test(name) }));
  files.push({ path: ".gitattributes", content: Buffer.from("*.bin filter=lfs diff=lfs merge=lfs -text\n*.model filter=lfs diff=lfs merge=lfs -text\n"), lfs: false });
  files.push({ path: "README.md", content: Buffer.from("# BiLLa demo\nA tiny model in BiLLa's release layout.\n"), lfs: false });
  return files;
}

export function sha256(content: Buffer): string {
  return createHash("sha256").update(content).digest("hex");
}

function gitBlobOid(content: Buffer): string {
  return createHash("sha1").update(`blob ${content.length}\0`).update(content).digest("hex");
}

function lfsPointer(content: Buffer): Buffer {
  return Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(content)}\nsize ${content.length}\n`);
}

/** `bytes=N-`, `bytes=N-M` (one range, as clients ask when resuming); null when absent or not understood. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | "unsatisfiable" | null {
  const match = header ? /^bytes=(\d+)-(\d*)$/.exec(header.trim()) : null;
  if (!match) return null;
  const start = Number(match[1]);
  const end = match[2] ? Math.min(Number(match[2]), size - 1) : size - 1;
  return start >= size || end < start ? "unsatisfiable" : { start, end };
}

/** Listens on loopback; the address is given by `host`, as clients will name it. */
async function listen(server: Server, host: string): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return `http://${host}:${address.port}`;
}

export class FakeHub {
  readonly log: LoggedRequest[] = [];
  readonly #repos = new Map<string, Repo>();
  #faults: Fault[] = [];
  readonly #sockets = new Set<Socket>();
  /** Entries per page of the tree API (the real Hub pages long listings too). */
  pageSize = 4;

  private constructor(
    private readonly hub: Server,
    private readonly cdn: Server,
    readonly endpoint: string,
    readonly cdnOrigin: string,
  ) {}

  static async start(): Promise<FakeHub> {
    let self: FakeHub | null = null;
    const hubServer = createServer((request, response) => self!.#onHub(request, response));
    const cdnServer = createServer((request, response) => self!.#onCdn(request, response));
    // The CDN has a host name of its own, as on the real Hub: clients (huggingface_hub among them) tell the CDN
    // from the Hub by the host name, not the port.
    const [endpoint, cdnOrigin] = await Promise.all([listen(hubServer, "127.0.0.1"), listen(cdnServer, "localhost")]);
    self = new FakeHub(hubServer, cdnServer, endpoint, cdnOrigin);
    for (const server of [hubServer, cdnServer]) {
      server.on("connection", (socket: Socket) => {
        self!.#sockets.add(socket);
        socket.on("close", () => self!.#sockets.delete(socket));
      });
    }
    return self;
  }

  /** Adds a repository with one commit on main; returns the commit id. */
  addRepo(id: string, files: RepoFile[], options: { gatedFor?: string } = {}): string {
    const repo: Repo = { commits: [], gatedFor: options.gatedFor ?? null };
    this.#repos.set(id, repo);
    return this.push(id, files);
  }

  /** A new commit on main. */
  push(id: string, files: RepoFile[]): string {
    const repo = this.#repos.get(id)!;
    const sha = createHash("sha1").update(`${id}:${repo.commits.length}:${randomBytes(8).toString("hex")}`).digest("hex");
    repo.commits.push({ sha, files });
    return sha;
  }

  /** The connection drops once, after the file's bytes up to `at` (an offset in the file) were sent. */
  dropOnce(file: string, at: number): void {
    this.#faults.push({ kind: "drop", file, at });
  }

  /** Once, the file's bytes up to `at` are sent and then nothing more, the connection left open. */
  stallOnce(file: string, at: number): Promise<void> {
    return new Promise((reached) => this.#faults.push({ kind: "stall", file, at, reached }));
  }

  /** The first response carrying `offset` of the file has that byte flipped. */
  corruptOnce(file: string, offset: number): void {
    this.#faults.push({ kind: "corrupt", file, offset });
  }

  /** `resolve/` of this file answers `status` (with the Hub's X-Error-Code) the next `times` times. */
  failResolve(file: string, status: number, errorCode: string | null, message: string, times = Infinity): void {
    this.#faults.push({ kind: "status", file, status, errorCode, message, times });
  }

  clearFaults(): void {
    this.#faults = [];
  }

  /** Body bytes sent for one file (or all), by both origins. */
  bytesSent(file?: string): number {
    return this.log.filter((entry) => file === undefined || entry.file === file).reduce((sum, entry) => sum + entry.bytesSent, 0);
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all([this.hub, this.cdn].map((server) => new Promise((resolve) => server.close(resolve))));
  }

  // ── The Hub ────────────────────────────────────────────────────────────────────────────────────────

  #onHub(request: IncomingMessage, response: ServerResponse): void {
    const entry = this.#record("hub", request, null);
    response.on("finish", () => (entry.status = response.statusCode));
    response.on("close", () => (entry.status ||= response.statusCode));
    const url = new URL(request.url ?? "/", this.endpoint);
    const path = url.pathname;
    let match: RegExpExecArray | null;
    if ((match = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(path))) return this.#revision(request, response, match[1]!, decodeURIComponent(match[2]!));
    if ((match = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)$/.exec(path))) return this.#tree(request, response, match[1]!, decodeURIComponent(match[2]!), url);
    if ((match = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path))) {
      entry.file = match[3]!.split("/").map(decodeURIComponent).join("/");
      return this.#resolve(request, response, entry, match[1]!, decodeURIComponent(match[2]!), entry.file);
    }
    this.#error(response, 404, null, "Not Found");
  }

  /** The commit for a revision, or the error the Hub gives. */
  #commit(request: IncomingMessage, response: ServerResponse, repoId: string, revision: string): Commit | null {
    const repo = this.#repos.get(repoId);
    const authorization = request.headers.authorization ?? null;
    if (!repo) {
      // The Hub does not tell a missing repository from a private one to a caller without a token.
      this.#error(response, authorization ? 404 : 401, "RepoNotFound", "Repository not found");
      return null;
    }
    if (repo.gatedFor !== null && authorization !== `Bearer ${repo.gatedFor}`) {
      if (authorization) this.#error(response, 403, "GatedRepo", `Access to model ${repoId} is restricted and you are not in the authorized list. Visit ${this.endpoint}/${repoId} to ask for access.`);
      else this.#error(response, 401, "GatedRepo", `Access to model ${repoId} is restricted. You must have access to it and be authenticated to access it. Please log in.`);
      return null;
    }
    const commit = revision === "main" ? repo.commits.at(-1) : repo.commits.find((candidate) => candidate.sha === revision);
    if (!commit) {
      this.#error(response, 404, "RevisionNotFound", `Invalid rev id: ${revision}`);
      return null;
    }
    return commit;
  }

  #revision(request: IncomingMessage, response: ServerResponse, repoId: string, revision: string): void {
    const commit = this.#commit(request, response, repoId, revision);
    if (!commit) return;
    this.#json(response, { _id: commit.sha.slice(0, 24), id: repoId, sha: commit.sha, private: false, gated: this.#repos.get(repoId)!.gatedFor ? "auto" : false, siblings: commit.files.map((file) => ({ rfilename: file.path })) }, commit);
  }

  #tree(request: IncomingMessage, response: ServerResponse, repoId: string, revision: string, url: URL): void {
    const commit = this.#commit(request, response, repoId, revision);
    if (!commit) return;
    const entries = commit.files.map((file) => {
      const base = { type: "file", oid: gitBlobOid(file.lfs ? lfsPointer(file.content) : file.content), size: file.content.length, path: file.path };
      return file.lfs ? { ...base, lfs: { oid: sha256(file.content), size: file.content.length, pointerSize: lfsPointer(file.content).length } } : base;
    });
    const cursor = Number(url.searchParams.get("cursor") ?? "0");
    const page = entries.slice(cursor, cursor + this.pageSize);
    if (cursor + this.pageSize < entries.length) {
      const next = new URL(url);
      next.searchParams.set("cursor", String(cursor + this.pageSize));
      response.setHeader("Link", `<${next.href}>; rel="next"`);
    }
    this.#json(response, page, commit);
  }

  #resolve(request: IncomingMessage, response: ServerResponse, entry: LoggedRequest, repoId: string, revision: string, path: string): void {
    const fault = this.#faults.find((candidate): candidate is Extract<Fault, { kind: "status" }> => candidate.kind === "status" && candidate.file === path && candidate.times > 0);
    if (fault) {
      fault.times--;
      return this.#error(response, fault.status, fault.errorCode, fault.message);
    }
    const commit = this.#commit(request, response, repoId, revision);
    if (!commit) return;
    const file = commit.files.find((candidate) => candidate.path === path);
    if (!file) return this.#error(response, 404, "EntryNotFound", `${path} does not exist on "${revision}"`, commit);
    response.setHeader("X-Repo-Commit", commit.sha);
    if (file.lfs) {
      const hash = sha256(file.content);
      response.writeHead(302, {
        Location: `${this.cdnOrigin}/repos/${hash.slice(0, 2)}/${hash}?response-content-disposition=attachment&Expires=${Math.floor(Date.now() / 1000) + 3600}&Signature=${randomBytes(8).toString("hex")}`,
        "X-Linked-Size": String(file.content.length),
        "X-Linked-Etag": `"${hash}"`,
        ETag: `"${gitBlobOid(lfsPointer(file.content))}"`,
        "Content-Length": "0",
      });
      response.end();
      return;
    }
    this.#sendBody(request, response, entry, file, `"${gitBlobOid(file.content)}"`);
  }

  // ── The CDN: content-addressed, signed links, no token wanted ────────────────────────────────────────

  #onCdn(request: IncomingMessage, response: ServerResponse): void {
    const entry = this.#record("cdn", request, null);
    response.on("finish", () => (entry.status = response.statusCode));
    response.on("close", () => (entry.status ||= response.statusCode));
    const url = new URL(request.url ?? "/", this.cdnOrigin);
    const hash = /^\/repos\/[0-9a-f]{2}\/([0-9a-f]{64})$/.exec(url.pathname)?.[1];
    const file = hash ? this.#fileByHash(hash) : null;
    if (!file || !url.searchParams.get("Signature")) {
      response.writeHead(403, { "Content-Type": "application/xml" });
      response.end("<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>");
      return;
    }
    entry.file = file.path;
    this.#sendBody(request, response, entry, file, `"${hash}"`);
  }

  #fileByHash(hash: string): RepoFile | null {
    for (const repo of this.#repos.values()) {
      for (const commit of repo.commits) {
        const file = commit.files.find((candidate) => candidate.lfs && sha256(candidate.content) === hash);
        if (file) return file;
      }
    }
    return null;
  }

  // ── Bodies, with ranges and faults ───────────────────────────────────────────────────────────────────

  #sendBody(request: IncomingMessage, response: ServerResponse, entry: LoggedRequest, file: RepoFile, etag: string): void {
    const size = file.content.length;
    const range = parseRange(request.headers.range, size);
    response.setHeader("Accept-Ranges", "bytes");
    response.setHeader("ETag", etag);
    response.setHeader("Content-Type", "application/octet-stream");
    if (range === "unsatisfiable") {
      response.writeHead(416, { "Content-Range": `bytes */${size}` });
      response.end();
      return;
    }
    const { start, end } = range ?? { start: 0, end: size - 1 };
    response.writeHead(range ? 206 : 200, { "Content-Length": String(end - start + 1), ...(range ? { "Content-Range": `bytes ${start}-${end}/${size}` } : {}) });
    if (request.method === "HEAD") {
      response.end();
      return;
    }
    let body = file.content.subarray(start, end + 1);
    const corrupt = this.#takeFault(file.path, (fault) => fault.kind === "corrupt" && fault.offset >= start && fault.offset <= end);
    if (corrupt?.kind === "corrupt") {
      body = Buffer.from(body);
      body[corrupt.offset - start]! ^= 0xff;
    }
    const cut = this.#takeFault(file.path, (fault) => (fault.kind === "drop" || fault.kind === "stall") && fault.at > start && fault.at <= end);
    if (cut?.kind === "drop" || cut?.kind === "stall") {
      const part = body.subarray(0, cut.at - start);
      response.write(part, () => {
        entry.bytesSent += part.length;
        if (cut.kind === "drop") response.socket?.destroy();
        else cut.reached();
      });
      return;
    }
    response.end(body, () => (entry.bytesSent += body.length));
  }

  #takeFault(file: string, matches: (fault: Fault) => boolean): Fault | null {
    const index = this.#faults.findIndex((fault) => fault.file === file && matches(fault));
    return index < 0 ? null : this.#faults.splice(index, 1)[0]!;
  }

  #record(server: LoggedRequest["server"], request: IncomingMessage, file: string | null): LoggedRequest {
    const entry: LoggedRequest = {
      server,
      method: request.method ?? "GET",
      url: request.url ?? "/",
      file,
      range: request.headers.range ?? null,
      authorization: request.headers.authorization ?? null,
      status: 0,
      bytesSent: 0,
    };
    this.log.push(entry);
    return entry;
  }

  #json(response: ServerResponse, value: unknown, commit: Commit): void {
    const body = JSON.stringify(value);
    response.writeHead(200, { "Content-Type": "application/json; charset=utf-8", "Content-Length": String(Buffer.byteLength(body)), "X-Repo-Commit": commit.sha });
    response.end(body);
  }

  #error(response: ServerResponse, status: number, errorCode: string | null, message: string, commit?: Commit): void {
    const body = JSON.stringify({ error: message });
    response.writeHead(status, {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": String(Buffer.byteLength(body)),
      ...(errorCode ? { "X-Error-Code": errorCode } : {}),
      "X-Error-Message": message,
      ...(commit ? { "X-Repo-Commit": commit.sha } : {}),
    });
    response.end(body);
  }
}

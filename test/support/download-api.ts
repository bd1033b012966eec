// Downloads through the API as a client runs them (start, follow the events, wait for the end), and the checks
// the download tests share: the destination holds exactly the demo release, and what the fake Hub's log says
// about ranges and bytes.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { DownloadStatus, EventMessage, RawApi, RequestInput, RequestName, RequestOutput } from "../../src-main/contract/api.js";
import { DEMO } from "./demo.js";
import type { LoggedRequest } from "./fake-hub.js";

export type DownloadOutcome = Extract<EventMessage, { name: "download.finished" }>["payload"]["outcome"];

export async function call<N extends RequestName>(api: RawApi, name: N, input: RequestInput<N>): Promise<RequestOutput<N>> {
  const envelope = await api.invoke(name, input);
  if (!envelope.ok) throw Object.assign(new Error(envelope.error.message), { code: envelope.error.code });
  return envelope.value as RequestOutput<N>;
}

/** The error a request fails with (code and message), or a test failure when it succeeds. */
export async function refusal<N extends RequestName>(api: RawApi, name: N, input: RequestInput<N>): Promise<{ code: string; message: string }> {
  const envelope = await api.invoke(name, input);
  if (envelope.ok) throw new Error(`${name} was expected to fail`);
  return envelope.error;
}

/** Follows the download events from its creation on (create it before starting, so no event is missed). */
export class DownloadWatch {
  readonly progress: DownloadStatus[] = [];
  readonly #finished = new Map<string, DownloadOutcome>();
  readonly #waiting = new Map<string, (outcome: DownloadOutcome) => void>();
  readonly #unsubscribe: () => void;

  constructor(api: RawApi, private readonly onProgress: (status: DownloadStatus) => void = () => undefined) {
    this.#unsubscribe = api.subscribe((event) => {
      if (event.name === "download.progress") {
        this.progress.push(event.payload);
        this.onProgress(event.payload);
      }
      if (event.name === "download.finished") {
        this.#finished.set(event.payload.downloadId, event.payload.outcome);
        this.#waiting.get(event.payload.downloadId)?.(event.payload.outcome);
      }
    });
  }

  outcome(downloadId: string): Promise<DownloadOutcome> {
    const known = this.#finished.get(downloadId);
    return known ? Promise.resolve(known) : new Promise((resolve) => this.#waiting.set(downloadId, resolve));
  }

  stop(): void {
    this.#unsubscribe();
  }
}

/** Starts a download and waits for its end. */
export async function download(api: RawApi, input: RequestInput<"download.start">): Promise<{ outcome: DownloadOutcome; progress: DownloadStatus[]; downloadId: string }> {
  const watch = new DownloadWatch(api);
  try {
    const { downloadId } = await call(api, "download.start", input);
    return { outcome: await watch.outcome(downloadId), progress: watch.progress, downloadId };
  } finally {
    watch.stop();
  }
}

/** The demo release's files that conversion needs, as the destination should hold them. */
export const DEMO_RELEASE_NAMES = readdirSync(DEMO.released).sort();
export const fileSize = (name: string): number => statSync(join(DEMO.released, name)).size;
export const DEMO_RELEASE_BYTES = DEMO_RELEASE_NAMES.reduce((sum, name) => sum + fileSize(name), 0);

/** The names in `dir` that are not exactly the demo release's files, byte for byte ([] when it holds just those). */
export function differencesFromDemo(dir: string): string[] {
  const names = readdirSync(dir).sort();
  const unexpected = names.filter((name) => !DEMO_RELEASE_NAMES.includes(name));
  const missing = DEMO_RELEASE_NAMES.filter((name) => !names.includes(name)).map((name) => `missing ${name}`);
  const different = names.filter((name) => DEMO_RELEASE_NAMES.includes(name) && !readFileSync(join(dir, name)).equals(readFileSync(join(DEMO.released, name)))).map((name) => `different ${name}`);
  return [...unexpected, ...missing, ...different];
}

/** The start offset of each range request for `file`, in the order they came. */
export function rangeStarts(log: LoggedRequest[], file: string): number[] {
  return log.filter((entry) => entry.file === file && entry.method === "GET" && entry.range !== null).map((entry) => Number(/^bytes=(\d+)-/.exec(entry.range!)?.[1] ?? NaN));
}

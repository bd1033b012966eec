// One download into one folder: the manifest first (pinned commit, free space), then every file, a few at a time,
// each transferred, checked against the manifest and only then given its name. Files already there and matching
// are kept; a file that fails its check is put aside and fetched once more; a lost connection is retried with
// growing waits. Pausing or cancelling keeps what arrived, so starting again continues it.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { DownloadFileStatus, DownloadStatus, OutputTypeName } from "../../contract/api.js";
import { BillaError } from "../../contract/errors.js";
import { freeBytes } from "../files/free-space.js";
import { DownloadFolder } from "./download-folder.js";
import { fetchManifest, notEnoughSpace, planDownload, type Manifest } from "./download-plan.js";
import { checkFile } from "./file-check.js";
import { FileTransfer, TransferError } from "./file-transfer.js";
import type { HubClient, HubFile } from "./hub-client.js";
import { RateMeter } from "./rate-meter.js";

export interface DownloadTuning {
  /** No new byte for this long counts as a lost connection: the file's transfer starts over from what it has. */
  stallMs: number;
  /** The first wait before trying a file again after a lost connection; it doubles each time, up to a minute. */
  retryDelayMs: number;
  /** Tries per file before the download stops and says the connection is lost. */
  attempts: number;
  /** Free bytes on the disk of a path. */
  freeBytes: (path: string) => Promise<number>;
}

export const DEFAULT_TUNING: DownloadTuning = { stallMs: 60_000, retryDelayMs: 2000, attempts: 6, freeBytes };

const PROGRESS_INTERVAL_MS = 250;
const MAX_RETRY_DELAY_MS = 60_000;

export interface JobRequest {
  repo: string;
  revision: string;
  destination: string;
  /** Asked for explicitly (kept for a resume); otherwise the setting or HF_ENDPOINT at each start. */
  endpoint?: string | undefined;
  parallel?: number | undefined;
  outType: OutputTypeName;
}

export interface JobContext {
  /** A client for this run, with the endpoint and token as they are now. */
  hub: (signal: AbortSignal) => HubClient;
  parallel: number;
  outputFolder: string;
  tuning: DownloadTuning;
  emit: (status: DownloadStatus) => void;
  onEnd: (status: DownloadStatus) => void;
  /** For failures inside the app (not the network's or the Hub's): their details go to the log only. */
  logError: (message: string, error: unknown) => void;
}

type Stop = "pause" | "cancel" | "dispose";

export class DownloadJob {
  readonly folder: DownloadFolder;
  #status: DownloadStatus;
  #manifest: Manifest | null = null;
  #files = new Map<string, DownloadFileStatus & { meter: RateMeter }>();
  #meter = new RateMeter();
  #transfers = new Set<FileTransfer>();
  #controller = new AbortController();
  #stop: Stop | null = null;
  #failure: BillaError | null = null;
  #running: Promise<void> | null = null;
  #lastEmit = 0;

  constructor(
    readonly id: string,
    readonly request: JobRequest,
  ) {
    this.folder = new DownloadFolder(request.destination);
    this.#status = {
      id,
      repo: request.repo,
      revision: request.revision,
      commit: "",
      endpoint: request.endpoint ?? "",
      destination: this.folder.destination,
      state: "paused",
      totalBytes: 0,
      doneBytes: 0,
      bytesPerSecond: 0,
      etaSeconds: null,
      files: [],
      notices: [],
      error: null,
    };
  }

  get running(): boolean {
    return this.#running !== null;
  }

  status(): DownloadStatus {
    const now = performance.now();
    const files = [...this.#files.values()].map(({ meter, ...file }) => ({ ...file, bytesPerSecond: file.state === "downloading" ? meter.perSecond(now) : 0 }));
    const doneBytes = files.reduce((sum, file) => sum + file.doneBytes, 0);
    const bytesPerSecond = this.#status.state === "running" ? this.#meter.perSecond(now) : 0;
    const totalBytes = files.reduce((sum, file) => sum + file.size, 0);
    return {
      ...this.#status,
      files,
      notices: [...this.#status.notices],
      totalBytes,
      doneBytes,
      bytesPerSecond,
      etaSeconds: bytesPerSecond > 0 ? Math.max(0, (totalBytes - doneBytes) / bytesPerSecond) : null,
    };
  }

  /**
   * Claims the folder, fetches the manifest and checks the space; failures here are thrown to the caller. Then the
   * files are fetched in the background; `onEnd` hears how it ended.
   */
  async start(context: JobContext): Promise<void> {
    if (this.#running) return;
    this.#controller = new AbortController();
    this.#stop = null;
    this.#failure = null;
    this.#status.error = null;
    this.#status.notices = [];
    const hub = context.hub(this.#controller.signal);
    this.#status.endpoint = hub.endpoint;
    await this.folder.acquire();
    try {
      const manifest = await fetchManifest(hub, this.folder, this.request.repo, this.request.revision);
      const plan = await planDownload(manifest, { ...this.request, endpoint: hub.endpoint, folder: this.folder, outputFolder: context.outputFolder, freeBytes: context.tuning.freeBytes });
      if (!plan.enoughSpace) throw notEnoughSpace(plan);
      const previous = await this.folder.readState();
      if (previous && previous.commit !== manifest.commit) await this.folder.removeWork().then(() => this.folder.acquire());
      await this.folder.writeState({ repo: this.request.repo, revision: this.request.revision, commit: manifest.commit, endpoint: hub.endpoint, files: manifest.files });
      this.#manifest = manifest;
      this.#status.commit = manifest.commit;
      this.#files = new Map(plan.files.map((file) => [file.path, { path: file.path, size: file.size, doneBytes: file.onDiskBytes, state: "waiting", bytesPerSecond: 0, meter: new RateMeter() }]));
    } catch (error) {
      await this.folder.release();
      throw error;
    }
    this.#status.state = "running";
    this.#emit(context, true);
    this.#running = this.#fetchAll(hub, context).finally(() => (this.#running = null));
  }

  /** Shows what an earlier run left (sizes on disk), for a download found after a restart. */
  async loadFromDisk(): Promise<boolean> {
    const state = await this.folder.readState();
    if (!state) return false;
    this.#status.commit = state.commit;
    this.#status.endpoint = this.request.endpoint ?? state.endpoint;
    this.#status.state = "interrupted";
    const onDisk = await Promise.all(state.files.map((file) => this.folder.onDiskBytes(file)));
    this.#files = new Map(state.files.map((file, i) => [file.path, { path: file.path, size: file.size, doneBytes: onDisk[i]!, state: "waiting", bytesPerSecond: 0, meter: new RateMeter() }]));
    return true;
  }

  /** Stops transferring and waits until every transfer has let go of its files. */
  async stop(reason: Stop): Promise<void> {
    if (!this.#running) return;
    this.#stop ??= reason;
    this.#controller.abort();
    await Promise.all([...this.#transfers].map((transfer) => transfer.stop()));
    await this.#running;
  }

  async #fetchAll(hub: HubClient, context: JobContext): Promise<void> {
    const manifest = this.#manifest!;
    const queue = [...manifest.files];
    const worker = async () => {
      for (let file = queue.shift(); file && !this.#stop && !this.#failure; file = queue.shift()) {
        try {
          await this.#fetchFile(file, hub, manifest.commit, context);
        } catch (error) {
          if (this.#stop) return;
          this.#fileEntry(file).state = "failed";
          this.#failure ??= error instanceof BillaError ? error : this.#internal(file, error, context);
          // One failure stops the others; what they have is kept for the next start.
          this.#controller.abort();
          await Promise.all([...this.#transfers].map((transfer) => transfer.stop()));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(context.parallel, manifest.files.length) }, worker));
    const complete = !this.#stop && !this.#failure;
    if (complete) await this.folder.removeWork();
    else await this.folder.release();
    this.#status.state = complete ? "done" : this.#failure ? "failed" : this.#stop === "pause" ? "paused" : this.#stop === "cancel" ? "cancelled" : "interrupted";
    this.#status.error = this.#failure ? { code: this.#failure.code, message: this.#failure.message } : null;
    this.#emit(context, true);
    context.onEnd(this.status());
  }

  async #fetchFile(file: HubFile, hub: HubClient, commit: string, context: JobContext): Promise<void> {
    const entry = this.#fileEntry(file);
    const finalPath = this.folder.finalPath(file);
    if (await this.#exists(finalPath)) {
      entry.state = "verifying";
      this.#emit(context, true);
      const check = await checkFile(finalPath, file);
      if (check.ok) {
        entry.state = "present";
        entry.doneBytes = file.size;
        this.#emit(context, true);
        return;
      }
      const where = await this.folder.quarantine(finalPath, file);
      this.#notice(`${file.path} was already in the folder but is not the Hub's (its ${check.what} is ${check.actual}, the Hub's ${check.expected}); it was moved to ${where} and is downloaded again.`);
      entry.doneBytes = 0;
    }
    let refetched = false;
    for (let attempt = 1; ; attempt++) {
      if (this.#stop || this.#failure) return;
      entry.state = "downloading";
      this.#emit(context, true);
      let finished: boolean;
      try {
        finished = await this.#transfer(file, hub, commit, context);
      } catch (error) {
        const failure = this.#explain(error, file, hub, attempt, context);
        if (failure) throw failure;
        const delay = Math.min(MAX_RETRY_DELAY_MS, context.tuning.retryDelayMs * 2 ** (attempt - 1));
        const waited = await sleep(delay, true, { signal: this.#controller.signal }).catch(() => false);
        if (!waited) return;
        continue;
      }
      if (!finished) return;
      entry.state = "verifying";
      this.#emit(context, true);
      const partPath = this.folder.partPath(file);
      const check = await checkFile(partPath, file);
      if (check.ok) {
        await this.folder.accept(file);
        entry.state = "verified";
        entry.doneBytes = file.size;
        this.#emit(context, true);
        return;
      }
      await this.folder.quarantine(partPath, file);
      await this.folder.discardPart(file);
      if (refetched) {
        throw new BillaError(
          "bad_file",
          `${file.path} failed its checksum twice (its ${check.what} is ${check.actual}, the Hub's ${check.expected}); both copies are kept in ${join(this.folder.work, "quarantine")}. The server, or something between it and you, sends damaged data: try again later, or another endpoint.`,
        );
      }
      refetched = true;
      attempt = 0;
      entry.doneBytes = 0;
      this.#notice(`${file.path} arrived damaged: its ${check.what} is ${check.actual}, the Hub's ${check.expected}. It was set aside and is downloaded once more.`);
    }
  }

  /** One try at a file's bytes: where they are now (a CDN link is fresh each time), then the transfer. */
  async #transfer(file: HubFile, hub: HubClient, commit: string, context: JobContext): Promise<boolean> {
    const entry = this.#fileEntry(file);
    if ((await this.folder.recoverPart(file)) === "whole") return true;
    const location = await hub.locate(this.request.repo, commit, file);
    if (this.#stop || this.#failure) return false;
    const transfer = new FileTransfer({
      ...location,
      savePath: this.folder.partPath(file),
      size: file.size,
      stallMs: context.tuning.stallMs,
      onProgress: (doneBytes) => {
        const now = performance.now();
        const arrived = Math.max(0, doneBytes - entry.doneBytes);
        entry.doneBytes = Math.min(doneBytes, file.size);
        entry.meter.add(arrived, now);
        this.#meter.add(arrived, now);
        this.#emit(context);
      },
    });
    this.#transfers.add(transfer);
    try {
      return await transfer.run();
    } finally {
      this.#transfers.delete(transfer);
    }
  }

  /** null when the error is worth another try; otherwise the error to stop with, in words that say what to do. */
  #explain(error: unknown, file: HubFile, hub: HubClient, attempt: number, context: JobContext): BillaError | null {
    const retriable = attempt < context.tuning.attempts;
    if (error instanceof BillaError) return error.code === "network" && retriable ? null : error;
    if (!(error instanceof TransferError)) return this.#internal(file, error, context);
    const kept = "What arrived is kept: resume to continue.";
    switch (error.kind) {
      case "disk_full":
        return new BillaError("disk_full", `The disk holding ${this.folder.destination} is full (while writing ${file.path}). ${kept} Free some space first.`);
      case "disk":
        return new BillaError("bad_file", `${this.folder.destination} cannot be written (${error.message}). Choose a folder you may write to.`);
      case "status":
        // A CDN link may have expired (403) or the server may be busy (5xx, 429): ask again for a fresh link.
        if (retriable) return null;
        if (error.status === 401 || error.status === 403) return new BillaError("access_denied", `The server refused ${file.path} (${error.status}) ${attempt} times. If the repository is gated or private, check your access token in Settings. ${kept}`);
        if (error.status === 404) return new BillaError("not_found", `The server no longer has ${file.path} (404). Try again later, or another endpoint.`);
        return new BillaError("network", `The server kept failing on ${file.path} (${error.status}). ${kept}`);
      default:
        return retriable ? null : new BillaError("network", `The connection to ${hub.host} was lost while downloading ${file.path} (${error.message}; ${attempt} tries). ${kept}`);
    }
  }

  #internal(file: HubFile, error: unknown, context: JobContext): BillaError {
    context.logError(`download ${this.id}: ${file.path} failed`, error);
    return new BillaError("internal", `Downloading ${file.path} failed inside BiLLa Desktop. The log file has the details.`);
  }

  #fileEntry(file: HubFile): DownloadFileStatus & { meter: RateMeter } {
    return this.#files.get(file.path)!;
  }

  #notice(text: string): void {
    this.#status.notices.push(text);
  }

  async #exists(path: string): Promise<boolean> {
    return stat(path).then(
      (info) => info.isFile(),
      () => false,
    );
  }

  #emit(context: JobContext, force = false): void {
    const now = performance.now();
    if (!force && now - this.#lastEmit < PROGRESS_INTERVAL_MS) return;
    this.#lastEmit = now;
    context.emit(this.status());
  }
}

// One file's bytes, through ipull (the downloader node-llama-cpp uses): HTTP range requests on parallel streams,
// retries with back-off, and its progress kept next to the part (`<part>.ipull`), so a transfer stopped by a
// pause, a dropped connection, a crash or a reboot continues from the chunks it has, never from zero.
//
// What this module adds around ipull, and why:
// - At least two streams per file. With one, ipull 3.9.5 restarts a resumed file at byte 0 and stops at the first
//   chunk it already has, leaving a corrupt file (seen here; the checksum would catch it, but the bytes are lost).
// - The size we already know from the Hub, so ipull skips its own probe (a full GET it never reads).
// - A chunk size that follows the file's size: ipull saves its progress per finished chunk, so small chunks on
//   small files still leave something to resume from.
// - A stall watchdog: a connection that stays open but sends nothing would otherwise hang forever.
// - A guard for ipull's orphaned write errors (see guardWriteFailures).
import { downloadFile, DownloadStatus, StatusCodeError, type DownloadEngineNodejs } from "ipull";
import { isDiskFull } from "../files/disk-full.js";

export interface TransferOptions {
  url: string;
  headers: Record<string, string>;
  savePath: string;
  size: number;
  acceptsRanges: boolean;
  /** Bytes of the file on disk so far (resumed chunks included), as they grow. */
  onProgress: (doneBytes: number) => void;
  /** No new byte for this long counts as a lost connection. */
  stallMs: number;
}

/** Why a transfer ended without the whole file. */
export class TransferError extends Error {
  constructor(
    readonly kind: "status" | "network" | "stalled" | "disk_full" | "disk",
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

const MIN_CHUNK = 64 * 1024;
const MAX_CHUNK = 8 * 1024 * 1024;
const STREAMS_PER_FILE = 2;

/** About 32 chunks a file, between 64 KiB and 8 MiB, in powers of two. */
export function chunkSizeFor(size: number): number {
  const target = Math.max(MIN_CHUNK, Math.min(MAX_CHUNK, size / 32));
  return 2 ** Math.floor(Math.log2(target));
}

function asTransferError(error: unknown): TransferError {
  if (error instanceof TransferError) return error;
  if (error instanceof StatusCodeError) return new TransferError("status", `the server answered ${error.statusCode} ${error.statusText}`, error.statusCode);
  if (isDiskFull(error)) return new TransferError("disk_full", "the disk is full");
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") return new TransferError("disk", `the folder cannot be written (${code})`);
  const cause = (error as { cause?: { code?: string } }).cause?.code;
  return new TransferError("network", cause ? `the connection failed (${cause})` : "the connection was lost");
}

const DISK_ERRORS = new Set(["ENOSPC", "EDQUOT", "EIO", "EROFS", "EACCES", "EPERM"]);
let runningTransfers = 0;

/**
 * ipull 3.9.5 rejects `download()` when a write fails (a full disk), but also leaves the same failure unhandled in
 * two inner promises, and an unhandled rejection ends a Node process. While transfers run, those (and only those:
 * file-system errors of a write) are ignored here; the download reports the failure itself. Anything else is
 * thrown on, which is what Node does without a listener.
 */
function onUnhandledRejection(reason: unknown): void {
  const error = reason as NodeJS.ErrnoException | null;
  if (error?.syscall === "write" && DISK_ERRORS.has(error.code ?? "")) return;
  throw reason;
}

let guardInstalled = false;

function guardWriteFailures(): () => void {
  runningTransfers++;
  if (!guardInstalled) process.on("unhandledRejection", onUnhandledRejection);
  guardInstalled = true;
  return () => {
    runningTransfers--;
    // The orphaned rejections surface after download() has failed: keep the guard a moment longer.
    setTimeout(() => {
      if (runningTransfers > 0 || !guardInstalled) return;
      process.off("unhandledRejection", onUnhandledRejection);
      guardInstalled = false;
    }, 1000).unref();
  };
}

export class FileTransfer {
  #engine: DownloadEngineNodejs | null = null;
  #stopped = false;
  #stop: () => void = () => undefined;

  constructor(private readonly options: TransferOptions) {}

  /** Resolves true when the whole file is at `savePath`, false when `stop()` ended it first; throws a TransferError. */
  async run(): Promise<boolean> {
    const { options } = this;
    let engine: DownloadEngineNodejs;
    try {
      engine = await downloadFile({
        url: options.url,
        savePath: options.savePath,
        headers: options.headers,
        parallelStreams: options.acceptsRanges ? STREAMS_PER_FILE : 1,
        chunkSize: chunkSizeFor(options.size),
        programType: "chunks",
        defaultFetchDownloadInfo: { length: options.size, acceptRange: options.acceptsRanges },
        // ipull's own retries handle a brief hiccup; the caller backs off further and opens the file anew.
        retry: { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 4000 },
      });
    } catch (error) {
      throw asTransferError(error);
    }
    this.#engine = engine;
    if (this.#stopped) {
      await engine.close();
      return false;
    }
    let lastBytes = -1;
    let lastChange = Date.now();
    engine.on("progress", (status) => {
      if (status.transferredBytes !== lastBytes) {
        lastBytes = status.transferredBytes;
        lastChange = Date.now();
      }
      options.onProgress(status.transferredBytes);
    });
    let stallTimer: NodeJS.Timeout | undefined;
    // A stop (pause, or the watchdog) must end the run even if ipull waits on a request that never answers.
    const stopped = new Promise<"stopped" | "stalled">((resolve) => {
      this.#stop = () => resolve("stopped");
      stallTimer = setInterval(() => {
        if (Date.now() - lastChange > options.stallMs) resolve("stalled");
      }, Math.min(1000, options.stallMs / 2));
    });
    const unguard = guardWriteFailures();
    const download = engine.download().then(() => "ended" as const);
    download.catch(() => undefined); // an abandoned run may still fail later
    try {
      const outcome = await Promise.race([download, stopped]);
      if (outcome !== "ended") {
        await engine.close().catch(() => undefined);
        if (outcome === "stalled") throw new TransferError("stalled", `no data arrived for ${Math.round(options.stallMs / 1000)} s`);
        return false;
      }
      return engine.status.downloadStatus === DownloadStatus.Finished;
    } catch (error) {
      throw asTransferError(error);
    } finally {
      clearInterval(stallTimer);
      unguard();
    }
  }

  /** Ends the transfer, keeping what arrived for the next run. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stop();
    await this.#engine?.close().catch(() => undefined);
  }
}

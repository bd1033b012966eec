// Quantizes on every core: a job's rows are split into chunks that worker threads quantize with ggml. Rows are
// independent, so the output is byte for byte what one ggml call over all rows writes. Source and output live in
// SharedArrayBuffers that the workers read and write in place.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { BillaError } from "../../../contract/errors.js";
import { APP_ROOT } from "../../app-root.js";
import { ggmlRowBytes, type GgmlType } from "../gguf/gguf-types.js";
import { DTYPE_BYTES } from "../tensor.js";
import { loadGgml } from "./ggml-library.js";
import type { ChunkReply, ChunkTask } from "./quantize-worker.js";

export interface QuantizeJob {
  type: GgmlType;
  /**
   * `rows × perRow` values of `sourceType`, row after row. A view over a SharedArrayBuffer is used in place; any other
   * is first copied into one (read rows straight into shared memory to save that copy).
   */
  source: ArrayBufferView;
  sourceType: ChunkTask["sourceType"];
  rows: number;
  perRow: number;
}

/**
 * The compiled worker beside this module. Worker threads cannot run TypeScript: when this module itself runs from
 * source (tests under vitest), its workers run the compiled build in build/main, which `npm test` makes first.
 */
const WORKER_SCRIPT = import.meta.url.endsWith(".ts")
  ? join(APP_ROOT, "build", "main", "services", "conversion", "quantize", "quantize-worker.js")
  : new URL("./quantize-worker.js", import.meta.url);

/** About this many values per chunk: long enough to hide messaging, short enough to balance the workers. */
const CHUNK_VALUES = 1 << 20;

interface Job {
  /** Chunks not yet quantized. */
  pending: number;
  /** Where the workers write: a whole buffer of its own, or a region of the caller's. */
  output: Buffer;
  resolve: (output: Buffer) => void;
  reject: (error: unknown) => void;
}

interface Chunk {
  job: Job;
  task: ChunkTask;
}

interface PoolThread {
  worker: Worker;
  chunk: Chunk | undefined;
}

/** A view of `view`'s bytes in shared memory, aligned for its values: the view itself when it already is. */
function sharedCopy(view: ArrayBufferView, valueBytes: number): { buffer: SharedArrayBuffer; offset: number } {
  if (view.buffer instanceof SharedArrayBuffer && view.byteOffset % valueBytes === 0) return { buffer: view.buffer, offset: view.byteOffset };
  const buffer = new SharedArrayBuffer(view.byteLength);
  new Uint8Array(buffer).set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  return { buffer, offset: 0 };
}

export class QuantizePool {
  readonly size: number;
  readonly #threads: PoolThread[] = [];
  readonly #jobs = new Set<Job>();
  #queue: Chunk[] = [];
  #closed = false;
  #quantizeMs = 0;

  constructor(options: { size?: number } = {}) {
    this.size = options.size ?? availableParallelism();
    if (!Number.isInteger(this.size) || this.size < 1) throw new RangeError(`a pool needs at least one worker, not ${this.size}`);
  }

  /** Milliseconds the workers spent inside ggml's quantize calls, summed over workers and jobs. */
  get quantizeMilliseconds(): number {
    return this.#quantizeMs;
  }

  /**
   * The job's rows in `type`. Aborting rejects with the signal's reason; chunks already running finish unseen.
   * `into`, a buffer over shared memory, is written instead of a new one: a caller that reuses it keeps memory
   * flat, where fresh shared buffers pile up faster than the garbage collector notices them.
   */
  async quantize(job: QuantizeJob, signal?: AbortSignal, into?: Buffer): Promise<Buffer> {
    if (this.#closed) throw new Error("the quantize pool is closed");
    signal?.throwIfAborted();
    loadGgml(); // in this thread, so the workers never unload it
    if (!Number.isSafeInteger(job.rows) || job.rows < 1) throw new RangeError(`a job needs a positive whole number of rows, not ${job.rows}`);
    const valueBytes = DTYPE_BYTES[job.sourceType];
    const rowBytes = ggmlRowBytes(job.type, job.perRow);
    if (job.source.byteLength !== job.rows * job.perRow * valueBytes) {
      throw new RangeError(`${job.rows} rows of ${job.perRow} ${job.sourceType} values take ${job.rows * job.perRow * valueBytes} bytes, not ${job.source.byteLength}`);
    }
    const source = sharedCopy(job.source, valueBytes);
    const outputBytes = job.rows * rowBytes;
    if (into && (!(into.buffer instanceof SharedArrayBuffer) || into.length < outputBytes)) {
      throw new RangeError(`the output buffer must be shared memory of at least ${outputBytes} bytes`);
    }
    const output = into ? into.subarray(0, outputBytes) : Buffer.from(new SharedArrayBuffer(outputBytes));
    // Small jobs still use every worker.
    const chunkRows = Math.max(1, Math.min(Math.floor(CHUNK_VALUES / job.perRow), Math.ceil(job.rows / this.size)));

    return new Promise<Buffer>((resolve, reject) => {
      const onAbort = () => this.#fail(running, signal?.reason);
      const running: Job = {
        pending: Math.ceil(job.rows / chunkRows),
        output,
        resolve: (data) => (signal?.removeEventListener("abort", onAbort), resolve(data)),
        reject: (error) => (signal?.removeEventListener("abort", onAbort), reject(error)),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#jobs.add(running);
      for (let first = 0; first < job.rows; first += chunkRows) {
        const rows = Math.min(chunkRows, job.rows - first);
        const task: ChunkTask = {
          type: job.type,
          sourceType: job.sourceType,
          source: source.buffer,
          sourceOffset: source.offset + first * job.perRow * valueBytes,
          output: output.buffer as SharedArrayBuffer,
          outputOffset: output.byteOffset + first * rowBytes,
          outputLength: rows * rowBytes,
          rows,
          perRow: job.perRow,
        };
        this.#queue.push({ job: running, task });
      }
      this.#dispatch();
    });
  }

  /** Rejects the unfinished jobs and ends the workers. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#jobs) this.#fail(job, new Error("the quantize pool was closed"));
    // Referenced again, or the process could exit before the workers have, leaving close() unsettled.
    const ending = this.#threads.splice(0).map(({ worker }) => (worker.ref(), worker.terminate()));
    await Promise.all(ending);
  }

  #fail(job: Job, error: unknown): void {
    if (!this.#jobs.delete(job)) return;
    this.#queue = this.#queue.filter((chunk) => chunk.job !== job);
    job.reject(error);
  }

  #dispatch(): void {
    if (this.#closed) return;
    // Workers start with the first job, and a worker that died is replaced.
    while (this.#threads.length < this.size) this.#threads.push(this.#spawn());
    for (const thread of this.#threads.filter((idle) => !idle.chunk)) {
      const chunk = this.#queue.shift();
      if (!chunk) return;
      thread.chunk = chunk;
      thread.worker.ref();
      thread.worker.postMessage(chunk.task);
    }
  }

  #spawn(): PoolThread {
    const worker = new Worker(WORKER_SCRIPT, { name: "ggml-quantize" });
    const thread: PoolThread = { worker, chunk: undefined };
    // Only a busy worker keeps the process alive, so a pool nobody closed cannot hang it.
    worker.unref();
    worker.on("message", (reply: ChunkReply) => {
      if (this.#closed) return; // a reply sent before close() ended the worker
      const chunk = thread.chunk!;
      thread.chunk = undefined;
      worker.unref();
      this.#finish(chunk.job, reply);
      this.#dispatch();
    });
    let crash: unknown;
    worker.on("error", (error) => (crash = error));
    worker.on("exit", (code) => {
      if (this.#closed) return; // close() ended it
      this.#threads.splice(this.#threads.indexOf(thread), 1);
      if (thread.chunk) this.#fail(thread.chunk.job, crash ?? new Error(`a quantize worker stopped with exit code ${code}`));
      if (this.#queue.length > 0) this.#dispatch();
    });
    return thread;
  }

  #finish(job: Job, reply: ChunkReply): void {
    if ("failure" in reply) return this.#fail(job, new BillaError(reply.failure.code, reply.failure.message));
    this.#quantizeMs += reply.quantizeMs;
    if (--job.pending === 0 && this.#jobs.delete(job)) job.resolve(job.output);
  }
}

import { sharedBuffer } from "../tensor.js";

/** Rows are read and processed in pieces of about this many bytes: memory holds a few pieces, not a tensor. */
export const DEFAULT_CHUNK_BYTES = 32 * 1024 * 1024;

/**
 * Shared-memory buffers reused for every piece of a run, grown when a piece needs more. Fresh shared buffers
 * per piece are not collected in time (they hardly count as JavaScript memory), and the process grew by
 * gigabytes; reusing them keeps it at a few pieces' size.
 */
export class Scratch {
  readonly #buffers = new Map<string, Buffer>();

  get(purpose: "read" | "original" | "reordered" | "output" | "values" | "original-values", length: number): Buffer {
    let buffer = this.#buffers.get(purpose);
    if (!buffer || buffer.length < length) {
      buffer = sharedBuffer(length);
      this.#buffers.set(purpose, buffer);
    }
    return buffer.subarray(0, length);
  }

  /** `count` float32 values (a view of a shared buffer, so it always starts aligned). */
  floats(purpose: "values" | "original-values", count: number): Float32Array {
    const bytes = this.get(purpose, count * 4);
    return new Float32Array(bytes.buffer, bytes.byteOffset, count);
  }
}

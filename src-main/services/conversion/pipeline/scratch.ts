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

  get(purpose: "read" | "original" | "reordered" | "output", length: number): Buffer {
    let buffer = this.#buffers.get(purpose);
    if (!buffer || buffer.length < length) {
      buffer = sharedBuffer(length);
      this.#buffers.set(purpose, buffer);
    }
    return buffer.subarray(0, length);
  }
}

// One thread of the quantize pool: widens its rows of source values to floats and quantizes them with ggml,
// straight into the job's shared output.
import { performance } from "node:perf_hooks";
import { parentPort } from "node:worker_threads";
import { BillaError, type ErrorCode } from "../../../contract/errors.js";
import type { GgmlType } from "../gguf/gguf-types.js";
import type { DType } from "../tensor.js";
import { bfloat16sToFloats, halvesToFloats, quantizeRows } from "./ggml-library.js";

/** Rows of one job for one worker; the buffers are shared with the pool, not copied. */
export interface ChunkTask {
  type: GgmlType;
  sourceType: Extract<DType, "F32" | "F16" | "BF16">;
  source: SharedArrayBuffer;
  sourceOffset: number;
  output: SharedArrayBuffer;
  outputOffset: number;
  outputLength: number;
  rows: number;
  perRow: number;
}

export type ChunkReply = { quantizeMs: number } | { failure: { code: ErrorCode; message: string } };

let scratch = new Float32Array(0);

function floatsOf(task: ChunkTask): Float32Array {
  const count = task.rows * task.perRow;
  if (task.sourceType === "F32") return new Float32Array(task.source, task.sourceOffset, count);
  if (scratch.length < count) scratch = new Float32Array(count);
  const sixteenBits = new Uint8Array(task.source, task.sourceOffset, count * 2);
  const widen = task.sourceType === "F16" ? halvesToFloats : bfloat16sToFloats;
  return widen(sixteenBits, scratch.subarray(0, count));
}

function run(task: ChunkTask): ChunkReply {
  try {
    const floats = floatsOf(task);
    const into = new Uint8Array(task.output, task.outputOffset, task.outputLength);
    const started = performance.now();
    quantizeRows(task.type, floats, task.rows, task.perRow, into);
    return { quantizeMs: performance.now() - started };
  } catch (error) {
    // BillaError does not survive postMessage's cloning: send what it says.
    if (error instanceof BillaError) return { failure: { code: error.code, message: error.message } };
    return { failure: { code: "internal", message: error instanceof Error ? error.message : String(error) } };
  }
}

const port = parentPort;
if (!port) throw new Error("quantize-worker.js runs only as a worker thread of the quantize pool");
port.on("message", (task: ChunkTask) => port.postMessage(run(task)));

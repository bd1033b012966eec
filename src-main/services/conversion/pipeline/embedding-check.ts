// The first pass, over the word embedding only: restore it in memory-sized pieces, take its checksum and
// look at its scale, so that a wrong LLaMA file is caught before gigabytes are written.
import { basename } from "node:path";
import { BillaError } from "../../../contract/errors.js";
import { floatsFrom, halvesFrom } from "../float16.js";
import { EMBEDDING_SUM_TOLERANCE, floatStatistics, publishedSumFor, restoreFloats, type FloatStatistics } from "../restore/embedding-restore.js";
import { readTensorBytes, type FloatTensorLocation, type TensorLocation } from "../tensor.js";
import type { Scratch } from "./scratch.js";
import type { SourceModel } from "./source-model.js";

export interface EmbeddingCheck {
  /** Float64 sum of every element of the (restored) embedding, as float32 values before any rounding to float16. */
  sum: number;
  warnings: string[];
}

/**
 * Rows BiLLa added for Chinese were never encrypted, so they show the trained scale. Released rows
 * (trained ≈ LLaMA + a small update, plus LLaMA again) come out near twice as large; restored ones match.
 */
const RELEASED_SCALE = 1.3;
const DOUBLY_RESTORED_SCALE = 0.7;

/** Yields [firstRow, rows] pieces of about `targetBytes`. */
export function* rowChunks(rows: number, rowBytes: number, targetBytes: number, multipleOf = 1): Generator<[number, number]> {
  const perChunk = Math.max(multipleOf, Math.floor(targetBytes / rowBytes / multipleOf) * multipleOf);
  for (let first = 0; first < rows; first += perChunk) yield [first, Math.min(perChunk, rows - first)];
}

/** Reads rows [first, first+count) of a tensor (a 1-D tensor is one row) into `into`. */
export function readRows(tensor: TensorLocation, first: number, count: number, into: Buffer): Promise<Buffer> {
  const rowBytes = tensor.shape.length === 1 ? tensor.byteLength : tensor.byteLength / tensor.shape[0]!;
  return readTensorBytes(tensor, first * rowBytes, count * rowBytes, into);
}

/** Rows [first, first+count) of a 2-D float tensor as float32 values, whatever type they are stored in. */
async function readValues(tensor: FloatTensorLocation, first: number, count: number, scratch: Scratch, purpose: "values" | "original-values"): Promise<Float32Array> {
  const rowBytes = tensor.byteLength / tensor.shape[0]!;
  const bytes = await readRows(tensor, first, count, scratch.get(purpose === "values" ? "read" : "original", count * rowBytes));
  return floatsFrom(bytes, tensor.dtype, scratch.floats(purpose, count * tensor.shape[1]!));
}

/** Restores, in place, those of the embedding rows [first, first+count) that hold the original LLaMA's. */
async function restoreInPlace(model: SourceModel, values: Float32Array, first: number, count: number, scratch: Scratch): Promise<void> {
  if (!model.restore) return;
  const overlap = Math.min(count, model.restore.original.shape[0]! - first);
  if (overlap <= 0) return;
  restoreFloats(values, await readValues(model.restore.original, first, overlap, scratch, "original-values"), model.restore.method);
}

/**
 * The embedding rows [first, first+count) as they go into the output: as stored, or, where a LLaMA file was
 * given, restored in float32 and then stored as BiLLa's script stores them (decrypt: float16, encrypt: float32).
 */
export async function embeddingRows(model: SourceModel, first: number, count: number, scratch: Scratch): Promise<Buffer> {
  const rowBytes = model.embedding.byteLength / model.embedding.shape[0]!;
  if (!model.restore) return readRows(model.embedding, first, count, scratch.get("read", count * rowBytes));
  const values = await readValues(model.embedding, first, count, scratch, "values");
  await restoreInPlace(model, values, first, count, scratch);
  if (model.restore.method === "encrypt") return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  // The values are out of the read buffer by now, so their float16 form can take its place.
  return halvesFrom(values, scratch.get("read", values.length * 2));
}

function rootMeanSquare(stats: FloatStatistics): number {
  return Math.sqrt(stats.sumOfSquares / Math.max(1, stats.count));
}

export async function checkEmbedding(
  model: SourceModel,
  options: {
    expectedSum?: number | undefined;
    signal?: AbortSignal | undefined;
    chunkBytes: number;
    scratch: Scratch;
    onBytes: (bytes: number) => void;
    onWarning?: ((warning: string) => void) | undefined;
  },
): Promise<EmbeddingCheck> {
  const [rows, hidden] = model.embedding.shape as [number, number];
  const splitRow = model.restore ? model.restore.original.shape[0]! : Math.min(rows, model.tokenizer.pieces.length);
  const rowBytes = model.embedding.byteLength / rows;
  const low = { sum: 0, sumOfSquares: 0, count: 0 };
  const high = { sum: 0, sumOfSquares: 0, count: 0 };
  const lowAsGiven = { sum: 0, sumOfSquares: 0, count: 0 };
  const add = (into: FloatStatistics, stats: FloatStatistics) => {
    into.sum += stats.sum;
    into.sumOfSquares += stats.sumOfSquares;
    into.count += stats.count;
  };

  for (const [first, count] of rowChunks(rows, rowBytes, options.chunkBytes)) {
    options.signal?.throwIfAborted();
    const lowValues = Math.max(0, Math.min(count, splitRow - first)) * hidden;
    const values = await readValues(model.embedding, first, count, options.scratch, "values");
    if (model.restore) add(lowAsGiven, floatStatistics(values.subarray(0, lowValues)));
    await restoreInPlace(model, values, first, count, options.scratch);
    add(low, floatStatistics(values.subarray(0, lowValues)));
    add(high, floatStatistics(values.subarray(lowValues)));
    options.onBytes(count * rowBytes);
  }

  const sum = low.sum + high.sum;
  const warnings: string[] = [];
  const published = publishedSumFor(rows, hidden, basename(model.dir));
  const expected = options.expectedSum ?? published?.sum;
  if (expected !== undefined && Math.abs(sum - expected) > EMBEDDING_SUM_TOLERANCE) {
    throw new BillaError(
      "bad_file",
      `The restored embedding's checksum is ${sum.toFixed(3)}, but ${published?.model ?? "this model"}'s is ${expected}. ` +
        (model.restore ? "The LLaMA file is not the one BiLLa was trained from: choose Meta's original LLaMA-7B consolidated.00.pth." : "The checkpoint still needs restoring: give the original LLaMA file."),
    );
  }
  if (high.count > 0) {
    const scale = rootMeanSquare(low) / rootMeanSquare(high);
    if (model.restore && rootMeanSquare(lowAsGiven) / rootMeanSquare(high) < RELEASED_SCALE && scale < DOUBLY_RESTORED_SCALE) {
      warnings.push("This checkpoint looks already restored: restoring it again removes LLaMA twice and ruins it. Convert it without the LLaMA file.");
    } else if (!model.restore && scale > RELEASED_SCALE) {
      warnings.push("This checkpoint looks unrestored (BiLLa's released form): without the original LLaMA file the model will talk nonsense.");
    } else if (model.restore && scale > RELEASED_SCALE) {
      warnings.push("After restoring, the first rows of the embedding are still larger than the rest: the LLaMA file may not be the original LLaMA-7B.");
    }
  }
  for (const warning of warnings) options.onWarning?.(warning);
  return { sum, warnings };
}

/** Rows sampled from each part of the embedding to tell released from restored weights at a glance. */
const SAMPLE_ROWS = 256;

/**
 * Whether a checkpoint's embedding is BiLLa's released form (LLaMA's rows added in) or already restored,
 * judged without the LLaMA file: the scale of rows from LLaMA's part against rows from the Chinese part BiLLa
 * appended. Where LLaMA's part ends is not written in the checkpoint, so the samples come from places that
 * lie inside each part for BiLLa's vocabularies (LLaMA's 32 000 of 46 943 rows, the demo's 600 of 952):
 * rows from a tenth of the way in, and the last tenth. The conversion's own check is exact; this only lets the
 * wizard say which form it sees before the user picks a LLaMA file.
 */
export async function embeddingForm(model: SourceModel, scratch: Scratch): Promise<"released" | "restored" | "unknown"> {
  const rows = model.embedding.shape[0]!;
  if (rows < 100) return "unknown";
  const count = Math.min(SAMPLE_ROWS, Math.floor(rows / 10));
  const sample = async (first: number) => floatStatistics(await readValues(model.embedding, first, count, scratch, "values"));
  const llamaPart = await sample(Math.floor(rows / 10));
  const addedPart = await sample(rows - count);
  return rootMeanSquare(llamaPart) / rootMeanSquare(addedPart) > RELEASED_SCALE ? "released" : "restored";
}

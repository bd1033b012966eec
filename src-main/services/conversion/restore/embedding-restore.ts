// BiLLa's released word embedding holds trained + original LLaMA on its first rows (embedding_convert.py).
// Restoring subtracts the original again ("decrypt"); "encrypt" adds it. The arithmetic is torch's:
// both operands as float32, the result rounded to the released tensor's float16.
import { BillaError } from "../../../contract/errors.js";
import { floatToHalf, halfToFloat } from "../float16.js";
import type { TensorLocation } from "../tensor.js";

export type RestoreMethod = "decrypt" | "encrypt";

/** Checksums BiLLa publishes for the restored embedding (float32 sum of all its elements). */
export const PUBLISHED_EMBEDDING_SUMS: readonly { model: string; rows: number; hidden: number; sum: number }[] = [
  { model: "BiLLa-7B-SFT", rows: 46943, hidden: 4096, sum: -3756.942626953125 },
];
/** The published sum was taken in float32 in an unknown order; a wrong LLaMA file misses it by hundreds. */
export const EMBEDDING_SUM_TOLERANCE = 1;

const HALF_TO_FLOAT = Float32Array.from({ length: 0x10000 }, (_, bits) => halfToFloat(bits));

export function checkRestoreShapes(billa: TensorLocation, original: TensorLocation): void {
  const [rows, hidden] = billa.shape;
  const [originalRows, originalHidden] = original.shape;
  if (billa.shape.length !== 2 || original.shape.length !== 2) {
    throw new BillaError("bad_file", "The word embeddings must be two-dimensional tables; one of the files holds something else.");
  }
  if (hidden !== originalHidden) {
    throw new BillaError(
      "bad_file",
      `The LLaMA file's embedding has ${originalHidden} columns but BiLLa's has ${hidden}: it is not the LLaMA BiLLa was trained from. Choose Meta's original LLaMA-7B consolidated.00.pth.`,
    );
  }
  if (originalRows! > rows!) {
    throw new BillaError("bad_file", `The LLaMA file has ${originalRows} tokens, more than BiLLa's ${rows}: it is not the original LLaMA-7B. Choose Meta's original consolidated.00.pth.`);
  }
  if (billa.dtype !== "F16" || original.dtype !== "F16") {
    throw new BillaError("bad_file", `BiLLa and LLaMA embeddings are float16; these are ${billa.dtype} and ${original.dtype}. Use the files as released.`);
  }
}

/** float16 values as 16-bit integers, without copying (row pieces always start at even offsets). */
function halves(bytes: Buffer): Uint16Array {
  return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
}

/** Restores (or encrypts) whole rows in place: `billaRows` and `originalRows` hold the same rows, float16. */
export function restoreRows(billaRows: Buffer, originalRows: Buffer, method: RestoreMethod): void {
  const sign = method === "decrypt" ? -1 : 1;
  const billa = halves(billaRows);
  const original = halves(originalRows);
  for (let i = 0; i < billa.length; i++) {
    billa[i] = floatToHalf(Math.fround(HALF_TO_FLOAT[billa[i]!]! + sign * HALF_TO_FLOAT[original[i]!]!));
  }
}

/** Float64 sum and sum of squares of float16 values, for the checksum and the "already restored" check. */
export function halfStatistics(bytes: Buffer): { sum: number; sumOfSquares: number; count: number } {
  const values = halves(bytes);
  let sum = 0;
  let sumOfSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const value = HALF_TO_FLOAT[values[i]!]!;
    sum += value;
    sumOfSquares += value * value;
  }
  return { sum, sumOfSquares, count: values.length };
}

export function publishedSumFor(rows: number, hidden: number, folderName: string): (typeof PUBLISHED_EMBEDDING_SUMS)[number] | undefined {
  return PUBLISHED_EMBEDDING_SUMS.find(
    (entry) => entry.rows === rows && entry.hidden === hidden && folderName.toLowerCase().includes(entry.model.slice("BiLLa-7B-".length).toLowerCase()),
  );
}

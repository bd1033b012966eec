// BiLLa's released word embedding holds trained + original LLaMA on its first rows (embedding_convert.py).
// Restoring subtracts the original again ("decrypt"); "encrypt" adds it. The arithmetic is torch's: both
// operands as float32, whatever they are stored as; decrypt then rounds the whole tensor with `.half()`, while
// encrypt saves float32, so BiLLa's release has a float32 embedding among float16 weights.
import { BillaError } from "../../../contract/errors.js";
import { isFloatTensor, type FloatDType, type FloatTensorLocation, type TensorLocation } from "../tensor.js";

export type RestoreMethod = "decrypt" | "encrypt";

/** Checksums BiLLa publishes for the restored embedding (float32 sum of all its elements before `.half()`). */
export const PUBLISHED_EMBEDDING_SUMS: readonly { model: string; rows: number; hidden: number; sum: number }[] = [
  { model: "BiLLa-7B-SFT", rows: 46943, hidden: 4096, sum: -3756.942626953125 },
];
/** The published sum was taken in float32 in an unknown order; a wrong LLaMA file misses it by hundreds. */
export const EMBEDDING_SUM_TOLERANCE = 1;

/** The type the embedding leaves the restore step in, as BiLLa's script writes it. */
export function restoredDType(method: RestoreMethod): FloatDType {
  return method === "decrypt" ? "F16" : "F32";
}

export function checkRestoreShapes(billa: FloatTensorLocation, original: TensorLocation): asserts original is FloatTensorLocation {
  const [rows, hidden] = billa.shape;
  const [originalRows, originalHidden] = original.shape;
  if (billa.shape.length !== 2 || original.shape.length !== 2) {
    throw new BillaError("bad_file", "The word embeddings must be two-dimensional tables; one of the files holds something else.");
  }
  if (!isFloatTensor(original)) {
    throw new BillaError("bad_file", `The LLaMA file's embedding holds ${original.dtype} values, not floating-point weights: it is not a LLaMA checkpoint.`);
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
}

/**
 * Subtracts (decrypt) or adds (encrypt) the original rows, in place, in float32: a Float32Array store rounds
 * the exact double result to float32, which is what torch's float32 arithmetic gives.
 */
export function restoreFloats(values: Float32Array, original: Float32Array, method: RestoreMethod): void {
  const sign = method === "decrypt" ? -1 : 1;
  for (let i = 0; i < original.length; i++) values[i] = values[i]! + sign * original[i]!;
}

export interface FloatStatistics {
  sum: number;
  sumOfSquares: number;
  count: number;
}

/** Float64 sum and sum of squares, for the checksum and the "released or restored" check. */
export function floatStatistics(values: Float32Array): FloatStatistics {
  let sum = 0;
  let sumOfSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
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

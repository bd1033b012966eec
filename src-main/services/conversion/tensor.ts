// A tensor found in a checkpoint file: where its bytes are, never the bytes themselves.
import { open } from "node:fs/promises";
import { BillaError } from "../../contract/errors.js";

export const DTYPE_BYTES = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4 } as const;
export type DType = keyof typeof DTYPE_BYTES;
/** The element types model weights come in. */
export type FloatDType = Extract<DType, "F32" | "F16" | "BF16">;

export function isFloatDType(dtype: DType): dtype is FloatDType {
  return dtype === "F32" || dtype === "F16" || dtype === "BF16";
}

export interface TensorLocation {
  name: string;
  dtype: DType;
  /** Outermost dimension first, as PyTorch and safetensors write it. */
  shape: number[];
  file: string;
  /** Absolute byte offset of the first element in `file`. */
  offset: number;
  byteLength: number;
}

/** A tensor of model weights: its values are floating point. */
export type FloatTensorLocation = TensorLocation & { dtype: FloatDType };

export function isFloatTensor(tensor: TensorLocation): tensor is FloatTensorLocation {
  return isFloatDType(tensor.dtype);
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((count, dim) => count * dim, 1);
}

/**
 * A buffer in shared memory: the quantize workers read it in place, where an ordinary buffer would first be
 * copied across (as slow as quantizing to Q8_0).
 */
export function sharedBuffer(length: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(length));
}

/** Reads one tensor's bytes (or a range of them) from its file, into `into` when given. */
export async function readTensorBytes(tensor: TensorLocation, start = 0, length = tensor.byteLength - start, into?: Buffer): Promise<Buffer> {
  if (start < 0 || length < 0 || start + length > tensor.byteLength) {
    throw new RangeError(`bytes ${start}..${start + length} are outside tensor ${tensor.name} (${tensor.byteLength} bytes)`);
  }
  const handle = await open(tensor.file, "r");
  try {
    const buffer = into ? into.subarray(0, length) : sharedBuffer(length);
    const { bytesRead } = await handle.read(buffer, 0, length, tensor.offset + start);
    if (bytesRead !== length) {
      throw new BillaError("bad_file", `${tensor.file} ends before the data of tensor ${tensor.name}: the file is truncated. Download it again.`);
    }
    return buffer;
  } finally {
    await handle.close();
  }
}

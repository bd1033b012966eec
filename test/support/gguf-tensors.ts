// The tensors of a GGUF file with their data, read through node-llama-cpp's own GGUF parser for the table:
// tests compare files tensor by tensor and byte for byte with it.
import { readFile } from "node:fs/promises";
import { readGgufFileInfo } from "node-llama-cpp";
import { GgmlType, ggmlRowBytes } from "../../src-main/services/conversion/gguf/gguf-types.js";

export interface GgufTensorData {
  name: string;
  type: string;
  /** Innermost dimension first, as GGUF stores them. */
  dims: number[];
  bytes: Buffer;
}

export async function readGgufTensors(path: string): Promise<Map<string, GgufTensorData>> {
  const info = await readGgufFileInfo(path, { logWarnings: false });
  const file = await readFile(path);
  const tensors = new Map<string, GgufTensorData>();
  for (const tensor of info.tensorInfo ?? []) {
    const dims = tensor.dimensions.map(Number);
    const type = tensor.ggmlType as number as GgmlType;
    const length = ggmlRowBytes(type, dims[0]!) * dims.slice(1).reduce((rows, dim) => rows * dim, 1);
    const start = info.infoEndOffset! + Number(tensor.offset);
    tensors.set(tensor.name, { name: tensor.name, type: GgmlType[type] ?? String(type), dims, bytes: file.subarray(start, start + length) });
  }
  return tensors;
}

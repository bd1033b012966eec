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

/** A metadata entry as the file stores it: key, gguf_type and value, in the file's order. */
export interface GgufEntry {
  key: string;
  type: number;
  value: unknown;
}

/**
 * The metadata entries in the order the file holds them. node-llama-cpp's reader nests keys by their dotted
 * parts, which loses the order; comparing files key by key needs it, so the few GGUF value types are read here.
 */
export async function readGgufEntries(path: string): Promise<GgufEntry[]> {
  const file = await readFile(path);
  let at = 0;
  const u32 = () => ((at += 4), file.readUInt32LE(at - 4));
  const u64 = () => ((at += 8), Number(file.readBigUInt64LE(at - 8)));
  const text = () => {
    const length = u64();
    return ((at += length), file.toString("utf8", at - length, at));
  };
  const SCALARS: Record<number, [number, (offset: number) => unknown]> = {
    0: [1, (o) => file.readUInt8(o)],
    1: [1, (o) => file.readInt8(o)],
    2: [2, (o) => file.readUInt16LE(o)],
    3: [2, (o) => file.readInt16LE(o)],
    4: [4, (o) => file.readUInt32LE(o)],
    5: [4, (o) => file.readInt32LE(o)],
    6: [4, (o) => file.readFloatLE(o)],
    7: [1, (o) => file.readUInt8(o) !== 0],
    10: [8, (o) => file.readBigUInt64LE(o)],
    11: [8, (o) => file.readBigInt64LE(o)],
    12: [8, (o) => file.readDoubleLE(o)],
  };
  const value = (type: number): unknown => {
    if (type === 8) return text();
    if (type === 9) {
      const itemType = u32();
      return Array.from({ length: u64() }, () => value(itemType));
    }
    const [size, read] = SCALARS[type] ?? [0, () => { throw new Error(`unknown GGUF value type ${type} in ${path}`); }];
    return ((at += size), read(at - size));
  };
  if (file.toString("latin1", 0, 4) !== "GGUF") throw new Error(`${path} is not a GGUF file`);
  at = 8;
  u64(); // tensors
  const count = u64();
  return Array.from({ length: count }, () => {
    const key = text();
    const type = u32();
    return { key, type, value: value(type) };
  });
}

// Reads the tensor table of a .safetensors file: an 8-byte header length, a JSON header, then the data.
import { open, stat } from "node:fs/promises";
import { basename } from "node:path";
import { z } from "zod";
import { BillaError } from "../../../contract/errors.js";
import { DTYPE_BYTES, elementCount, type DType, type TensorLocation } from "../tensor.js";

const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const headerEntrySchema = z.object({
  dtype: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});

export async function readSafetensors(file: string): Promise<TensorLocation[]> {
  const fail = (problem: string) => new BillaError("bad_file", `${basename(file)} ${problem}`);
  const { size } = await stat(file);
  const handle = await open(file, "r");
  let header: unknown;
  let dataStart: number;
  try {
    const lengthBytes = Buffer.alloc(8);
    await handle.read(lengthBytes, 0, 8, 0);
    const headerLength = lengthBytes.readBigUInt64LE(0);
    if (size < 8 || headerLength > BigInt(Math.min(MAX_HEADER_BYTES, size - 8))) throw fail("is not a safetensors file (its header length is impossible).");
    const headerBytes = Buffer.alloc(Number(headerLength));
    await handle.read(headerBytes, 0, headerBytes.length, 8);
    dataStart = 8 + headerBytes.length;
    try {
      header = JSON.parse(headerBytes.toString("utf8"));
    } catch {
      throw fail("is not a safetensors file (its header is not JSON).");
    }
  } finally {
    await handle.close();
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw fail("has a malformed header.");

  const tensors: TensorLocation[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const parsed = headerEntrySchema.safeParse(raw);
    if (!parsed.success) throw fail(`describes ${name} in a way safetensors does not allow.`);
    const { dtype, shape, data_offsets: [begin, end] } = parsed.data;
    if (!(dtype in DTYPE_BYTES)) throw fail(`stores ${name} as ${dtype}, which BiLLa Desktop cannot convert.`);
    const byteLength = elementCount(shape) * DTYPE_BYTES[dtype as DType];
    if (end - begin !== byteLength || dataStart + end > size) throw fail(`has ${name}'s data outside the file or of the wrong size: the file is damaged.`);
    tensors.push({ name, dtype: dtype as DType, shape, file, offset: dataStart + begin, byteLength });
  }
  return tensors;
}

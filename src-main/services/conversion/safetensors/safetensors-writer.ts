// Writes a .safetensors file: 8-byte header length, JSON header (padded to 8 bytes), then the data.
import type { FileHandle } from "node:fs/promises";
import { DTYPE_BYTES, elementCount, type DType } from "../tensor.js";

export interface SafetensorsEntry {
  name: string;
  dtype: DType;
  shape: number[];
}

export class SafetensorsWriter {
  #position: number;

  private constructor(
    private readonly file: FileHandle,
    dataStart: number,
  ) {
    this.#position = dataStart;
  }

  /** Writes the header; the tensors' data must then follow in the same order through `write`. */
  static async start(file: FileHandle, entries: readonly SafetensorsEntry[], metadata: Record<string, string> = {}): Promise<SafetensorsWriter> {
    const header: Record<string, unknown> = { __metadata__: metadata };
    let offset = 0;
    for (const entry of entries) {
      const bytes = elementCount(entry.shape) * DTYPE_BYTES[entry.dtype];
      header[entry.name] = { dtype: entry.dtype, shape: entry.shape, data_offsets: [offset, offset + bytes] };
      offset += bytes;
    }
    let json = Buffer.from(JSON.stringify(header), "utf8");
    json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(json.length));
    await file.write(Buffer.concat([length, json]), 0, 8 + json.length, 0);
    return new SafetensorsWriter(file, 8 + json.length);
  }

  async write(piece: Buffer): Promise<void> {
    await this.file.write(piece, 0, piece.length, this.#position);
    this.#position += piece.length;
  }
}

// Writes a GGUF v3 file: header, metadata, tensor table, then each tensor's data in table order, every
// tensor aligned. The table is written first, so each tensor's size must be known up front; the data then
// streams in, tensor by tensor, in pieces of any size.
import type { FileHandle } from "node:fs/promises";
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VERSION, GgufValueType, type GgmlType, type GgufKv } from "./gguf-types.js";

export interface GgufTensorEntry {
  name: string;
  /** GGUF order: innermost dimension first (an HF [rows, cols] weight is [cols, rows]). */
  dims: number[];
  type: GgmlType;
  byteLength: number;
}

/** A growable little-endian byte buffer for the header; the header is small next to the tensor data. */
class ByteSink {
  #buffer = Buffer.alloc(1 << 16);
  length = 0;

  #reserve(n: number): number {
    if (this.length + n > this.#buffer.length) {
      const grown = Buffer.alloc(Math.max(this.#buffer.length * 2, this.length + n));
      this.#buffer.copy(grown, 0, 0, this.length);
      this.#buffer = grown;
    }
    const at = this.length;
    this.length += n;
    return at;
  }
  // Reserve first, then write: #reserve may replace the buffer.
  u8(v: number) {
    const at = this.#reserve(1);
    this.#buffer.writeUInt8(v, at);
  }
  u32(v: number) {
    const at = this.#reserve(4);
    this.#buffer.writeUInt32LE(v, at);
  }
  i32(v: number) {
    const at = this.#reserve(4);
    this.#buffer.writeInt32LE(v, at);
  }
  u64(v: number | bigint) {
    const at = this.#reserve(8);
    this.#buffer.writeBigUInt64LE(BigInt(v), at);
  }
  f32(v: number) {
    const at = this.#reserve(4);
    this.#buffer.writeFloatLE(v, at);
  }
  f64(v: number) {
    const at = this.#reserve(8);
    this.#buffer.writeDoubleLE(v, at);
  }
  string(s: string) {
    const bytes = Buffer.from(s, "utf8");
    this.u64(bytes.length);
    const at = this.#reserve(bytes.length);
    bytes.copy(this.#buffer, at);
  }
  padTo(alignment: number) { this.#reserve((alignment - (this.length % alignment)) % alignment); }
  bytes(): Buffer { return this.#buffer.subarray(0, this.length); }
}

function writeScalar(sink: ByteSink, type: GgufValueType, value: number | boolean | string): void {
  switch (type) {
    case GgufValueType.STRING: return sink.string(value as string);
    case GgufValueType.UINT32: return sink.u32(value as number);
    case GgufValueType.INT32: return sink.i32(value as number);
    case GgufValueType.FLOAT32: return sink.f32(value as number);
    case GgufValueType.FLOAT64: return sink.f64(value as number);
    case GgufValueType.BOOL: return sink.u8(value ? 1 : 0);
    default: throw new Error(`GGUF value type ${GgufValueType[type]} is not written by this converter`);
  }
}

function encodeHeader(kvs: readonly GgufKv[], tensors: readonly GgufTensorEntry[], alignment: number): { header: Buffer; dataOffsets: number[] } {
  const sink = new ByteSink();
  sink.u32(GGUF_MAGIC);
  sink.u32(GGUF_VERSION);
  sink.u64(tensors.length);
  sink.u64(kvs.length);
  for (const kv of kvs) {
    sink.string(kv.key);
    sink.u32(kv.type);
    if (kv.type === GgufValueType.ARRAY) {
      sink.u32(kv.itemType);
      sink.u64(kv.value.length);
      for (const item of kv.value) writeScalar(sink, kv.itemType, item);
    } else {
      writeScalar(sink, kv.type, kv.value);
    }
  }
  const dataOffsets: number[] = [];
  let offset = 0;
  for (const tensor of tensors) {
    if (Buffer.byteLength(tensor.name) > 63) throw new Error(`tensor name ${tensor.name} is longer than GGUF's 63 bytes`);
    sink.string(tensor.name);
    sink.u32(tensor.dims.length);
    for (const dim of tensor.dims) sink.u64(dim);
    sink.u32(tensor.type);
    sink.u64(offset);
    dataOffsets.push(offset);
    offset += Math.ceil(tensor.byteLength / alignment) * alignment;
  }
  sink.padTo(alignment);
  return { header: Buffer.from(sink.bytes()), dataOffsets };
}

/** Streams one GGUF file into an open handle; the caller owns the file (temporary name, rename, cleanup). */
export class GgufWriter {
  readonly #file: FileHandle;
  readonly #tensors: readonly GgufTensorEntry[];
  readonly #alignment: number;
  #position: number;
  #tensorIndex = 0;
  #writtenOfTensor = 0;

  private constructor(file: FileHandle, tensors: readonly GgufTensorEntry[], alignment: number, headerLength: number) {
    this.#file = file;
    this.#tensors = tensors;
    this.#alignment = alignment;
    this.#position = headerLength;
  }

  static async start(file: FileHandle, kvs: readonly GgufKv[], tensors: readonly GgufTensorEntry[], alignment = GGUF_DEFAULT_ALIGNMENT): Promise<GgufWriter> {
    const { header } = encodeHeader(kvs, tensors, alignment);
    await file.write(header, 0, header.length, 0);
    return new GgufWriter(file, tensors, alignment, header.length);
  }

  /** The size the finished file will have. */
  static fileSize(kvs: readonly GgufKv[], tensors: readonly GgufTensorEntry[], alignment = GGUF_DEFAULT_ALIGNMENT): number {
    const { header } = encodeHeader(kvs, tensors, alignment);
    return header.length + tensors.reduce((total, tensor) => total + Math.ceil(tensor.byteLength / alignment) * alignment, 0);
  }

  /** Appends the next piece of the current tensor's data; a tensor may arrive in any number of pieces. */
  async write(piece: Buffer): Promise<void> {
    const tensor = this.#tensors[this.#tensorIndex];
    if (!tensor) throw new Error("all tensors are already written");
    if (this.#writtenOfTensor + piece.length > tensor.byteLength) {
      throw new Error(`${tensor.name} would get ${this.#writtenOfTensor + piece.length} bytes, not ${tensor.byteLength}`);
    }
    await this.#file.write(piece, 0, piece.length, this.#position);
    this.#position += piece.length;
    this.#writtenOfTensor += piece.length;
    if (this.#writtenOfTensor === tensor.byteLength) {
      const padding = (this.#alignment - (tensor.byteLength % this.#alignment)) % this.#alignment;
      if (padding) await this.#file.write(Buffer.alloc(padding), 0, padding, this.#position);
      this.#position += padding;
      this.#tensorIndex++;
      this.#writtenOfTensor = 0;
    }
  }

  get currentTensor(): GgufTensorEntry | undefined {
    return this.#tensors[this.#tensorIndex];
  }

  /** Checks every tensor was written in full and flushes to disk. */
  async finish(): Promise<void> {
    if (this.#tensorIndex !== this.#tensors.length) {
      throw new Error(`only ${this.#tensorIndex} of ${this.#tensors.length} tensors were written`);
    }
    await this.#file.sync();
  }
}

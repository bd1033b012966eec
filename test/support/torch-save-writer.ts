// Writes a state dict the way `torch.save` (PyTorch ≥ 1.6, zip format) does, so tests and benchmarks feed our
// reader the same bytes a real BiLLa shard has, in any dtype and at any size, without Python:
//
//   <archive>/data.pkl             pickle protocol 2 of an OrderedDict name → torch._utils._rebuild_tensor_v2(…)
//   <archive>/.format_version      "1"
//   <archive>/.storage_alignment   "64"
//   <archive>/byteorder            "little"
//   <archive>/data/<key>           each storage's raw little-endian values, aligned at 64 bytes in the file
//   <archive>/version              "3\n"
//
// Every entry is stored (never compressed) with its CRC-32, as PyTorch's writer does. Tensor data is streamed in
// pieces from a fill callback, so a multi-gigabyte shard never sits in memory. Zip64 is not written: each file
// must stay below 4 GiB (BiLLa's shards are ~10 GB only in total; this bench writes far smaller ones).
import { open, type FileHandle } from "node:fs/promises";
import { basename, extname } from "node:path";
import { crc32 } from "node:zlib";

export type TorchDType = "F16" | "F32" | "BF16";

const STORAGE_CLASS: Readonly<Record<TorchDType, string>> = { F16: "HalfStorage", F32: "FloatStorage", BF16: "BFloat16Storage" };
const ITEM_BYTES: Readonly<Record<TorchDType, number>> = { F16: 2, F32: 4, BF16: 2 };

export interface TorchTensor {
  name: string;
  dtype: TorchDType;
  /** Outermost dimension first, as PyTorch writes it; stored contiguous (C order). */
  shape: readonly number[];
  /**
   * Fills `into` with this tensor's next bytes. Called in order, piece after piece, until the tensor's
   * `numel × itemsize` bytes are given; every piece but the last is `chunkBytes` long.
   */
  fill: (into: Buffer) => void;
}

/** Where a tensor's data landed in the written file. */
export interface TensorPlacement {
  name: string;
  offset: number;
  byteLength: number;
}

const ALIGNMENT = 64;
const MAX_ZIP32 = 0xffff_ffff;
/** 1980-01-01 00:00, the earliest MS-DOS date: the archive's bytes do not depend on when it was written. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((count, dim) => count * dim, 1);
}

/** The few pickle opcodes a state dict needs, memoizing globals the way Python's pickler does. */
class PickleWriter {
  readonly #parts: Buffer[] = [];
  readonly #globals = new Map<string, number>();
  #memoSize = 0;

  #op(...bytes: number[]): void {
    this.#parts.push(Buffer.from(bytes));
  }

  #put(): number {
    const index = this.#memoSize++;
    if (index < 256) this.#op(0x71, index); // BINPUT
    else this.#uint32(0x72, index); // LONG_BINPUT
    return index;
  }

  #uint32(op: number, value: number): void {
    const bytes = Buffer.alloc(5);
    bytes[0] = op;
    bytes.writeUInt32LE(value, 1);
    this.#parts.push(bytes);
  }

  proto(): void {
    this.#op(0x80, 2);
  }

  mark(): void {
    this.#op(0x28);
  }

  global(module: string, name: string): void {
    const fullName = `${module}\n${name}\n`;
    const memo = this.#globals.get(fullName);
    if (memo !== undefined) {
      if (memo < 256) this.#op(0x68, memo); // BINGET
      else this.#uint32(0x6a, memo); // LONG_BINGET
      return;
    }
    this.#op(0x63); // GLOBAL
    this.#parts.push(Buffer.from(fullName, "latin1"));
    this.#globals.set(fullName, this.#put());
  }

  string(value: string): void {
    const bytes = Buffer.from(value, "utf8");
    this.#uint32(0x58, bytes.length); // BINUNICODE
    this.#parts.push(bytes);
  }

  int(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`a tensor size or offset must be a whole number ≥ 0, not ${value}`);
    if (value < 0x100) return this.#op(0x4b, value); // BININT1
    if (value < 0x1_0000) return this.#op(0x4d, value & 0xff, value >>> 8); // BININT2
    if (value < 0x8000_0000) {
      const bytes = Buffer.alloc(5);
      bytes[0] = 0x4a; // BININT
      bytes.writeInt32LE(value, 1);
      return void this.#parts.push(bytes);
    }
    // LONG1: little-endian two's complement, with a zero byte on top when the highest bit is set.
    const digits: number[] = [];
    for (let rest = BigInt(value); rest > 0n; rest >>= 8n) digits.push(Number(rest & 0xffn));
    if (digits[digits.length - 1]! & 0x80) digits.push(0);
    this.#op(0x8a, digits.length, ...digits);
  }

  /** A tuple of whole numbers, as sizes and strides are pickled. */
  intTuple(values: readonly number[]): void {
    if (values.length === 0) return this.#op(0x29); // EMPTY_TUPLE
    if (values.length > 3) this.mark();
    for (const value of values) this.int(value);
    this.#op(values.length > 3 ? 0x74 : [0x85, 0x86, 0x87][values.length - 1]!); // TUPLE, TUPLE1/2/3
    this.#put();
  }

  /** Ends the tuple begun by the last mark(). */
  tuple(): void {
    this.#op(0x74);
    this.#put();
  }

  newFalse(): void {
    this.#op(0x89);
  }

  emptyTuple(): void {
    this.#op(0x29);
  }

  reduce(): void {
    this.#op(0x52);
    this.#put();
  }

  binPersId(): void {
    this.#op(0x51);
  }

  setItems(): void {
    this.#op(0x75);
  }

  stop(): Buffer {
    this.#op(0x2e);
    return Buffer.concat(this.#parts);
  }
}

/**
 * data.pkl of `OrderedDict((name, _rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())) …)` with one
 * storage per tensor, keyed "0", "1", … Items go in SETITEMS batches of 1000, as Python's pickler batches them.
 */
export function statePickle(tensors: readonly Pick<TorchTensor, "name" | "dtype" | "shape">[]): Buffer {
  const pickle = new PickleWriter();
  pickle.proto();
  pickle.global("collections", "OrderedDict");
  pickle.emptyTuple();
  pickle.reduce();
  for (let batch = 0; batch < tensors.length; batch += 1000) {
    pickle.mark();
    for (const [offset, tensor] of tensors.slice(batch, batch + 1000).entries()) {
      const key = String(batch + offset);
      const stride = tensor.shape.map((_, i) => elementCount(tensor.shape.slice(i + 1)));
      pickle.string(tensor.name);
      pickle.global("torch._utils", "_rebuild_tensor_v2");
      pickle.mark(); // the arguments
      pickle.mark(); // the persistent id ('storage', storage class, key, location, numel)
      pickle.string("storage");
      pickle.global("torch", STORAGE_CLASS[tensor.dtype]);
      pickle.string(key);
      pickle.string("cpu");
      pickle.int(elementCount(tensor.shape));
      pickle.tuple();
      pickle.binPersId();
      pickle.int(0); // storage offset
      pickle.intTuple(tensor.shape);
      pickle.intTuple(stride);
      pickle.newFalse(); // requires_grad
      pickle.global("collections", "OrderedDict"); // backward hooks: OrderedDict()
      pickle.emptyTuple();
      pickle.reduce();
      pickle.tuple();
      pickle.reduce();
    }
    pickle.setItems();
  }
  return pickle.stop();
}

interface CentralEntry {
  name: Buffer;
  crc: number;
  size: number;
  headerOffset: number;
}

/** A stored-only zip written front to back; each entry's CRC is patched into its local header afterwards. */
class StoredZipWriter {
  readonly #entries: CentralEntry[] = [];
  #position = 0;

  constructor(
    private readonly file: FileHandle,
    private readonly path: string,
  ) {}

  get position(): number {
    return this.#position;
  }

  async #write(bytes: Buffer): Promise<void> {
    await this.file.write(bytes, 0, bytes.length, this.#position);
    this.#position += bytes.length;
  }

  #checkSize(what: string): void {
    if (this.#position > MAX_ZIP32) throw new RangeError(`${this.path} would pass 4 GiB at ${what}; this writer does not write zip64`);
  }

  /** Writes an entry's local header (data aligned at 64 bytes), then its data from `pieces`; returns the data's offset. */
  async add(entryName: string, size: number, pieces: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<number> {
    const name = Buffer.from(entryName, "utf8");
    const headerOffset = this.#position;
    // PyTorch pads with an extra field ("FB", then filler) so that the data starts on a 64-byte boundary.
    let padding = (ALIGNMENT - ((headerOffset + 30 + name.length) % ALIGNMENT)) % ALIGNMENT;
    if (padding > 0 && padding < 4) padding += ALIGNMENT;
    const header = Buffer.alloc(30 + name.length + padding, 0x5a); // 'Z' filler, as PyTorch's
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4); // version needed to extract
    header.writeUInt16LE(0, 6); // flags
    header.writeUInt16LE(0, 8); // stored
    header.writeUInt16LE(DOS_TIME, 10);
    header.writeUInt16LE(DOS_DATE, 12);
    header.writeUInt32LE(0, 14); // CRC-32, patched below
    header.writeUInt32LE(size, 18);
    header.writeUInt32LE(size, 22);
    header.writeUInt16LE(name.length, 26);
    header.writeUInt16LE(padding, 28);
    name.copy(header, 30);
    if (padding > 0) {
      header.writeUInt16LE(0x4246, 30 + name.length); // "FB"
      header.writeUInt16LE(padding - 4, 32 + name.length);
    }
    await this.#write(header);
    const dataOffset = this.#position;

    let crc = 0;
    for await (const piece of pieces) {
      crc = crc32(piece, crc);
      await this.#write(piece);
    }
    if (this.#position - dataOffset !== size) throw new Error(`${entryName} got ${this.#position - dataOffset} bytes, not ${size}`);
    this.#checkSize(entryName);
    const crcBytes = Buffer.alloc(4);
    crcBytes.writeUInt32LE(crc >>> 0, 0);
    await this.file.write(crcBytes, 0, 4, headerOffset + 14);
    this.#entries.push({ name, crc: crc >>> 0, size, headerOffset });
    return dataOffset;
  }

  /** The central directory and its end record. */
  async finish(): Promise<void> {
    const start = this.#position;
    for (const entry of this.#entries) {
      const record = Buffer.alloc(46 + entry.name.length);
      record.writeUInt32LE(0x02014b50, 0);
      record.writeUInt16LE(20, 4); // version made by
      record.writeUInt16LE(20, 6); // version needed
      record.writeUInt16LE(0, 8);
      record.writeUInt16LE(0, 10);
      record.writeUInt16LE(DOS_TIME, 12);
      record.writeUInt16LE(DOS_DATE, 14);
      record.writeUInt32LE(entry.crc, 16);
      record.writeUInt32LE(entry.size, 20);
      record.writeUInt32LE(entry.size, 24);
      record.writeUInt16LE(entry.name.length, 28);
      // extra field length, comment length, disk number, internal and external attributes: all 0
      record.writeUInt32LE(entry.headerOffset, 42);
      entry.name.copy(record, 46);
      await this.#write(record);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(this.#entries.length, 8);
    end.writeUInt16LE(this.#entries.length, 10);
    end.writeUInt32LE(this.#position - start, 12);
    end.writeUInt32LE(start, 16);
    await this.#write(end);
    this.#checkSize("the central directory");
  }
}

function* pieces(tensor: TorchTensor, chunkBytes: number, scratch: Buffer): Generator<Buffer> {
  const total = elementCount(tensor.shape) * ITEM_BYTES[tensor.dtype];
  for (let done = 0; done < total; done += chunkBytes) {
    const piece = scratch.subarray(0, Math.min(chunkBytes, total - done));
    tensor.fill(piece);
    yield piece;
  }
}

/**
 * Writes `tensors` as `torch.save(OrderedDict(...), path)` would, streaming each tensor's data through its fill
 * callback in pieces of `chunkBytes` (a multiple of 4, so that pieces hold whole values).
 */
export async function writeTorchSave(
  path: string,
  tensors: readonly TorchTensor[],
  options: { archiveName?: string; chunkBytes?: number } = {},
): Promise<{ fileBytes: number; placements: TensorPlacement[] }> {
  const archive = options.archiveName ?? basename(path, extname(path));
  const chunkBytes = options.chunkBytes ?? 16 * 1024 * 1024;
  if (chunkBytes % 4 !== 0) throw new RangeError("chunkBytes must hold whole float32 values");
  // Its own ArrayBuffer, so that fill callbacks can lay Uint16/Float32 views over it.
  const scratch = Buffer.allocUnsafeSlow(chunkBytes);
  const file = await open(path, "wx");
  try {
    const zip = new StoredZipWriter(file, path);
    const small = async (entry: string, text: string) => {
      const bytes = Buffer.from(text, "latin1");
      await zip.add(`${archive}/${entry}`, bytes.length, [bytes]);
    };
    const pickle = statePickle(tensors);
    await zip.add(`${archive}/data.pkl`, pickle.length, [pickle]);
    await small(".format_version", "1");
    await small(".storage_alignment", String(ALIGNMENT));
    await small("byteorder", "little");
    const placements: TensorPlacement[] = [];
    for (const [key, tensor] of tensors.entries()) {
      const byteLength = elementCount(tensor.shape) * ITEM_BYTES[tensor.dtype];
      const offset = await zip.add(`${archive}/data/${key}`, byteLength, pieces(tensor, chunkBytes, scratch));
      placements.push({ name: tensor.name, offset, byteLength });
    }
    await small("version", "3\n");
    await zip.finish();
    return { fileBytes: zip.position, placements };
  } finally {
    await file.close();
  }
}

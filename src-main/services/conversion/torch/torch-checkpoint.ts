// Reads the tensor table of a `torch.save` file (the zip format PyTorch writes since 1.6): the pickled
// state dict through the restricted unpickler, and each storage's place in the archive. No tensor data is read.
import { open } from "node:fs/promises";
import { basename } from "node:path";
import yauzl from "yauzl";
import { BillaError } from "../../../contract/errors.js";
import { DTYPE_BYTES, elementCount, type TensorLocation } from "../tensor.js";
import { PickleDict, STORAGE_DTYPES, unpickle, type PickleValue, type TensorRef } from "./restricted-unpickler.js";

/** A state dict's pickle is a few kilobytes per tensor; anything far larger is not one. */
const MAX_PICKLE_BYTES = 64 * 1024 * 1024;
const MAX_ENTRIES = 200_000;
const LEGACY_MAGIC = Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8]);

function badFile(file: string, problem: string): BillaError {
  return new BillaError("bad_file", `${basename(file)} ${problem}`);
}

async function readHead(file: string): Promise<Buffer> {
  const handle = await open(file, "r");
  try {
    const head = Buffer.alloc(LEGACY_MAGIC.length);
    await handle.read(head, 0, head.length, 0);
    return head;
  } finally {
    await handle.close();
  }
}

async function readAll(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  const stream = await zip.openReadStreamPromise(entry);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function listEntries(zip: yauzl.ZipFile): Promise<Map<string, yauzl.Entry>> {
  const entries = new Map<string, yauzl.Entry>();
  await new Promise<void>((resolve, reject) => {
    zip.on("entry", (entry: yauzl.Entry) => {
      if (entries.size >= MAX_ENTRIES) return reject(new Error("too many entries"));
      entries.set(entry.fileName, entry);
      zip.readEntry();
    });
    zip.on("end", resolve);
    zip.on("error", reject);
    zip.readEntry();
  });
  return entries;
}

function isContiguous(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i]! > 1 && stride[i] !== expected) return false;
    expected *= shape[i]!;
  }
  return shape.length === stride.length;
}

function isTensorRef(value: PickleValue): value is TensorRef {
  return typeof value === "object" && value !== null && "kind" in value && value.kind === "tensor";
}

export async function readTorchCheckpoint(file: string): Promise<TensorLocation[]> {
  const head = await readHead(file);
  if (head.subarray(0, LEGACY_MAGIC.length).equals(LEGACY_MAGIC)) {
    throw badFile(
      file,
      "uses PyTorch's legacy (before 1.6) format. Re-save it in the current format or as safetensors, e.g. in Python: torch.save(torch.load(path, weights_only=True), new_path).",
    );
  }
  if (head.readUInt32LE(0) !== 0x04034b50) {
    throw badFile(file, "is not a PyTorch checkpoint (torch.save writes a zip archive). Choose the model's .bin or .pth files.");
  }

  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false, strictFileNames: true });
  } catch (error) {
    throw badFile(file, `is damaged (${(error as Error).message}). Download it again.`);
  }
  try {
    let entries: Map<string, yauzl.Entry>;
    try {
      entries = await listEntries(zip);
    } catch (error) {
      throw badFile(file, `is damaged (${(error as Error).message}). Download it again.`);
    }
    const pickles = [...entries.keys()].filter((name) => /^[^/]+\/data\.pkl$/.test(name));
    if (pickles.length !== 1) throw badFile(file, "is a zip archive but not a PyTorch checkpoint (no single data.pkl inside).");
    const prefix = pickles[0]!.slice(0, -"data.pkl".length);
    const byteOrder = entries.get(`${prefix}byteorder`);
    if (byteOrder && (await readAll(zip, byteOrder)).toString() !== "little") {
      throw badFile(file, "was saved on a big-endian machine; re-save it on a little-endian one.");
    }
    const pickleEntry = entries.get(pickles[0]!)!;
    if (pickleEntry.uncompressedSize > MAX_PICKLE_BYTES) throw badFile(file, "has a data.pkl too large for a state dict.");
    const root = unpickle(await readAll(zip, pickleEntry));
    if (!(root instanceof PickleDict)) throw badFile(file, "does not hold a state dict (a mapping of names to tensors).");

    const tensors: TensorLocation[] = [];
    const dataStarts = new Map<string, number>();
    for (const [name, value] of root) {
      if (typeof name !== "string") throw badFile(file, "has a state dict key that is not a name.");
      if (!isTensorRef(value)) throw badFile(file, `holds ${name}, which is not a tensor.`);
      const dtype = STORAGE_DTYPES[value.storage.storageType as keyof typeof STORAGE_DTYPES];
      const itemSize = DTYPE_BYTES[dtype];
      const entry = entries.get(`${prefix}data/${value.storage.key}`);
      if (!entry) throw badFile(file, `is missing the data of ${name}: the file is incomplete. Download it again.`);
      if (entry.compressionMethod !== 0) throw badFile(file, `stores ${name} compressed, which torch.save never does.`);
      if (value.storage.elementCount * itemSize > entry.uncompressedSize) throw badFile(file, `has a storage smaller than ${name} says.`);
      if (!isContiguous(value.shape, value.stride)) {
        throw badFile(file, `stores ${name} as a strided view; re-save it with contiguous tensors (tensor.contiguous()).`);
      }
      const count = elementCount(value.shape);
      if (value.storageOffset + count > value.storage.elementCount) throw badFile(file, `has ${name} reaching past its storage.`);
      let dataStart = dataStarts.get(value.storage.key);
      if (dataStart === undefined) {
        dataStart = (await zip.readLocalFileHeaderPromise(entry, { minimal: true })).fileDataStart;
        dataStarts.set(value.storage.key, dataStart);
      }
      tensors.push({
        name,
        dtype,
        shape: value.shape,
        file,
        offset: dataStart + value.storageOffset * itemSize,
        byteLength: count * itemSize,
      });
    }
    return tensors;
  } finally {
    zip.close();
  }
}

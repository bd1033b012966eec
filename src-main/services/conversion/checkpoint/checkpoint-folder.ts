// Finds what a model folder holds: config, tokenizer and weight files in any layout BiLLa and Hugging Face
// use, and the table of every tensor in them (names, types, shapes, places; no data).
import { access, readFile, readdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { z } from "zod";
import { BillaError } from "../../../contract/errors.js";
import { readSafetensors } from "../safetensors/safetensors-reader.js";
import type { TensorLocation } from "../tensor.js";
import { readTorchCheckpoint } from "../torch/torch-checkpoint.js";

export interface CheckpointFolder {
  dir: string;
  format: "torch" | "safetensors";
  weightFiles: string[];
  tensors: Map<string, TensorLocation>;
}

const indexSchema = z.object({ weight_map: z.record(z.string(), z.string()) });
const BILLA_SHARD = /^pytorch_model-(\d+)-of-(\d+)\.bin$/;

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Reads optional JSON that the user supplied; malformed JSON is an error that names the file. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return null;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BillaError("bad_file", `${basename(path)} is not valid JSON. Download it again from the model's page.`);
  }
}

async function shardsFromIndex(dir: string, indexName: string): Promise<{ files: string[]; expected: Map<string, string> }> {
  const parsed = indexSchema.safeParse(await readJsonFile(join(dir, indexName)));
  if (!parsed.success) throw new BillaError("bad_file", `${indexName} does not list the weights (no weight_map). Download it again.`);
  const expected = new Map(Object.entries(parsed.data.weight_map));
  for (const file of expected.values()) {
    if (basename(file) !== file) throw new BillaError("bad_file", `${indexName} points outside the model folder (${file}).`);
  }
  return { files: [...new Set(expected.values())].sort(), expected };
}

/** BiLLa's release names its shards pytorch_model-N-of-M.bin without always shipping an index. */
function shardsFromNames(entries: string[]): string[] {
  const shards = entries.map((name) => BILLA_SHARD.exec(name)).filter((match) => match !== null);
  if (shards.length === 0) return [];
  const total = Number(shards[0]![2]);
  const present = new Set(shards.filter((match) => Number(match[2]) === total).map((match) => Number(match[1])));
  const missing = Array.from({ length: total }, (_, i) => i + 1).filter((n) => !present.has(n));
  if (missing.length) {
    throw new BillaError("bad_file", `The checkpoint has ${total} parts but ${missing.map((n) => `pytorch_model-${n}-of-${total}.bin`).join(", ")} ${missing.length > 1 ? "are" : "is"} missing. Download every part into the same folder.`);
  }
  return Array.from({ length: total }, (_, i) => `pytorch_model-${i + 1}-of-${total}.bin`);
}

async function locateWeights(dir: string): Promise<{ format: CheckpointFolder["format"]; files: string[]; expected: Map<string, string> | null }> {
  const entries = await readdir(dir).catch(() => {
    throw new BillaError("not_found", `${dir} is not a folder that can be read. Choose the folder holding the model's files.`);
  });
  if (entries.includes("model.safetensors.index.json")) return { format: "safetensors", ...(await shardsFromIndex(dir, "model.safetensors.index.json")) };
  if (entries.includes("model.safetensors")) return { format: "safetensors", files: ["model.safetensors"], expected: null };
  if (entries.includes("pytorch_model.bin.index.json")) return { format: "torch", ...(await shardsFromIndex(dir, "pytorch_model.bin.index.json")) };
  const named = shardsFromNames(entries);
  if (named.length) return { format: "torch", files: named, expected: null };
  if (entries.includes("pytorch_model.bin")) return { format: "torch", files: ["pytorch_model.bin"], expected: null };
  throw new BillaError(
    "bad_file",
    `${basename(dir)} holds no model weights (no pytorch_model*.bin or model*.safetensors). Choose the folder you downloaded BiLLa into.`,
  );
}

function readWeightsFile(path: string): Promise<TensorLocation[]> {
  return path.endsWith(".safetensors") ? readSafetensors(path) : readTorchCheckpoint(path);
}

/** Meta's own layout: consolidated.00.pth beside params.json (7B has one part). */
const META_WEIGHTS = "consolidated.00.pth";

/**
 * The first of `names` found in a weights file, a model folder (Hugging Face or Meta layout) or a sharded
 * checkpoint's *.index.json. With an index only the shard holding the tensor is opened, and only its table is
 * read: finding one tensor of a 13 GB LLaMA costs a few kilobytes.
 */
export async function findTensor(path: string, isFolder: boolean, names: readonly string[]): Promise<TensorLocation | null> {
  let candidates: string[];
  if (path.endsWith(".index.json")) {
    const { expected } = await shardsFromIndex(dirname(path), basename(path));
    const name = names.find((candidate) => expected.has(candidate));
    candidates = name === undefined ? [] : [join(dirname(path), expected.get(name)!)];
  } else if (isFolder) {
    if (await exists(join(path, META_WEIGHTS))) {
      candidates = [join(path, META_WEIGHTS)];
    } else {
      const { files, expected } = await locateWeights(path);
      const name = names.find((candidate) => expected?.has(candidate));
      candidates = (name === undefined ? files : [expected!.get(name)!]).map((file) => join(path, file));
    }
  } else {
    candidates = [path];
  }
  for (const file of candidates) {
    if (!(await exists(file))) throw new BillaError("bad_file", `${basename(file)} is missing from ${basename(dirname(file))}. Download it into the same folder.`);
    const tensors = await readWeightsFile(file);
    const found = names.map((name) => tensors.find((tensor) => tensor.name === name)).find((tensor) => tensor !== undefined);
    if (found) return found;
  }
  return null;
}

export async function openCheckpointFolder(dir: string): Promise<CheckpointFolder> {
  const { format, files, expected } = await locateWeights(dir);
  const tensors = new Map<string, TensorLocation>();
  for (const file of files) {
    const path = join(dir, file);
    if (!(await exists(path))) throw new BillaError("bad_file", `${file} is missing from ${basename(dir)}. Download it into the same folder.`);
    for (const tensor of await readWeightsFile(path)) {
      if (tensors.has(tensor.name)) throw new BillaError("bad_file", `${tensor.name} appears twice in the checkpoint (in ${file} and an earlier part).`);
      tensors.set(tensor.name, tensor);
    }
  }
  for (const [name, file] of expected ?? []) {
    if (tensors.get(name)?.file !== join(dir, file)) {
      throw new BillaError("bad_file", `The checkpoint's index says ${name} is in ${file}, but it is not there. The download is incomplete.`);
    }
  }
  return { dir, format, weightFiles: files.map((file) => join(dir, file)), tensors };
}

// `billa inspect` and the wizard's first look: what a GGUF, a checkpoint file or a model folder holds.
import { stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import type { Inspection } from "../../contract/api.js";
import { BillaError } from "../../contract/errors.js";
import { openCheckpointFolder, readJsonFile } from "./checkpoint/checkpoint-folder.js";
import { embeddingForm } from "./pipeline/embedding-check.js";
import { Scratch } from "./pipeline/scratch.js";
import { openSourceModel } from "./pipeline/source-model.js";
import { GgmlType, GGML_BLOCK } from "./gguf/gguf-types.js";
import { readSafetensors } from "./safetensors/safetensors-reader.js";
import { elementCount, type TensorLocation } from "./tensor.js";
import { promptFactsOf, resolvePromptFormat } from "../models/prompt-format.js";
import { readTorchCheckpoint } from "./torch/torch-checkpoint.js";

type MetadataValue = Inspection["metadata"][string];

const isFile = (path: string) => stat(path).then((info) => info.isFile(), () => false);

/** Long arrays (a vocabulary) are summarised: a list of 46,943 tokens helps nobody in a table. */
function displayValue(value: unknown): MetadataValue {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.length <= 8 ? JSON.stringify(value) : `[${value.length} items: ${JSON.stringify(value.slice(0, 3)).slice(1, -1)}, …]`;
  return JSON.stringify(value) ?? String(value);
}

/** GGUF metadata arrives nested ({general: {name}}); the table shows the dotted keys llama.cpp uses. */
function flatten(value: unknown, prefix: string, into: Record<string, MetadataValue>): void {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, into);
  } else {
    into[prefix] = displayValue(value);
  }
}

async function inspectGguf(path: string): Promise<Inspection> {
  const info = await readGgufFileInfo(path, { logWarnings: false }).catch((error: Error) => {
    throw new BillaError("bad_file", `${path} is not a readable GGUF file (${error.message}).`);
  });
  const metadata: Record<string, MetadataValue> = {};
  flatten(info.metadata, "", metadata);
  const tensors = (info.tensorInfo ?? []).map((tensor) => {
    const shape = tensor.dimensions.map(Number);
    const block = GGML_BLOCK[tensor.ggmlType as GgmlType];
    const bytes = block ? (elementCount(shape) / block.elements) * block.bytes : 0;
    return { name: tensor.name, type: GgmlType[tensor.ggmlType] ?? String(tensor.ggmlType), shape, bytes };
  });
  return { kind: "gguf", path, metadata, tensors, promptFormat: resolvePromptFormat("auto", promptFactsOf(info.metadata)) };
}

function tensorRows(tensors: Iterable<TensorLocation>): Inspection["tensors"] {
  return [...tensors].map((tensor) => ({ name: tensor.name, type: tensor.dtype, shape: tensor.shape, bytes: tensor.byteLength }));
}

export async function inspectPath(path: string): Promise<Inspection> {
  const info = await stat(path).catch(() => {
    throw new BillaError("not_found", `${path} does not exist.`);
  });
  // A sharded checkpoint's index stands for its folder.
  if (path.endsWith(".index.json")) return inspectPath(dirname(path));
  if (info.isDirectory()) {
    const folder = await openCheckpointFolder(path);
    const metadata: Record<string, MetadataValue> = { format: folder.format, files: folder.weightFiles.length, tokenizer: await isFile(join(path, "tokenizer.model")) };
    flatten(await readJsonFile(join(path, "config.json")), "config", metadata);
    // What the converter would make of it: the form of its weights, or why it cannot convert it.
    try {
      metadata["weights"] = await embeddingForm(await openSourceModel({ modelDir: path, folder }), new Scratch());
    } catch (error) {
      if (!(error instanceof BillaError)) throw error;
      metadata["problem"] = error.message;
    }
    return { kind: "checkpoint", path, metadata, tensors: tensorRows(folder.tensors.values()) };
  }
  if (path.endsWith(".gguf")) return inspectGguf(path);
  const tensors = path.endsWith(".safetensors") ? await readSafetensors(path) : await readTorchCheckpoint(path);
  return { kind: "checkpoint", path, metadata: { format: path.endsWith(".safetensors") ? "safetensors" : "torch" }, tensors: tensorRows(tensors) };
}

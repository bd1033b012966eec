// `billa restore`: BiLLa's released checkpoint + the original LLaMA → a restored Hugging Face folder
// (model.safetensors plus the config and tokenizer files), for people who run transformers or serve it with vLLM.
// tokenizer_config.json gets BiLLa's chat template, so apply_chat_template and vLLM's chat endpoint build BiLLa's
// prompt. The user's files are only read; the folder appears only when complete.
import { copyFile, mkdir, readdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { ConversionProgress, ConversionReport } from "../../../contract/api.js";
import { BillaError } from "../../../contract/errors.js";
import { BILLA_CHAT_TEMPLATE } from "../../models/billa-chat-template.js";
import { SafetensorsWriter } from "../safetensors/safetensors-writer.js";
import { readSafetensors } from "../safetensors/safetensors-reader.js";
import { checkFreeSpace, refuseExisting, replaceWhenComplete, writeAtomically } from "../../files/atomic-file.js";
import { checkEmbedding, embeddingRows, readRows, rowChunks } from "./embedding-check.js";
import { ProgressMeter } from "./progress-meter.js";
import { DEFAULT_CHUNK_BYTES, Scratch } from "./scratch.js";
import type { SourceModel, SourceTensor } from "./source-model.js";
import { DTYPE_BYTES, elementCount } from "../tensor.js";

/** Files a Hugging Face model folder carries besides its weights, copied as they are (tokenizer_config.json is rewritten). */
const COMPANION_FILES = /^(config|generation_config|special_tokens_map|added_tokens)\.json$|^tokenizer\.(model|json)$/;

/** The folder's tokenizer settings (none: transformers' defaults for LLaMA) with BiLLa's chat template, replacing any other. */
function restoredTokenizerConfig(source: Record<string, unknown> | null): string {
  return `${JSON.stringify({ ...source, chat_template: BILLA_CHAT_TEMPLATE }, null, 2)}\n`;
}

export interface RestoreOptions {
  model: SourceModel;
  outDir: string;
  expectedEmbeddingSum?: number;
  signal?: AbortSignal;
  onProgress?: (progress: ConversionProgress) => void;
  onWarning?: (warning: string) => void;
  chunkBytes?: number;
}

/** Bytes a tensor takes in the restored checkpoint (a released float32 embedding comes out float16). */
function outputBytes(tensor: SourceTensor): number {
  return elementCount(tensor.location.shape) * DTYPE_BYTES[tensor.dtype];
}

export async function restoreToSafetensors(options: RestoreOptions): Promise<ConversionReport> {
  const started = performance.now();
  const { model, signal } = options;
  if (!model.restore) throw new BillaError("invalid_input", "Restoring needs the original LLaMA file (--meta_llama_pth_file).");
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const inputBytes = model.tensors.reduce((sum, tensor) => sum + tensor.location.byteLength, 0);
  const total = model.tensors.reduce((sum, tensor) => sum + outputBytes(tensor), 0);
  const meter = new ProgressMeter("restore", inputBytes + model.embedding.byteLength, model.tensors.length, options.onProgress ?? (() => undefined));
  let done = 0;

  await refuseExisting(options.outDir);
  const scratch = new Scratch();
  const check = await checkEmbedding(model, {
    scratch,
    chunkBytes,
    expectedSum: options.expectedEmbeddingSum,
    signal,
    onWarning: options.onWarning,
    onBytes: (bytes) => meter.report("checksum", 0, (done += bytes)),
  });
  await checkFreeSpace(dirname(options.outDir), total);

  await replaceWhenComplete(options.outDir, async (staging) => {
    await mkdir(staging);
    for (const file of await readdir(model.dir)) {
      if (COMPANION_FILES.test(file)) await copyFile(join(model.dir, file), join(staging, file));
    }
    await writeFile(join(staging, "tokenizer_config.json"), restoredTokenizerConfig(model.tokenizerConfig));
    const entries = model.tensors.map((tensor) => ({ name: tensor.hf, dtype: tensor.dtype, shape: tensor.location.shape }));
    await writeAtomically(
      join(staging, "model.safetensors"),
      async (file) => {
        const writer = await SafetensorsWriter.start(file, entries, { format: "pt" });
        for (const [index, tensor] of model.tensors.entries()) {
          const location = tensor.location;
          const rows = location.shape.length === 1 ? 1 : location.shape[0]!;
          for (const [first, count] of rowChunks(rows, location.byteLength / rows, chunkBytes)) {
            signal?.throwIfAborted();
            const rowBytes = location.byteLength / rows;
            await writer.write(location === model.embedding ? await embeddingRows(model, first, count, scratch) : await readRows(location, first, count, scratch.get("read", count * rowBytes)));
            meter.report("convert", index, (done += (count * location.byteLength) / rows));
          }
        }
        await file.sync();
      },
      async (temporary) => {
        meter.report("verify", model.tensors.length, done, true);
        const written = await readSafetensors(temporary);
        if (written.length !== entries.length) throw new BillaError("internal", "The restored checkpoint did not read back as written; it was not kept.");
      },
    );
  });
  return {
    outPath: options.outDir,
    fileBytes: total,
    tensorCount: model.tensors.length,
    restoredEmbeddingSum: check.sum,
    warnings: check.warnings,
    seconds: (performance.now() - started) / 1000,
  };
}

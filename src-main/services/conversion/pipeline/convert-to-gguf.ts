// The one streaming pass: for each tensor, read a piece of rows → restore (embedding) → reorder for RoPE
// (q/k) → convert or quantize → append to the GGUF. Memory holds one piece at a time, whatever the model size.
import { dirname } from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import type { ConversionProgress, ConversionReport } from "../../../contract/api.js";
import { BillaError } from "../../../contract/errors.js";
import { GgmlType, OUTPUT_TYPES, ggmlRowBytes, type OutputType } from "../gguf/gguf-types.js";
import { GgufWriter, type GgufTensorEntry } from "../gguf/gguf-writer.js";
import { llamaMetadata } from "../gguf/llama-metadata.js";
import { permuteHeadRows } from "../gguf/tensor-names.js";
import { planTensorTypes } from "../quantize/quant-mix.js";
import type { QuantizePool } from "../quantize/quantize-pool.js";
import type { FloatDType } from "../tensor.js";
import { checkFreeSpace, writeAtomically } from "../../files/atomic-file.js";
import { checkEmbedding, embeddingRows, readRows, rowChunks } from "./embedding-check.js";
import { ProgressMeter } from "./progress-meter.js";
import { DEFAULT_CHUNK_BYTES, Scratch } from "./scratch.js";
import type { SourceModel, SourceTensor } from "./source-model.js";

export interface ConvertOptions {
  model: SourceModel;
  outFile: string;
  outType: OutputType;
  name: string;
  /** Converts and quantizes rows with ggml's kernels. */
  quantizer: Pick<QuantizePool, "quantize">;
  jobId?: string;
  expectedEmbeddingSum?: number;
  signal?: AbortSignal;
  onProgress?: (progress: ConversionProgress) => void;
  onWarning?: (warning: string) => void;
  /** Rows are processed in pieces of about this many input bytes. */
  chunkBytes?: number;
}


interface PlannedTensor {
  source: SourceTensor;
  entry: GgufTensorEntry;
  rows: number;
  perRow: number;
}

function planTensors(model: SourceModel, outType: OutputType): PlannedTensor[] {
  const shapes = model.tensors.map((source) => ({ name: source.gguf, shape: [...source.location.shape].reverse() }));
  const types = planTensorTypes({ tensors: shapes, outputType: outType, layerCount: model.hyper.blockCount });
  return model.tensors.map((source, i) => {
    const dims = shapes[i]!.shape;
    const [perRow, rows = 1] = dims as [number, number?];
    const type = types.get(source.gguf)!;
    return { source, rows, perRow, entry: { name: source.gguf, dims, type, byteLength: rows * ggmlRowBytes(type, perRow) } };
  });
}

function isStoredAsIs(type: GgmlType, dtype: FloatDType): boolean {
  return (type === GgmlType.F16 && dtype === "F16") || (type === GgmlType.F32 && dtype === "F32") || (type === GgmlType.BF16 && dtype === "BF16");
}

async function encodeRows(plan: PlannedTensor, rows: Buffer, rowCount: number, options: ConvertOptions, scratch: Scratch): Promise<Buffer> {
  const { type } = plan.entry;
  const { dtype } = plan.source;
  if (isStoredAsIs(type, dtype)) return rows;
  const output = scratch.get("output", rowCount * ggmlRowBytes(type, plan.perRow));
  return options.quantizer.quantize({ type, source: rows, sourceType: dtype, rows: rowCount, perRow: plan.perRow }, options.signal, output);
}

export async function convertToGguf(options: ConvertOptions): Promise<ConversionReport> {
  const started = performance.now();
  const { model, signal } = options;
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const plans = planTensors(model, options.outType);
  const inputBytes = plans.reduce((total, plan) => total + plan.source.location.byteLength, 0);
  const meter = new ProgressMeter(options.jobId ?? "convert", inputBytes + model.embedding.byteLength, plans.length, options.onProgress ?? (() => undefined));

  let done = 0;
  const scratch = new Scratch();
  const check = await checkEmbedding(model, {
    scratch,
    chunkBytes,
    expectedSum: options.expectedEmbeddingSum,
    signal,
    onWarning: options.onWarning,
    onBytes: (bytes) => meter.report("checksum", 0, (done += bytes)),
  });

  const metadata = llamaMetadata({
    name: options.name,
    hyper: model.hyper,
    tokenizer: model.tokenizer,
    tokenizerConfig: model.tokenizerConfig,
    addedTokens: model.addedTokens,
    fileType: OUTPUT_TYPES[options.outType].fileType,
    parameterCount: plans.reduce((total, plan) => total + plan.rows * plan.perRow, 0),
    restoredEmbeddingSum: check.sum,
  });
  const entries = plans.map((plan) => plan.entry);
  const fileBytes = GgufWriter.fileSize(metadata, entries);
  await checkFreeSpace(dirname(options.outFile), fileBytes);

  const headSize = model.hyper.embeddingLength / model.hyper.headCount;
  await writeAtomically(
    options.outFile,
    async (file) => {
      const writer = await GgufWriter.start(file, metadata, entries);
      for (const [index, plan] of plans.entries()) {
        const location = plan.source.location;
        const rowBytes = location.byteLength / plan.rows;
        const isEmbedding = location === model.embedding;
        for (const [first, count] of rowChunks(plan.rows, rowBytes, chunkBytes, plan.source.permuteForRope ? headSize : 1)) {
          signal?.throwIfAborted();
          let rows = isEmbedding ? await embeddingRows(model, first, count, scratch) : await readRows(location, first, count, scratch.get("read", count * rowBytes));
          if (plan.source.permuteForRope) rows = permuteHeadRows(rows, rowBytes, headSize, scratch.get("reordered", rows.length));
          await writer.write(await encodeRows(plan, rows, count, options, scratch));
          meter.report("convert", index, (done += count * rowBytes));
        }
      }
      await writer.finish();
    },
    async (temporary) => {
      meter.report("verify", plans.length, done, true);
      const info = await readGgufFileInfo(temporary, { logWarnings: false });
      const names = (info.tensorInfo ?? []).map((tensor) => tensor.name);
      if (names.length !== entries.length || names.some((name, i) => name !== entries[i]!.name)) {
        throw new BillaError("internal", "The written GGUF did not read back as written; it was not kept.");
      }
    },
  );
  return {
    outPath: options.outFile,
    fileBytes,
    tensorCount: plans.length,
    restoredEmbeddingSum: check.sum,
    warnings: check.warnings,
    seconds: (performance.now() - started) / 1000,
  };
}

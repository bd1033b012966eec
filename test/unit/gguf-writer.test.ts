// GGUF files written by our writer, read back by node-llama-cpp's own reader.
import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import { afterAll, describe, expect, it } from "vitest";
import { GgmlType, GgufValueType, Keys, type GgufKv } from "../../src-main/services/conversion/gguf/gguf-types.js";
import { GgufWriter, type GgufTensorEntry } from "../../src-main/services/conversion/gguf/gguf-writer.js";
import { permuteHeadRows } from "../../src-main/services/conversion/gguf/tensor-names.js";
import { makeTempDir } from "../support/temp-dir.js";

const temp = makeTempDir();
afterAll(() => temp.remove());

const kvs: GgufKv[] = [
  { key: Keys.General.ARCHITECTURE, type: GgufValueType.STRING, value: "llama" },
  { key: Keys.General.NAME, type: GgufValueType.STRING, value: "测试 model" },
  { key: Keys.Llama.BLOCK_COUNT, type: GgufValueType.UINT32, value: 2 },
  { key: Keys.Llama.LAYER_NORM_RMS_EPSILON, type: GgufValueType.FLOAT32, value: 1e-6 },
  { key: Keys.Tokenizer.ADD_BOS, type: GgufValueType.BOOL, value: true },
  { key: Keys.Tokenizer.TOKENS, type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value: ["<unk>", "▁你好", "<0x0A>"] },
  { key: Keys.Tokenizer.SCORES, type: GgufValueType.ARRAY, itemType: GgufValueType.FLOAT32, value: [0, -1.5, -10000] },
  { key: Keys.Tokenizer.TOKEN_TYPE, type: GgufValueType.ARRAY, itemType: GgufValueType.INT32, value: [2, 1, 6] },
];
const tensors: GgufTensorEntry[] = [
  { name: "a.weight", dims: [3], type: GgmlType.F32, byteLength: 12 },
  { name: "b.weight", dims: [32, 2], type: GgmlType.F16, byteLength: 128 },
];

describe("the GGUF writer", () => {
  it("writes a file node-llama-cpp reads back: metadata, tensor table and aligned data", async () => {
    const path = join(temp.path, "round-trip.gguf");
    const file = await open(path, "w");
    const writer = await GgufWriter.start(file, kvs, tensors);
    const a = Buffer.from(new Float32Array([1, 2, 3]).buffer);
    const b = Buffer.alloc(128, 7);
    await writer.write(a);
    await writer.write(b.subarray(0, 50)); // a tensor may arrive in pieces
    await writer.write(b.subarray(50));
    await writer.finish();
    await file.close();

    const bytes = await readFile(path);
    expect(bytes.length).toBe(GgufWriter.fileSize(kvs, tensors));
    const info = await readGgufFileInfo(path, { logWarnings: false });
    expect(info.version).toBe(3);
    expect(info.metadata.general.architecture).toBe("llama");
    expect(info.metadata.general.name).toBe("测试 model");
    const tokenizer = info.metadata.tokenizer as unknown as { ggml: { tokens: string[]; scores: number[]; token_type: number[]; add_bos_token: boolean } };
    expect(tokenizer.ggml.tokens).toEqual(["<unk>", "▁你好", "<0x0A>"]);
    expect(tokenizer.ggml.scores).toEqual([0, -1.5, -10000]);
    expect(tokenizer.ggml.token_type).toEqual([2, 1, 6]);
    expect(tokenizer.ggml.add_bos_token).toBe(true);
    const [infoA, infoB] = info.tensorInfo!;
    expect(infoA).toMatchObject({ name: "a.weight", dimensions: [3], ggmlType: GgmlType.F32, offset: 0 });
    expect(infoB).toMatchObject({ name: "b.weight", dimensions: [32, 2], ggmlType: GgmlType.F16, offset: 32 });
    // The data section is the last 160 bytes: a (12 bytes, padded to 32), then b (128).
    const aligned = bytes.length - 160;
    expect(aligned % 32).toBe(0);
    expect(bytes.subarray(aligned, aligned + 12)).toEqual(a);
    expect(bytes.subarray(aligned + 32, aligned + 160)).toEqual(b);
  });

  it("writes a header far larger than its first buffer (BiLLa's 46,943 tokens)", async () => {
    const tokens = Array.from({ length: 46_943 }, (_, i) => `▁token_${i}_中文`);
    const big: GgufKv[] = [
      ...kvs.filter((kv) => kv.key !== Keys.Tokenizer.TOKENS && kv.key !== Keys.Tokenizer.SCORES && kv.key !== Keys.Tokenizer.TOKEN_TYPE),
      { key: Keys.Tokenizer.TOKENS, type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value: tokens },
      { key: Keys.Tokenizer.SCORES, type: GgufValueType.ARRAY, itemType: GgufValueType.FLOAT32, value: tokens.map((_, i) => -i) },
    ];
    const path = join(temp.path, "big-header.gguf");
    const file = await open(path, "w");
    const writer = await GgufWriter.start(file, big, tensors);
    await writer.write(Buffer.alloc(12));
    await writer.write(Buffer.alloc(128));
    await writer.finish();
    await file.close();
    const info = await readGgufFileInfo(path, { logWarnings: false });
    const tokenizer = info.metadata.tokenizer as unknown as { ggml: { tokens: string[]; scores: number[] } };
    expect(tokenizer.ggml.tokens).toEqual(tokens);
    expect(tokenizer.ggml.scores.at(-1)).toBe(-46_942);
    expect((await readFile(path)).length).toBe(GgufWriter.fileSize(big, tensors));
  });

  it("refuses more data than a tensor holds, and a file with tensors missing", async () => {
    const file = await open(join(temp.path, "short.gguf"), "w");
    const writer = await GgufWriter.start(file, kvs, tensors);
    await expect(writer.write(Buffer.alloc(13))).rejects.toThrow(/a\.weight would get 13 bytes/);
    await writer.write(Buffer.alloc(12));
    await expect(writer.finish()).rejects.toThrow(/only 1 of 2 tensors/);
    await file.close();
  });
});

describe("the Q/K row permutation for llama.cpp's RoPE", () => {
  it("interleaves each head's two halves, as computed by hand", () => {
    // Two heads of size 4, one byte per row: HF rows [h0: 0 1 | 2 3, h1: 4 5 | 6 7]
    // become [0 2 1 3, 4 6 5 7] — row h·4 + 2i + j takes input row h·4 + j·2 + i.
    const rows = Buffer.from([0, 1, 2, 3, 4, 5, 6, 7]);
    expect([...permuteHeadRows(rows, 1, 4)]).toEqual([0, 2, 1, 3, 4, 6, 5, 7]);
  });

  it("moves whole rows", () => {
    // One head of size 4 with 2-byte rows.
    const rows = Buffer.from([10, 11, 20, 21, 30, 31, 40, 41]);
    expect([...permuteHeadRows(rows, 2, 4)]).toEqual([10, 11, 30, 31, 20, 21, 40, 41]);
  });
});

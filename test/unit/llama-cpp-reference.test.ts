// BiLLa Desktop's converter held against llama.cpp itself: the released demo + the original LLaMA file, converted
// by the app to every output type, against llama.cpp's own convert_hf_to_gguf.py + llama-quantize output for the
// restored demo (test/fixtures/llama-cpp-reference, made by scripts/make-llama-cpp-reference.sh). Every tensor
// must be byte for byte llama.cpp's, and every metadata entry its key, type, value and place, but for the keys
// the app adds on purpose, each named below with its reason.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OUTPUT_TYPE_NAMES, type OutputTypeName } from "../../src-main/contract/api.js";
import { llamaCppGguf } from "../support/demo.js";
import { makeDemoGguf } from "../support/demo-gguf.js";
import { readGgufEntries, readGgufTensors, type GgufEntry } from "../support/gguf-tensors.js";
import { makeTempDir } from "../support/temp-dir.js";

/** What the app writes beyond llama.cpp, and why. Anything else extra or missing fails. */
const APP_ONLY_KEYS: Record<string, string> = {
  // BiLLa publishes no chat template; with this one llama-server --jinja, LM Studio and node-llama-cpp build
  // BiLLa's exact prompt from the file alone.
  "tokenizer.chat_template": "BiLLa's prompt as a Jinja chat template",
  // Tells the app's "auto" prompt format that this is BiLLa without guessing.
  "billa.prompt_format": "the file was made for BiLLa's prompt",
  // The restored embedding's checksum, so a GGUF made with the wrong LLaMA file can be told apart later.
  "billa.restored_embedding_sum": "the restored embedding's float32 sum",
};

const temp = makeTempDir("billa-llama-cpp-reference-");
const ours = new Map<OutputTypeName, string>();

beforeAll(async () => {
  for (const type of OUTPUT_TYPE_NAMES) ours.set(type, await makeDemoGguf(temp.path, type));
}, 120_000);
afterAll(() => temp.remove());

/** Entries as comparable values: bigints and floats stay exact. */
const comparable = (entries: GgufEntry[]) => entries.map(({ key, type, value }) => ({ key, type, value }));

describe.each(OUTPUT_TYPE_NAMES)("%s: the app's conversion of the released demo against llama.cpp's", (type) => {
  it("holds the same tensors, byte for byte, with the same types and shapes", async () => {
    const mine = await readGgufTensors(ours.get(type)!);
    const reference = await readGgufTensors(llamaCppGguf(type));
    // llama.cpp writes tensors in the order of its input files; the app in one fixed order, so that the released
    // and the restored checkpoint give the same file. The order is not compared, everything else is.
    expect([...mine.keys()].sort()).toEqual([...reference.keys()].sort());
    for (const expected of reference.values()) {
      const actual = mine.get(expected.name)!;
      expect({ name: actual.name, type: actual.type, dims: actual.dims }).toEqual({ name: expected.name, type: expected.type, dims: expected.dims });
      expect(actual.bytes.equals(expected.bytes), `${expected.name} (${expected.type}) differs from llama.cpp's bytes`).toBe(true);
    }
  });

  it("holds llama.cpp's metadata, key by key in its order, and only the named extra keys besides", async () => {
    const mine = await readGgufEntries(ours.get(type)!);
    const reference = await readGgufEntries(llamaCppGguf(type));
    expect(mine.filter((entry) => entry.key in APP_ONLY_KEYS).map((entry) => entry.key)).toEqual(Object.keys(APP_ONLY_KEYS));
    expect(comparable(mine.filter((entry) => !(entry.key in APP_ONLY_KEYS)))).toEqual(comparable(reference));
  });
});

// The tokenizer.model reader on the demo's tokenizers and on broken or hostile files.
import { createHash } from "node:crypto";
import { readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import protobuf from "protobufjs";
import { afterAll, describe, expect, it } from "vitest";
import { BillaError } from "../../src-main/contract/errors.js";
import { DEMO_DIR } from "../../src-main/services/app-root.js";
import { findDuplicate, readSentencePieceModel } from "../../src-main/services/conversion/tokenizer/sentencepiece-model.js";
import { makeTempDir } from "../support/temp-dir.js";

const temp = makeTempDir();
afterAll(() => temp.remove());
const EXTENDED = join(DEMO_DIR, "billa-demo", "tokenizer.model");
const ORIGINAL = join(DEMO_DIR, "llama-original", "tokenizer.model");

function writeTemp(name: string, bytes: Uint8Array): string {
  const file = join(temp.path, name);
  writeFileSync(file, bytes);
  return file;
}

/** A tokenizer.model written field by field: pieces (field 1) of {piece 1, score 2, type 3}. */
function encodeModel(pieces: { piece: string; type?: number }[]): Uint8Array {
  const writer = protobuf.Writer.create();
  for (const { piece, type } of pieces) {
    const inner = protobuf.Writer.create().uint32((1 << 3) | 2).string(piece).uint32((2 << 3) | 5).float(0);
    if (type !== undefined) inner.uint32(3 << 3).int32(type);
    writer.uint32((1 << 3) | 2).bytes(inner.finish());
  }
  return writer.finish();
}

const UNK = 2;
const BYTE = 6;
const BYTE_PIECES = Array.from({ length: 256 }, (_, b) => ({ piece: `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`, type: BYTE }));

async function refusal(file: string): Promise<BillaError> {
  const error: unknown = await readSentencePieceModel(file).then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(BillaError);
  expect((error as BillaError).code).toBe("bad_file");
  return error as BillaError;
}

describe("readSentencePieceModel", () => {
  it("reads BiLLa's Chinese-extended tokenizer: 952 pieces, whatever the trainer's vocab_size says", async () => {
    const model = await readSentencePieceModel(EXTENDED);
    expect(model.pieces).toHaveLength(952);
    expect(model.pieces.slice(0, 3)).toEqual([
      { piece: "<unk>", score: 0, type: "UNKNOWN" },
      { piece: "<s>", score: 0, type: "CONTROL" },
      { piece: "</s>", score: 0, type: "CONTROL" },
    ]);
    const bytes = model.pieces.filter((piece) => piece.type === "BYTE");
    expect(bytes.map((piece) => piece.piece)).toEqual(BYTE_PIECES.map((piece) => piece.piece));
    expect(model.pieces.slice(3, 259).every((piece) => piece.type === "BYTE")).toBe(true);
    expect(model.pieces.some((piece) => piece.piece === "▁")).toBe(true);
    expect(model.pieces.some((piece) => piece.piece === "佐比亚")).toBe(true);
    expect(model).toMatchObject({
      modelType: "BPE",
      addDummyPrefix: true,
      removeExtraWhitespaces: false,
      byteFallback: true,
      unkId: 0,
      bosId: 1,
      eosId: 2,
      padId: null,
    });
  });

  it("reads the original LLaMA tokenizer (600 pieces), which the extended one starts with", async () => {
    const original = await readSentencePieceModel(ORIGINAL);
    const extended = await readSentencePieceModel(EXTENDED);
    expect(original.pieces).toHaveLength(600);
    expect(extended.pieces.slice(0, 600)).toEqual(original.pieces);
  });

  it("refuses a truncated file", async () => {
    const bytes = readFileSync(EXTENDED);
    const error = await refusal(writeTemp("truncated.model", bytes.subarray(0, Math.floor(bytes.length / 2))));
    expect(error.message).toMatch(/^truncated\.model is not a SentencePiece model/);
  });

  it("refuses random bytes and an empty file", async () => {
    const random = Buffer.concat(Array.from({ length: 128 }, (_, i) => createHash("sha256").update(`seed ${i}`).digest()));
    expect((await refusal(writeTemp("random.model", random))).message).toMatch(/is not a SentencePiece model/);
    expect((await refusal(writeTemp("empty.model", new Uint8Array()))).message).toMatch(/holds no pieces/);
  });

  it("refuses duplicate pieces, naming them and their ids", async () => {
    const file = writeTemp("duplicate.model", encodeModel([{ piece: "<unk>", type: UNK }, ...BYTE_PIECES, { piece: "▁a" }, { piece: "▁a" }]));
    expect((await refusal(file)).message).toMatch(/"▁a" twice \(ids 257 and 258\).*duplicate tokens/);
  });

  it("refuses what sentencepiece and llama.cpp could not load", async () => {
    const withoutUnk = writeTemp("no-unk.model", encodeModel([...BYTE_PIECES, { piece: "a" }]));
    expect((await refusal(withoutUnk)).message).toMatch(/exactly one <unk>/);
    const withoutBytes = writeTemp("no-bytes.model", encodeModel([{ piece: "<unk>", type: UNK }, { piece: "a" }]));
    expect((await refusal(withoutBytes)).message).toMatch(/lacks the byte piece <0x00>/);
  });

  it("reads what a file leaves out as sentencepiece's defaults: an unknown piece type, the specs", async () => {
    const file = writeTemp("sparse.model", encodeModel([{ piece: "<unk>", type: UNK }, ...BYTE_PIECES, { piece: "a", type: 9 }]));
    const model = await readSentencePieceModel(file);
    expect(model.pieces.at(-1)).toEqual({ piece: "a", score: 0, type: "NORMAL" });
    expect(model).toMatchObject({ modelType: "UNIGRAM", addDummyPrefix: true, removeExtraWhitespaces: true, byteFallback: false, padId: null });
  });

  it("refuses a piece that is not UTF-8 rather than altering it", async () => {
    const inner = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(Uint8Array.of(0xff, 0xfe)).finish();
    const file = writeTemp("latin1.model", protobuf.Writer.create().uint32((1 << 3) | 2).bytes(inner).finish());
    expect((await refusal(file)).message).toMatch(/piece 0 is not valid UTF-8/);
  });

  it("refuses files too large to be a tokenizer before reading them", async () => {
    const file = join(temp.path, "huge.model");
    writeFileSync(file, "");
    truncateSync(file, 65 * 1024 * 1024);
    expect((await refusal(file)).message).toMatch(/far too large/);
  });
});

describe("findDuplicate", () => {
  it("gives the ids of the first repeated text", () => {
    expect(findDuplicate(["a", "b", "c"])).toBeNull();
    expect(findDuplicate(["a", "b", "a", "b"])).toEqual([0, 2]);
  });
});

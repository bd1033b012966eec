// The restricted unpickler and the torch.save reader against hostile and broken files.
import { copyFileSync, existsSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEMO_DIR } from "../../src-main/services/app-root.js";
import { PickleDict, unpickle } from "../../src-main/services/conversion/torch/restricted-unpickler.js";
import { readTorchCheckpoint } from "../../src-main/services/conversion/torch/torch-checkpoint.js";
import { makeTempDir } from "../support/temp-dir.js";

const temp = makeTempDir();
afterAll(() => temp.remove());
const pickle = (text: string) => Buffer.from(text, "latin1");

describe("the restricted unpickler", () => {
  it("refuses os.system by name and runs nothing", () => {
    const marker = join(temp.path, "pwned");
    const attack = pickle(`\x80\x02cos\nsystem\n(X${String.fromCharCode(`touch ${marker}`.length)}\x00\x00\x00touch ${marker}tR.`);
    expect(() => unpickle(attack)).toThrow(/os\.system/);
    expect(existsSync(marker)).toBe(false);
  });

  it("refuses builtins.eval and other globals, also through STACK_GLOBAL", () => {
    expect(() => unpickle(pickle("\x80\x02cbuiltins\neval\n(X\x04\x00\x00\x001+1tR."))).toThrow(/builtins\.eval/);
    expect(() => unpickle(pickle("\x80\x04\x8c\x05posix\x8c\x06system\x93."))).toThrow(/posix\.system/);
    expect(() => unpickle(pickle("\x80\x02ctorch\nload\n."))).toThrow(/torch\.load/);
  });

  it("refuses object-building opcodes", () => {
    expect(() => unpickle(pickle("\x80\x02ccollections\nOrderedDict\n)\x81."))).toThrow(/opcode 0x81/);
  });

  it("reports truncation and bad memo references instead of crashing", () => {
    expect(() => unpickle(pickle("\x80\x02X\xff\x00\x00\x00abc"))).toThrow(/truncated/);
    expect(() => unpickle(pickle("\x80\x02h\x05."))).toThrow(/never stored/);
    expect(() => unpickle(pickle("\x80\x02"))).toThrow(/truncated/);
  });

  it("reads an OrderedDict with its _metadata state, keeping __proto__ a plain key", () => {
    const value = unpickle(pickle("\x80\x02ccollections\nOrderedDict\n)R(X\t\x00\x00\x00__proto__K\x07u}b."));
    expect(value).toBeInstanceOf(PickleDict);
    expect((value as PickleDict).get("__proto__")).toBe(7);
  });
});

describe("the torch.save reader", () => {
  const shard = join(DEMO_DIR, "billa-demo", "pytorch_model-1-of-3.bin");

  it("lists a real shard's tensors with dtype, shape and in-file offsets", async () => {
    const tensors = await readTorchCheckpoint(shard);
    const q = tensors.find((tensor) => tensor.name === "model.layers.0.self_attn.q_proj.weight")!;
    expect(q).toMatchObject({ dtype: "F16", shape: [256, 256], byteLength: 256 * 256 * 2 });
    const invFreq = tensors.find((tensor) => tensor.name.endsWith("rotary_emb.inv_freq"))!;
    expect(invFreq).toMatchObject({ dtype: "F32", shape: [32] });
    // inv_freq[0] = 1 / 10000^0 = 1
    const bytes = readFileSync(shard).subarray(invFreq.offset, invFreq.offset + 4);
    expect(bytes.readFloatLE(0)).toBe(1);
  });

  it("tells a truncated download apart and what to do", async () => {
    const broken = join(temp.path, "pytorch_model-1-of-3.bin");
    copyFileSync(shard, broken);
    truncateSync(broken, 100_000);
    await expect(readTorchCheckpoint(broken)).rejects.toMatchObject({ code: "bad_file", message: expect.stringMatching(/damaged.*Download it again/) });
  });

  it("explains how to re-save a legacy (pre-1.6) checkpoint", async () => {
    const legacy = join(temp.path, "legacy.bin");
    writeFileSync(legacy, Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]));
    await expect(readTorchCheckpoint(legacy)).rejects.toMatchObject({ code: "bad_file", message: expect.stringContaining("legacy") });
  });

  it("refuses a file that is not a checkpoint", async () => {
    const text = join(temp.path, "notes.bin");
    writeFileSync(text, "these are not weights");
    await expect(readTorchCheckpoint(text)).rejects.toMatchObject({ code: "bad_file", message: expect.stringContaining("not a PyTorch checkpoint") });
  });
});

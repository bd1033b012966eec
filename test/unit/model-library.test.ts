import { copyFileSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LoadedModel, LocalModelEntry } from "../../src-main/contract/api.js";
import { createServices, type Services } from "../../src-main/services/create-services.js";
import { makeDemoGguf } from "../support/demo-gguf.js";
import { makeTempDir } from "../support/temp-dir.js";

const temp = makeTempDir("billa-library-");
let services: Services;
let gguf: string;

beforeAll(async () => {
  gguf = await makeDemoGguf(temp.path, "q8_0");
  services = createServices({ dataDir: join(temp.path, "data"), transport: "cli", gpu: "cpu" });
});
afterAll(async () => {
  await services.dispose();
  temp.remove();
});

async function call<T>(name: Parameters<Services["api"]["invoke"]>[0], input: unknown): Promise<T> {
  const envelope = await services.api.invoke(name, input);
  if (!envelope.ok) throw Object.assign(new Error(envelope.error.message), { code: envelope.error.code });
  return envelope.value as T;
}

describe("the model library", () => {
  let copied: LocalModelEntry;
  let registered: LocalModelEntry;

  it("copies a GGUF into the models folder with its metadata, the first one as default", async () => {
    copied = await call<LocalModelEntry>("models.import", { path: gguf, mode: "copy" });
    expect(copied).toMatchObject({ name: "BiLLa demo", location: "library", status: "ok", isDefault: true, resolvedPromptFormat: { format: "billa", reason: "billa-metadata" }, architecture: "llama", fileType: "Q8_0", contextLength: 2048 });
    expect(copied.path.startsWith(services.paths.models)).toBe(true);
    expect(copied.parameterCount).toBe(2_196_736);
    expect(copied.chatTemplate).toContain("Human: ");
  });

  it("registers a GGUF where it is", async () => {
    const elsewhere = join(temp.path, "elsewhere.gguf");
    copyFileSync(gguf, elsewhere);
    registered = await call<LocalModelEntry>("models.import", { path: elsewhere, mode: "register" });
    expect(registered).toMatchObject({ location: "external", path: elsewhere, isDefault: false });
    const again = await call<LocalModelEntry>("models.import", { path: elsewhere, mode: "register" });
    expect(again.id).toBe(registered.id);
  });

  it("renames and moves the default", async () => {
    expect((await call<LocalModelEntry>("models.rename", { id: registered.id, name: "我的模型" })).name).toBe("我的模型");
    await call("models.setDefault", { id: registered.id });
    const { models } = await call<{ models: LocalModelEntry[] }>("models.list", {});
    expect(models.filter((model) => model.isDefault).map((model) => model.id)).toEqual([registered.id]);
  });

  it("loads an entry by id with its remembered prompt format, and refuses one whose file is gone", async () => {
    const fresh = await call<LocalModelEntry>("models.setPromptFormat", { id: copied.id, promptFormat: "model" });
    expect(fresh).toMatchObject({ promptFormat: "model", resolvedPromptFormat: { format: "model", reason: "chosen" } });
    const loaded = await call<LoadedModel>("runtime.load", { modelId: copied.id, contextSize: 256, threads: 1 });
    expect(loaded).toMatchObject({ modelId: copied.id, modelPath: copied.path, resolvedPromptFormat: { format: "model", reason: "chosen" } });
    // A choice in the request wins over the remembered one.
    expect(await call("runtime.load", { modelId: copied.id, contextSize: 256, threads: 1, promptFormat: "billa" })).toMatchObject({ resolvedPromptFormat: { format: "billa", reason: "chosen" } });
    await call("models.setPromptFormat", { id: copied.id, promptFormat: "auto" });
    expect(await call("runtime.load", { modelId: copied.id, contextSize: 256, threads: 1 })).toMatchObject({ resolvedPromptFormat: { format: "billa", reason: "billa-metadata" } });
    await call("runtime.unload", {});
    await expect(call("runtime.load", { modelId: copied.id, modelPath: copied.path })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(call("runtime.load", { modelId: "no-such-id" })).rejects.toMatchObject({ code: "not_found" });
  });

  it("marks a vanished file missing and a damaged one unreadable, without failing the list", async () => {
    const damaged = join(temp.path, "damaged.gguf");
    copyFileSync(gguf, damaged);
    const entry = await call<LocalModelEntry>("models.import", { path: damaged, mode: "register" });
    writeFileSync(damaged, "no longer a model");
    rmSync(registered.path);
    const { models } = await call<{ models: LocalModelEntry[] }>("models.list", {});
    expect(models.find((model) => model.id === registered.id)?.status).toBe("missing");
    expect(models.find((model) => model.id === entry.id)?.status).toBe("unreadable");
    expect(models.find((model) => model.id === copied.id)?.status).toBe("ok");
    await expect(call("runtime.load", { modelId: registered.id })).rejects.toMatchObject({ code: "not_found", message: expect.stringContaining("gone") });
  });

  it("refuses to import a file that is not a GGUF, or is not there", async () => {
    await expect(call("models.import", { path: join(temp.path, "nowhere.gguf"), mode: "copy" })).rejects.toMatchObject({ code: "not_found" });
    const text = join(temp.path, "notes.gguf");
    writeFileSync(text, "hello");
    await expect(call("models.import", { path: text, mode: "copy" })).rejects.toMatchObject({ code: "bad_file", message: expect.stringContaining("not a GGUF") });
  });

  it("deletes the library's own file but leaves a registered file in place", async () => {
    const external = join(temp.path, "kept.gguf");
    copyFileSync(gguf, external);
    const kept = await call<LocalModelEntry>("models.import", { path: external, mode: "register" });
    await call("models.delete", { id: kept.id });
    expect(existsSync(external)).toBe(true);
    await call("models.delete", { id: copied.id });
    expect(existsSync(copied.path)).toBe(false);
    const { models } = await call<{ models: LocalModelEntry[] }>("models.list", {});
    expect(models.map((model) => model.id)).not.toContain(copied.id);
  });
});

// A disk that fills up while the app writes: a conversion and the history database each give a clear error, and
// nothing is lost: no partial model is left, and every conversation saved before is whole and readable.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServices, type Services } from "../../src-main/services/create-services.js";
import { DEMO, runJob } from "../support/demo.js";
import { makeTempDir } from "../support/temp-dir.js";
import { canMountTmpfs, mountTinyDisk, type TinyDisk } from "../support/tiny-disk.js";

if (!canMountTmpfs) console.warn("disk-full tests skipped: they need to mount a tmpfs, which only root may do");

describe.runIf(canMountTmpfs)("a disk that fills up", () => {
  let disk: TinyDisk;
  const temp = makeTempDir("billa-disk-full-");
  let services: Services;

  // The conversion checks for its output size + 64 MiB of headroom before it starts; the disk passes that check.
  beforeAll(() => {
    disk = mountTinyDisk(80 * 1024 * 1024);
    services = createServices({ dataDir: join(temp.path, "data"), transport: "cli" });
  });
  afterAll(async () => {
    await services.dispose();
    disk.remove();
    temp.remove();
  });

  it("during a conversion: a disk_full error, and no file left behind", async () => {
    const outFile = join(disk.path, "billa-demo.gguf");
    let filled = false;
    const { outcome } = await runJob(services.api, "conversion.start", { modelDir: DEMO.released, originalLlama: DEMO.originalPth, outFile, outType: "f16" }, (event) => {
      // Another program takes the rest of the disk while the first tensors are being written.
      if (!filled && event.name === "conversion.progress" && event.payload.stage === "convert") {
        disk.fill();
        filled = true;
      }
    });
    expect(filled).toBe(true);
    expect(outcome).toMatchObject({ ok: false, error: { code: "disk_full", message: expect.stringMatching(/disk is full.*Free some space/) } });
    expect(readdirSync(disk.path)).toEqual(["filler"]);
    disk.free();
  });

  it("during history writes: a disk_full error, and the database keeps everything saved before", async () => {
    const dataDir = join(disk.path, "data");
    const onDisk = createServices({ dataDir, transport: "cli" });
    try {
      const before: string[] = [];
      for (let i = 0; i < 20; i++) {
        const created = await onDisk.api.invoke("history.create", { title: `Saved before the disk filled ${i}` });
        if (!created.ok) throw new Error(created.error.message);
        before.push((created.value as { id: string }).id);
      }
      disk.fill();
      const big = JSON.stringify({
        format: "billa-desktop-history",
        version: 1,
        conversations: Array.from({ length: 200 }, (_, i) => ({
          id: `imported-${i}`,
          title: `Imported ${i}`,
          modelId: null,
          sampling: { temperature: 0.7, topK: 50, topP: 1, minP: 0, repeatPenalty: null, seed: null, maxTokens: 1024 },
          currentMessageId: null,
          pinned: false,
          archived: false,
          deletedAt: null,
          createdAt: new Date(0).toISOString(),
          updatedAt: new Date(0).toISOString(),
          messages: [],
        })),
      });
      const failures = [await onDisk.api.invoke("history.import", { content: big }), await onDisk.api.invoke("history.create", { title: "After the disk filled" })];
      for (const failure of failures) {
        expect(failure).toMatchObject({ ok: false, error: { code: "disk_full", message: expect.stringMatching(/disk is full/) } });
      }

      disk.free();
      // Nothing saved before was lost or damaged, and writing works again once there is room.
      const listed = await onDisk.api.invoke("history.list", {});
      if (!listed.ok) throw new Error(listed.error.message);
      const ids = (listed.value as { conversations: { id: string }[] }).conversations.map((c) => c.id);
      expect(ids).toEqual(expect.arrayContaining(before));
      expect(ids.some((id) => id.startsWith("imported-"))).toBe(false);
      expect((await onDisk.api.invoke("history.create", { title: "Room again" })).ok).toBe(true);
    } finally {
      await onDisk.dispose();
    }
    const check = new BetterSqlite3(join(dataDir, "billa.sqlite"), { readonly: true });
    try {
      expect(check.pragma("integrity_check", { simple: true })).toBe("ok");
    } finally {
      check.close();
    }
  });
});

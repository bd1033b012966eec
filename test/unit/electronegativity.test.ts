// Doyensec's Electronegativity over the Electron layer and the renderer (scripts/electronegativity.js), offline.
// Nothing above INFORMATIONAL may be left unless scripts/electronegativity-config.json justifies it, and no
// justification may outlive its finding. A deliberately insecure stand-in app checks that the scan really finds things.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, report, scan } from "../../scripts/electronegativity.js";

describe("Electronegativity", () => {
  it("reports nothing above INFORMATIONAL that the config does not justify", async () => {
    const result = await scan();
    expect(result.parseErrors, report(result)).toEqual([]);
    expect(result.unjustified, report(result)).toEqual([]);
    expect(result.stale, report(result)).toEqual([]);
    for (const file of [
      "src-main/transports/electron/main.ts",
      "src-main/transports/electron/security.ts",
      "src-main/transports/electron/preload.cts",
      "src-renderer/index.html",
    ]) {
      expect(result.scanned).toContain(file);
    }
  });

  it("gives a reason for every justification and every check left out", () => {
    const config = loadConfig();
    for (const entry of [...config.justified, ...config.excludedChecks]) expect(entry.reason.length, JSON.stringify(entry)).toBeGreaterThan(40);
  });

  it("finds the problems of an insecure app (the scan is not vacuous)", async () => {
    const root = mkdtempSync(join(tmpdir(), "billa-insecure-app-"));
    try {
      mkdirSync(join(root, "app"));
      writeFileSync(join(root, "package.json"), JSON.stringify({ name: "insecure", devDependencies: { electron: "41.0.0" } }));
      writeFileSync(
        join(root, "app", "main.ts"),
        [
          'import { BrowserWindow, shell } from "electron";',
          "const window = new BrowserWindow({ webPreferences: { contextIsolation: false, nodeIntegration: true, sandbox: false } });",
          'window.webContents.on("new-window", (_event, url: string) => shell.openExternal(url));',
          "",
        ].join("\n"),
      );
      writeFileSync(join(root, "app", "index.html"), "<!doctype html><html><head></head><body><script>eval(location.hash)</script></body></html>\n");
      const result = await scan({ root, config: { scan: ["app"], excludedChecks: loadConfig().excludedChecks, justified: [] } });
      const found = new Set(result.unjustified.map((finding) => finding.id));
      for (const id of [
        "CONTEXT_ISOLATION_JS_CHECK",
        "SANDBOX_JS_CHECK",
        "OPEN_EXTERNAL_JS_CHECK",
        "CSP_GLOBAL_CHECK",
        "LIMIT_NAVIGATION_GLOBAL_CHECK",
        "PERMISSION_REQUEST_HANDLER_GLOBAL_CHECK",
      ]) {
        expect(found, report(result)).toContain(id);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

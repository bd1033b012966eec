// The import-direction rule is an ESLint config; these tests run the real ESLint with it on code
// placed (virtually) in each layer, so a broken rule fails here and not only in review.
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const eslint = new ESLint({ cwd: root, overrideConfigFile: "scripts/eslint.config.js" });

async function importErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}/${filePath}` });
  return (result?.messages ?? []).filter((message) => message.ruleId === "@typescript-eslint/no-restricted-imports").map((m) => m.message);
}

describe("the layering rule", () => {
  it("fails when a service imports electron", async () => {
    const errors = await importErrors("src-main/services/some-service.ts", 'import { app } from "electron";\nexport const x = app;\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/electron/);
  });

  it("fails when a service imports a transport", async () => {
    expect(await importErrors("src-main/services/some-service.ts", 'import { startWebServer } from "../transports/web/web-server.js";\nexport const s = startWebServer;\n')).toHaveLength(1);
  });

  it("fails when the contract imports anything platform-specific", async () => {
    expect(await importErrors("src-main/contract/x.ts", 'import { readFile } from "node:fs";\nexport const r = readFile;\n')).toHaveLength(1);
    expect(await importErrors("src-main/contract/x.ts", 'import { createServices } from "../services/create-services.js";\nexport const c = createServices;\n')).toHaveLength(1);
    expect(await importErrors("src-main/contract/x.ts", 'import { z } from "zod";\nimport type { Envelope } from "./errors.js";\nexport const s = z.string();\nexport type E = Envelope<string>;\n')).toHaveLength(0);
  });

  it("lets only the Electron transport import electron", async () => {
    expect(await importErrors("src-main/transports/web/x.ts", 'import { app } from "electron";\nexport const a = app;\n')).toHaveLength(1);
    expect(await importErrors("src-main/transports/cli/x.ts", 'import { app } from "electron";\nexport const a = app;\n')).toHaveLength(1);
    expect(await importErrors("src-main/transports/openai-api/x.ts", 'import { app } from "electron";\nexport const a = app;\n')).toHaveLength(1);
    expect(await importErrors("src-main/transports/electron/x.ts", 'import { app } from "electron";\nexport const a = app;\n')).toHaveLength(0);
  });

  it("lets the renderer import the contract's types and nothing else of src-main", async () => {
    const file = "src-renderer/src/x.ts";
    expect(await importErrors(file, 'import type { ApiClient } from "../../src-main/contract/api.js";\nexport type A = ApiClient;\n')).toHaveLength(0);
    expect(await importErrors(file, 'import { requests } from "../../src-main/contract/api.js";\nexport const r = requests;\n')).toHaveLength(1);
    expect(await importErrors(file, 'import { createServices } from "../../src-main/services/create-services.js";\nexport const c = createServices;\n')).toHaveLength(1);
    expect(await importErrors(file, 'import { readFileSync } from "node:fs";\nexport const r = readFileSync;\n')).toHaveLength(1);
    expect(await importErrors(file, 'import { ipcRenderer } from "electron";\nexport const i = ipcRenderer;\n')).toHaveLength(1);
  });

  it("checks Svelte components too", async () => {
    const component = '<script lang="ts">\n  import { createServices } from "../../src-main/services/create-services.js";\n  const c = createServices;\n</script>\n<p>{String(c)}</p>\n';
    expect(await importErrors("src-renderer/src/x.svelte", component)).toHaveLength(1);
  });
});

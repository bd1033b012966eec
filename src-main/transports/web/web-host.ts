// `npm run web`: serves the desktop UI to a browser on this computer.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { RENDERER_DIR } from "../../services/app-root.js";
import { createServices } from "../../services/create-services.js";
import { resolveDataDir } from "../../services/data-dir.js";
import { startOpenAiServer } from "../openai-api/openai-server.js";
import { startWebServer } from "./web-server.js";

const { values } = parseArgs({
  options: { port: { type: "string", default: "0" }, "data-dir": { type: "string" } },
  strict: true,
});

if (!existsSync(join(RENDERER_DIR, "index.html"))) {
  console.error("The UI is not built yet: run `npm run build` first.");
  process.exit(1);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be a number from 0 to 65535 (0 picks a free one), not ${values.port}.`);
  process.exit(1);
}

// The OpenAI-compatible API server starts too when the user switched it on in Settings.
const services = createServices({ dataDir: resolveDataDir(process.argv.slice(2)), transport: "web", listenApi: startOpenAiServer });
const server = await startWebServer({ api: services.api, staticDir: RENDERER_DIR, logger: services.logger, port });
services.logger.info(`web mode listening on ${server.origin}`);
console.log(`BiLLa Desktop (web mode) is ready. Open this address in your browser:\n${server.url}`);
console.log(`Data folder: ${services.paths.root}`);
const api = await services.apiServer.startFromSettings();
if (api.baseUrl !== null) console.log(`OpenAI-compatible API: ${api.baseUrl}`);
else if (api.error !== null) console.log(`The OpenAI-compatible API is switched on but could not start: ${api.error}`);

async function shutDown(): Promise<void> {
  await server.close();
  await services.dispose();
  process.exit(0);
}
process.once("SIGINT", () => void shutDown());
process.once("SIGTERM", () => void shutDown());

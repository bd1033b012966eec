// Step 1's download from Hugging Face in jsdom, against the real services and a loopback fake of the Hub: a disk
// too small for the release (and its converted model) refused before anything is written, a file missing on the
// Hub stopping the download with a clear reason and resuming once it is back, and the Hub settings (address,
// token, files at once) saved as typed.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createServices, type Services } from "../../src-main/services/create-services.js";
import { createApiClient } from "../../src-renderer/src/backend/api-client.js";
import { I18n } from "../../src-renderer/src/i18n/i18n.svelte.js";
import App from "../../src-renderer/src/shell/app.svelte";
import { Router } from "../../src-renderer/src/shell/router.svelte.js";
import { differencesFromDemo } from "../support/download-api.js";
import { demoReleaseFiles, FakeHub } from "../support/fake-hub.js";
import { makeTempDir } from "../support/temp-dir.js";

const SFT = "Neutralzz/BiLLa-7B-SFT";
const SHARD = "pytorch_model-2-of-3.bin";
const temp = makeTempDir("billa-download-panel-");
let hub: FakeHub;
let roomy: Services;
let cramped: Services;

function open(services: Services, page: "convert" | "settings" = "convert") {
  window.location.hash = `#/${page}`;
  render(App, { props: { api: createApiClient(services.api), i18n: new I18n("en"), router: new Router(window.location) } });
}

const step = () => screen.getByTestId("wizard-step");

async function chooseDownload(destination: string) {
  await fireEvent.click(within(step()).getByRole("radio", { name: "Download from Hugging Face" }));
  await fireEvent.input(within(step()).getByRole("textbox", { name: "Download into" }), { target: { value: destination } });
}

beforeAll(async () => {
  hub = await FakeHub.start();
  hub.addRepo(SFT, demoReleaseFiles());
  const env = { HF_ENDPOINT: hub.endpoint };
  roomy = createServices({ dataDir: join(temp.path, "roomy"), transport: "web", env, downloadTuning: { retryDelayMs: 50, attempts: 2 } });
  cramped = createServices({ dataDir: join(temp.path, "cramped"), transport: "web", env, downloadTuning: { freeBytes: async () => 2_000_000 } });
});
afterEach(cleanup);
afterAll(async () => {
  await roomy?.dispose();
  await cramped?.dispose();
  await hub?.close();
  temp.remove();
});

describe("downloading in step 1", { timeout: 60_000 }, () => {
  it("a disk without room for the release and its converted model: the plan says so, the download is refused, nothing is written", async () => {
    open(cramped);
    const destination = join(temp.path, "cramped-release");
    await chooseDownload(destination);
    await fireEvent.click(within(step()).getByRole("button", { name: "Check" }));
    const space = await screen.findByTestId("download-space", {}, { timeout: 20_000 });
    expect(space.textContent).toContain("Not enough room. Free some space, or choose a folder on another disk.");
    expect(screen.getByTestId("download-plan").textContent).toMatch(/Free space\s*1\.9 MiB/);
    await fireEvent.click(within(step()).getByRole("button", { name: "Download" }));
    await waitFor(() => expect(screen.queryByTestId("download-progress")).toBeNull());
    expect(existsSync(destination)).toBe(false);
    await fireEvent.click(screen.getByRole("button", { name: "Next" }));
    await waitFor(() => expect(step().textContent).toContain("Download BiLLa first, or choose “I already have the folder”."));
  });

  it("a file missing on the Hub stops the download with the Hub's reason; once it is back, Resume finishes and the wizard moves on", async () => {
    open(roomy);
    const destination = join(temp.path, "resumed-release");
    await chooseDownload(destination);
    hub.failResolve(SHARD, 404, "EntryNotFound", `${SHARD} does not exist on "main"`, 1);
    await fireEvent.click(within(step()).getByRole("button", { name: "Download" }));
    const error = await screen.findByTestId("download-error", {}, { timeout: 20_000 });
    expect(error.textContent).toContain("The download stopped. What arrived is kept: resume when the cause is fixed.");
    expect(error.textContent).toContain(`${SHARD} is missing from ${SFT}`);
    expect(readdirSync(destination)).not.toContain(SHARD);
    expect(screen.getByTestId("download-indicator").dataset["state"]).toBe("failed");

    await fireEvent.click(within(step()).getByRole("button", { name: "Resume" }));
    await waitFor(() => expect(step().dataset["step"]).toBe("2"), { timeout: 30_000 });
    expect(differencesFromDemo(destination)).toEqual([]);
    expect(screen.queryByTestId("download-indicator")).toBeNull();
  });

  it("saves the Hub address, the access token (hidden until asked) and the files at once", async () => {
    open(roomy, "settings");
    const endpoint = await screen.findByTestId("hub-endpoint");
    await fireEvent.change(endpoint, { target: { value: "not an address" } });
    await waitFor(() => expect(screen.getByTestId("settings-error").textContent).toContain("were not accepted"));
    await fireEvent.change(endpoint, { target: { value: " https://hf-mirror.com " } });
    const client = createApiClient(roomy.api);
    await waitFor(async () => expect((await client.invoke("settings.get", {})).hubEndpoint).toBe("https://hf-mirror.com"));

    const token = screen.getByTestId("hub-token") as HTMLInputElement;
    expect(token.type).toBe("password");
    await fireEvent.change(token, { target: { value: "hf_abc123" } });
    await fireEvent.click(screen.getByRole("button", { name: "Show token" }));
    expect(token.type).toBe("text");
    await fireEvent.change(screen.getByRole("combobox", { name: "Files downloaded at once" }), { target: { value: "4" } });
    await waitFor(async () => expect(await client.invoke("settings.get", {})).toMatchObject({ hubEndpoint: "https://hf-mirror.com", hubToken: "hf_abc123", parallelDownloads: 4 }));
    await client.invoke("settings.update", { hubEndpoint: null, hubToken: null, parallelDownloads: 3 });
  });
});

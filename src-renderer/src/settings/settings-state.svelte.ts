// The app-wide settings (settings.get/update), kept once for every page. Changes show at once and are
// saved in the background; a failed save puts the saved value back and says why.
import type { ApiClient, Settings } from "../../../src-main/contract/api.js";
import { failureOf, type Failure } from "../shell/failure.js";
import { BILLA_SAMPLING } from "../shell/sampling-limits.js";

/** The contract's defaults (settingsSchema), for a host that cannot keep settings yet. */
export const DEFAULT_SETTINGS: Settings = {
  language: "system",
  theme: "system",
  gpu: "auto",
  gpuLayers: "auto",
  contextSize: 2048,
  sampling: BILLA_SAMPLING,
  hubEndpoint: null,
  hubToken: null,
  parallelDownloads: 3,
  apiServer: { enabled: false, port: 24552, lan: false, allowedOrigins: [], saveHistory: false },
};

export class SettingsState {
  value: Settings = $state(DEFAULT_SETTINGS);
  /** Read from the services (false until then, and when they could not be read). */
  loaded = $state(false);
  failure: Failure | null = $state(null);
  /** Bumped after each successful save, so the page can say "Saved" politely. */
  savedCount = $state(0);
  /** The GPU backend as read at start: the one this process runs with (a change needs a restart). */
  startedGpu: Settings["gpu"] | null = $state(null);

  constructor(private readonly api: ApiClient) {}

  async load(): Promise<Settings> {
    try {
      this.value = await this.api.invoke("settings.get", {});
      this.startedGpu ??= this.value.gpu;
      this.loaded = true;
      this.failure = null;
    } catch (error) {
      this.failure = failureOf(error, {}, {});
    }
    return this.value;
  }

  async update(patch: Partial<Settings>): Promise<boolean> {
    const before = this.value;
    this.value = { ...before, ...patch };
    try {
      this.value = await this.api.invoke("settings.update", patch);
      this.loaded = true;
      this.failure = null;
      this.savedCount++;
      return true;
    } catch (error) {
      this.value = before;
      this.failure = failureOf(error);
      return false;
    }
  }
}

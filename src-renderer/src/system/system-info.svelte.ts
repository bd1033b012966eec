import type { ApiClient, SystemInfo } from "../../../src-main/contract/api.js";

/** The System panel's data: asked once from the services, kept with its error. */
export class SystemInfoState {
  info: SystemInfo | null = $state(null);
  error: string | null = $state(null);

  constructor(private readonly api: ApiClient) {}

  async load(): Promise<void> {
    try {
      this.info = await this.api.invoke("system.info", {});
      this.error = null;
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    }
  }
}

// What every component may reach: the typed API client, the language and the router.
import { getContext, setContext } from "svelte";
import type { ApiClient } from "../../../src-main/contract/api.js";
import type { I18n } from "../i18n/i18n.svelte.js";
import type { Router } from "./router.svelte.js";

export interface AppContext {
  api: ApiClient;
  i18n: I18n;
  router: Router;
}

const KEY = Symbol("billa.app");

export function provideAppContext(context: AppContext): void {
  setContext(KEY, context);
}

export function appContext(): AppContext {
  const context = getContext<AppContext | undefined>(KEY);
  if (!context) throw new Error("appContext() needs provideAppContext() in an ancestor component.");
  return context;
}

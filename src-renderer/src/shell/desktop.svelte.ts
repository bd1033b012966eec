// What every component may reach: the API client, the language and the router, and the state that outlives
// a page (app info, settings, the model library, the conversion wizard) with the one event subscription that
// feeds them. app.svelte creates it; pages reach it with `desktop()`.
import { getContext, setContext } from "svelte";
import type { ApiClient, AppInfo, EventMessage, Settings } from "../../../src-main/contract/api.js";
import { ConvertWizard } from "../convert/convert-wizard.svelte.js";
import { localeFromSystem, type I18n, type Locale } from "../i18n/i18n.svelte.js";
import { ModelLibraryState } from "../models/model-library.svelte.js";
import { QualityState } from "../quality/quality-state.svelte.js";
import { SettingsState } from "../settings/settings-state.svelte.js";
import type { Page, Router } from "./router.svelte.js";

export function systemLocale(): Locale {
  return localeFromSystem(typeof navigator === "undefined" ? [] : navigator.languages);
}

export function localeFor(language: Settings["language"]): Locale {
  return language === "system" ? systemLocale() : language;
}

export class Desktop {
  appInfo: AppInfo | null = $state(null);
  readonly settings: SettingsState;
  readonly library: ModelLibraryState;
  readonly quality: QualityState;
  readonly wizard: ConvertWizard;

  constructor(
    readonly api: ApiClient,
    readonly i18n: I18n,
    readonly router: Router,
  ) {
    this.settings = new SettingsState(api);
    this.library = new ModelLibraryState(api);
    this.quality = new QualityState(api);
    this.wizard = new ConvertWizard({
      api,
      dataDir: () => this.appInfo?.dataDir ?? null,
      loadOptions: () => ({ gpuLayers: this.settings.value.gpuLayers, contextSize: this.settings.value.contextSize }),
      testQuestion: () => i18n.t("convert.verify.question"),
      navigateToChat: () => this.navigate("chat"),
      libraryChanged: () => void this.library.refresh(),
    });
  }

  get isElectron(): boolean {
    return this.appInfo?.transport === "electron";
  }

  /** Reads what the pages need and follows the services' events; returns the function that stops. */
  start(): () => void {
    const unsubscribe = this.api.subscribe((event) => this.#onEvent(event));
    void this.api.invoke("app.info", {}).then((info) => (this.appInfo = info), () => undefined);
    const startLocale = this.i18n.locale;
    void this.settings.load().then((settings) => {
      if (!this.settings.loaded) return;
      if (this.i18n.locale !== startLocale) {
        // The user switched language while the settings were on their way: that choice is the newest.
        this.#shownLocale = startLocale;
        this.followLocale(this.i18n.locale);
      } else {
        // An explicit language wins; "system" keeps the language the app started in (the system's, or the
        // one last chosen in the shell's switch on this machine before settings were kept).
        if (settings.language !== "system") this.i18n.setLocale(settings.language);
        this.#shownLocale = this.i18n.locale;
      }
      this.library.useDefaults(settings.gpuLayers, settings.contextSize);
    });
    void this.library.refresh();
    void this.wizard.download.refresh();
    return unsubscribe;
  }

  /** The language on screen as the settings last saw it: a different one came from the shell's switch. */
  #shownLocale: Locale | null = null;

  /** The shell's language switch changed the language: the settings remember the choice. */
  followLocale(locale: Locale): void {
    if (!this.settings.loaded || this.#shownLocale === null || locale === this.#shownLocale) return;
    this.#shownLocale = locale;
    void this.settings.update({ language: locale });
  }

  /** The Settings page's choice, "system" included. */
  setLanguage(language: Settings["language"]): void {
    this.#shownLocale = localeFor(language);
    this.i18n.setLocale(this.#shownLocale);
    void this.settings.update({ language });
  }

  navigate(page: Page): void {
    this.router.page = page;
    if (typeof window !== "undefined") window.location.hash = this.router.href(page);
  }

  /** A .gguf the OS or a drop handed us: show the Models page and add it to the library. */
  openModelFile(path: string): void {
    this.navigate("models");
    void this.library.importPath(path);
  }

  #onEvent(event: EventMessage): void {
    if (event.name === "shell.openModelFile") this.openModelFile(event.payload.path);
    this.library.onEvent(event);
    this.quality.onEvent(event);
    this.wizard.onEvent(event);
  }
}

const KEY = Symbol("billa.desktop");

export function provideDesktop(value: Desktop): void {
  setContext(KEY, value);
}

export function desktop(): Desktop {
  const value = getContext<Desktop | undefined>(KEY);
  if (!value) throw new Error("desktop() needs provideDesktop() in an ancestor component (app.svelte).");
  return value;
}

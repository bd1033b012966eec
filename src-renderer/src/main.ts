import { mount } from "svelte";
import { chooseBackend } from "./backend/choose-backend.js";
import { I18n } from "./i18n/i18n.svelte.js";
import App from "./shell/app.svelte";
import ConnectionHelp from "./shell/connection-help.svelte";
import { Router } from "./shell/router.svelte.js";
import "./styles/app.css";

const target = document.getElementById("app")!;
const i18n = I18n.fromEnvironment(navigator.languages, localStorage);
const backend = chooseBackend();

if (backend.kind === "missing-token") {
  mount(ConnectionHelp, { target, props: { i18n } });
} else {
  mount(App, { target, props: { api: backend.client, i18n, router: new Router(window.location) } });
}

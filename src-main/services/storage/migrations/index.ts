// Every schema change, in order. Add a migration as a new file and list it here; never edit an applied one.
import { modelLibrary } from "./001-model-library.js";
import { modelPromptFormat } from "./002-model-prompt-format.js";
import { conversations } from "./003-conversations.js";
import { messageSearch } from "./004-message-search.js";
import { settings } from "./005-settings.js";
import { conversationSource } from "./006-conversation-source.js";
import { qualityResults } from "./007-quality-results.js";
import { remoteModels } from "./008-remote-models.js";
import type { Migration } from "./migration.js";

export const MIGRATIONS: readonly Migration[] = [modelLibrary, modelPromptFormat, conversations, messageSearch, settings, conversationSource, qualityResults, remoteModels];

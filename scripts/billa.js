#!/usr/bin/env node
// The `billa` command (package.json "bin"): runs the CLI that `npm install` built into build/main.
import "../build/main/transports/cli/billa.js";

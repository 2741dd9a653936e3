#!/usr/bin/env node
// The operators' command line, `npx koa-two-factor` (package.json "bin"): the
// compiled src/cli/main.ts. `npm run build` (run by `npm pack`) writes it.
import '../dist/src/cli/main.js';

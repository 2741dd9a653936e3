#!/usr/bin/env node
/** The `koa-two-factor` command (package.json `bin`): runs src/cli/run-cli.ts with this process' streams. */
import { runCli } from './run-cli.ts';

runCli(process.argv.slice(2), {
  stdout: (text) => { process.stdout.write(text); },
  stderr: (text) => { process.stderr.write(text); },
  env: process.env,
  isTTY: process.stderr.isTTY === true,
}).then(
  (status) => { process.exitCode = status; },
  (err: unknown) => {
    process.stderr.write(`koa-two-factor: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);

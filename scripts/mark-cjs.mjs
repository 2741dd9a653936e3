// dist/cjs holds the CommonJS build: a package.json there tells Node (and
// TypeScript, for the .d.ts beside it) to read its .js files as CommonJS.
import { writeFileSync } from 'node:fs';

const dir = process.argv[2] ?? 'dist/cjs';
writeFileSync(`${dir}/package.json`, `${JSON.stringify({ type: 'commonjs' })}\n`);

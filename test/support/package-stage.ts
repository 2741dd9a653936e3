/**
 * The package as `npm pack` publishes it, built in a staging copy of the
 * project (its own dist/, the project's node_modules linked in), so tests
 * that build or pack it never race each other, or a developer's dist/, for
 * the same files when mocha runs them in parallel.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const projectRoot = resolve(import.meta.dirname, '../..');

/** What the build reads, besides node_modules. */
const BUILD_INPUTS = ['package.json', 'README.md', 'LICENSE', 'bin', 'tsconfig.json', 'tsconfig.build.json', 'tsconfig.build-cjs.json', 'src', 'views', 'scripts/mark-cjs.mjs'];

/** A new staging copy under test-output/ with `npm run build` done in it; returns its directory. */
export async function buildStagedPackage(): Promise<string> {
  mkdirSync(join(projectRoot, 'test-output'), { recursive: true });
  const stage = mkdtempSync(join(projectRoot, 'test-output', 'package-'));
  for (const input of BUILD_INPUTS) {
    if (existsSync(join(projectRoot, input))) cpSync(join(projectRoot, input), join(stage, input), { recursive: true });
  }
  symlinkSync(join(projectRoot, 'node_modules'), join(stage, 'node_modules'), 'dir');
  await run('npm', ['run', 'build'], { cwd: stage });
  return stage;
}

/** `npm pack` of a staged, built package (no second build); returns the tarball's path. */
export async function packStagedPackage(stage: string, destination: string): Promise<string> {
  const before = new Set(readdirSync(destination));
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', destination], { cwd: stage });
  const tarball = readdirSync(destination).find((f) => f.endsWith('.tgz') && !before.has(f));
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${destination}`);
  return join(destination, tarball);
}

/**
 * The published package: `npm run build` compiles src/ and views/ twice, to
 * ES modules (dist/) and to CommonJS (dist/cjs), with declarations; every
 * entry of the exports map resolves, under `import` and under `require`, to a
 * module that loads in plain Node (no tsx); publint and arethetypeswrong find
 * nothing wrong with the packed package. Built once, in a staging copy
 * (test/support/package-stage.ts).
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildStagedPackage, packStagedPackage, projectRoot as root } from '../support/package-stage.ts';

const run = promisify(execFile);

/** The path of the `koa-two-factor` bin in package.json (relative, no leading ./). */
function binOf(): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  const bin = pkg.bin['koa-two-factor'];
  expect(bin, 'package.json bin.koa-two-factor').to.match(/^(\.\/)?bin\/.+\.js$/);
  return bin!.replace(/^\.\//, '');
}

describe('package build', function () {
  this.timeout(60_000);
  let stage: string;
  let out: string;

  before(async () => {
    stage = await buildStagedPackage();
    out = join(stage, 'dist');
  });
  after(() => rmSync(stage, { recursive: true, force: true }));

  it('emits JavaScript and declarations for every entry of the exports map', () => {
    type Target = { types: string; default: string };
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string | { import: Target; require: Target }> };
    let checked = 0;
    for (const [entry, conditions] of Object.entries(pkg.exports)) {
      if (typeof conditions === 'string') continue;
      for (const [condition, target] of Object.entries(conditions)) {
        for (const file of [target.types, target.default]) {
          expect(existsSync(join(out, file.replace(/^\.\/dist\//, ''))), `${entry} (${condition}): ${file}`).to.equal(true);
          checked++;
        }
      }
    }
    expect(checked).to.equal(20);
  });

  it('loads in plain Node and exposes the public API', async () => {
    const script = `import(${JSON.stringify(join(out, 'src/index.js'))}).then((m) => console.log(JSON.stringify([typeof m.twoFactor, typeof m.TwoFactorService, typeof m.RedisGuardStore, typeof m.defaultViews])))`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
    expect(JSON.parse(stdout)).to.deep.equal(['function', 'function', 'function', 'object']);
  });

  it('loads the Express entry in plain Node: the same core, an Express router', async () => {
    const script = `import(${JSON.stringify(join(out, 'src/express/index.js'))}).then((m) => { const tf = m.twoFactor({ logger: () => {} }); console.log(JSON.stringify([typeof tf.gate, typeof tf.router.use, typeof m.twoFactorErrors(), typeof m.TwoFactorService])); })`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
    expect(JSON.parse(stdout)).to.deep.equal(['function', 'function', 'function', 'function']);
  });

  it('require() works in plain Node too (CommonJS apps): the Koa and the Express entries', async () => {
    const script = `const m = require(${JSON.stringify(join(out, 'cjs/src/index.js'))}); const e = require(${JSON.stringify(join(out, 'cjs/src/express/index.js'))});
console.log(JSON.stringify([typeof m.twoFactor({ logger() {} }).gate, typeof m.TwoFactorService, typeof e.twoFactor({ logger() {} }).router.use, typeof e.twoFactorErrors]));`;
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: root });
    expect(JSON.parse(stdout)).to.deep.equal(['function', 'function', 'function', 'function']);
  });

  it('publint and arethetypeswrong (every resolution mode: node10, node16 from CJS and ESM, bundler) find no problem in the packed package; the bin is packed', async () => {
    await run(process.execPath, [join(root, 'node_modules/publint/src/cli.js'), '--strict'], { cwd: stage });
    const tarball = await packStagedPackage(stage, stage);
    await run(process.execPath, [join(root, 'node_modules/@arethetypeswrong/cli/dist/index.js'), tarball], { cwd: stage });
    const { stdout: files } = await run('tar', ['-tzf', tarball]);
    expect(files.split('\n')).to.include(`package/${binOf()}`);
  });

  it('the bin (koa-two-factor, bin/ importing the built src/cli) has a shebang, runs in plain Node and lists the four commands', async () => {
    const bin = join(stage, binOf());
    expect(readFileSync(bin, 'utf8').split('\n')[0]).to.equal('#!/usr/bin/env node');
    const { stdout } = await run(process.execPath, [bin, '--help'], { cwd: stage });
    for (const command of ['doctor', 'reset-user', 'rotate-keys', 'stats']) expect(stdout).to.contain(`  ${command}`);
  });
});

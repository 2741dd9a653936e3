/**
 * The published package: `npm run build` compiles src/ and views/ to
 * JavaScript with declarations, and every entry of the exports map resolves
 * to a module that loads in plain Node (no tsx).
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

describe('package build', function () {
  this.timeout(60_000);
  let out: string;

  before(async () => {
    // Inside the project (ignored by git) so the build resolves node_modules like dist/ would.
    mkdirSync(join(root, 'test-output'), { recursive: true });
    out = mkdtempSync(join(root, 'test-output', 'build-'));
    await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', out], { cwd: root });
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it('emits JavaScript and declarations for every entry of the exports map', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string }> };
    for (const [entry, target] of Object.entries(pkg.exports)) {
      for (const file of [target.types, target.default]) {
        expect(existsSync(join(out, file.replace(/^\.\/dist\//, ''))), `${entry}: ${file}`).to.equal(true);
      }
    }
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
});

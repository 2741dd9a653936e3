/**
 * koa-two-factor installed in someone else's Koa or Express app: every
 * package src/ loads at run time must be one the package declares
 * (`dependencies`, or `peerDependencies` for the app's own framework).
 * Here every package is in node_modules by luck of hoisting; under pnpm, or
 * when npm does not hoist a transitive dependency, an undeclared import is
 * "Cannot find package" at the app's start.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

/** Bare specifiers of the value (not `import type`) imports of a TypeScript file. */
function runtimeImports(source: string): string[] {
  const found = new Set<string>();
  for (const m of source.matchAll(/^import\s+(?!type\s)([^'"]*?)\s*from\s*'([^']+)'/gm)) {
    const [, clause, spec] = m;
    // `import { type A, type B } from 'x'` loads nothing at run time.
    if (/^\{[^}]*\}$/.test(clause!.trim()) && clause!.replace(/[{}\s]/g, '').split(',').every((n) => n.startsWith('type'))) continue;
    if (spec!.startsWith('.') || spec!.startsWith('node:') || builtinModules.includes(spec!)) continue;
    found.add(spec!.startsWith('@') ? spec!.split('/').slice(0, 2).join('/') : spec!.split('/')[0]!);
  }
  return [...found];
}

describe('package: every package src/ loads at run time is declared in package.json (dependencies, or a peer)', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; peerDependencies?: Record<string, string> };
  const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);
  const files = (readdirSync(join(root, 'src'), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
  it('finds the adapters among the files it reads', () => {
    expect(files).to.include.members([join('express', 'index.ts'), join('koa', 'index.ts')]);
  });
  for (const file of files) {
    it(`src/${file}`, () => {
      const missing = runtimeImports(readFileSync(join(root, 'src', file), 'utf8')).filter((name) => !declared.has(name));
      expect(missing, 'imported at run time, declared nowhere').to.deep.equal([]);
    });
  }
});

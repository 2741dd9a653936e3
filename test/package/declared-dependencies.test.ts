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
import { dirname, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

/** Specifiers a TypeScript file loads at run time: value imports and re-exports (not `import type`, `export type`). */
function loadedSpecifiers(source: string): string[] {
  const found = new Set<string>();
  for (const m of source.matchAll(/^(?:import|export)\s+(?!type\s)([^'"]*?)\s*from\s*'([^']+)'/gm)) {
    const [, clause, spec] = m;
    // `import { type A, type B } from 'x'` loads nothing at run time.
    if (/^\{[^}]*\}$/.test(clause!.trim()) && clause!.replace(/[{}\s]/g, '').split(',').every((n) => n.startsWith('type'))) continue;
    found.add(spec!);
  }
  return [...found];
}

/** Bare package names a TypeScript file loads at run time. */
function runtimeImports(source: string): string[] {
  const found = new Set<string>();
  for (const spec of loadedSpecifiers(source)) {
    if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue;
    found.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
  }
  return [...found];
}

/** Every package the module graph from `entry` (a path under the project) loads at run time. */
function packagesLoadedFrom(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const name of runtimeImports(source)) packages.add(name);
    for (const spec of loadedSpecifiers(source)) if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
  };
  visit(join(root, entry));
  return packages;
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

describe('package: an optional peer dependency is loaded only by the entry that needs it', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { peerDependenciesMeta?: Record<string, { optional?: boolean }> };
  const optionalPeers = Object.entries(pkg.peerDependenciesMeta ?? {}).filter(([, meta]) => meta.optional).map(([name]) => name);
  const needs: Record<string, string[]> = {
    'src/index.ts': [],
    'src/core/index.ts': [],
    'src/stores/index.ts': [],
    'src/express/index.ts': ['express'],
    'src/redis/index.ts': ['ioredis'],
  };
  it('koa, express, ioredis and nodemailer are the optional peers', () => {
    expect(optionalPeers).to.have.members(['express', 'ioredis', 'koa', 'nodemailer']);
  });

  it('nodemailer is loaded only on demand, by the SMTP-URL sender (a dynamic import), never by an entry', () => {
    const dynamic = (readdirSync(join(root, 'src'), { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts') && /import\('nodemailer'\)/.test(readFileSync(join(root, 'src', f), 'utf8')));
    expect(dynamic).to.deep.equal([join('config', 'resolve-email.ts')]);
  });
  for (const [entry, allowed] of Object.entries(needs)) {
    it(`${entry} loads ${allowed.length ? allowed.join(', ') + ' and no other' : 'none of them'}`, () => {
      const loaded = packagesLoadedFrom(entry);
      expect(optionalPeers.filter((name) => loaded.has(name))).to.have.members(allowed);
    });
  }
});

/**
 * Loaded with `--import` into every Stryker process (scripts/mutation.sh,
 * `testRunnerNodeArgs` and `checkerNodeArgs` in stryker.config.mjs). It
 * bridges two gaps of Stryker 10.1 with this project's tools; it changes
 * nothing that the project's own code or tests resolve.
 *
 * - TypeScript 7 has no classic compiler API: `import ts from 'typescript'`
 *   gives only its version. Stryker's core (tsconfig rewriting in the
 *   sandbox) and its TypeScript checker (tsconfig reading) use that API, so
 *   for imports made from Stryker's packages `typescript` is `typescript5`,
 *   the npm alias of TypeScript 5.9 in devDependencies. Mutants themselves
 *   are type-checked by TypeScript 7's native compiler, which the checker's
 *   `experimentalNativePreview` loads as `@typescript/native/unstable/sync`:
 *   that is the project's `typescript/unstable/sync`.
 * - Mocha 12 renamed its CLI helpers to `.cjs`; Stryker's mocha runner still
 *   requires `mocha/lib/cli/<name>` without an extension.
 *
 * Needs `module.registerHooks` (Node >= 22.15): the hooks must apply to
 * `require()` as well as `import`.
 */
import { registerHooks } from 'node:module';

const NATIVE = '@typescript/native/';
const MOCHA_CLI_HELPER = /[\\/]node_modules[\\/]mocha[\\/]lib[\\/]cli[\\/][\w-]+$/;

registerHooks({
  resolve(specifier, context, nextResolve) {
    const fromStryker = /[\\/]node_modules[\\/]@stryker-mutator[\\/]/.test(context.parentURL ?? '');
    if (fromStryker && specifier === 'typescript') return nextResolve('typescript5', context);
    if (fromStryker && specifier.startsWith(NATIVE)) return nextResolve(`typescript/${specifier.slice(NATIVE.length)}`, context);
    if (MOCHA_CLI_HELPER.test(specifier)) return nextResolve(`${specifier}.cjs`, context);
    return nextResolve(specifier, context);
  },
});

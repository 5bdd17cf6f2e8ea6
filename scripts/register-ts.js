/**
 * Loads the project's TypeScript by transpiling each file with esbuild as it is required (types are
 * checked by `tsc --noEmit` in `npm test`, not here). ts-node keeps the whole TypeScript compiler in
 * the heap and spends over a second starting; esbuild is native, so `cdktf synth` and `cias` start
 * in a fraction of that, and synthesis runs without the compiler's garbage to collect. The compiler
 * options come from tsconfig.json, so class fields follow the same (ES2022 define) semantics as tsc.
 */
'use strict';
const { readFileSync } = require('fs');
const { join } = require('path');
const { transformSync } = require('esbuild');

const { compilerOptions } = JSON.parse(readFileSync(join(__dirname, '..', 'tsconfig.json'), 'utf8'));

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    loader: 'ts',
    format: 'cjs',
    target: 'node20',
    sourcefile: filename,
    sourcemap: 'inline',
    tsconfigRaw: { compilerOptions },
    // `await import('./x')` must become require('./x') as tsc's CommonJS output does: a native
    // import() of an extensionless .ts path fails.
    supported: { 'dynamic-import': false },
  });
  module._compile(code, filename);
};

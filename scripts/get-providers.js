#!/usr/bin/env node
// Generates .gen/providers/proxmox from the schema file the project carries, with no network:
// cdktf reads provider schemas from CDKTF_EXPERIMENTAL_PROVIDER_SCHEMA_CACHE_PATH instead of running
// `terraform providers schema`, which would need the provider binary from the registry.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const genDir = path.join(root, '.gen');
const marker = path.join(genDir, 'providers', 'proxmox', 'vm-qemu', 'index.ts');
const force = process.argv.includes('--force');

/**
 * The generated bindings are megabytes of TypeScript; transpiling them on every `cdktf synth` (ts-node)
 * costs seconds. Node prefers a .js beside the .ts, so they are transpiled once, here.
 */
function transpileGenerated() {
  const ts = require('typescript');
  const walk = (dir) =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? walk(full) : [full];
    });
  for (const file of walk(genDir)) {
    if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
    const output = file.replace(/\.ts$/, '.js');
    if (!force && fs.existsSync(output) && fs.statSync(output).mtimeMs >= fs.statSync(file).mtimeMs) continue;
    const { outputText } = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: file,
    });
    fs.writeFileSync(output, outputText);
  }
}

if (fs.existsSync(marker) && !force) {
  transpileGenerated();
  process.exit(0);
}
const cli = path.join(root, 'node_modules', 'cdktf-cli', 'bundle', 'bin', 'cdktf');
const result = spawnSync(process.execPath, [cli, 'get'], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
  env: {
    ...process.env,
    CHECKPOINT_DISABLE: '1',
    CDKTF_DISABLE_PLUGIN_CACHE_ENV: '1',
    CDKTF_EXPERIMENTAL_PROVIDER_SCHEMA_CACHE_PATH: path.join(root, 'providers'),
  },
});
if (result.status !== 0 || !fs.existsSync(marker)) {
  console.error('cdktf get failed: .gen/providers/proxmox was not generated');
  process.exit(1);
}
transpileGenerated();

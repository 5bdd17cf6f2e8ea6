#!/usr/bin/env node
// Generates .gen/providers/proxmox from the schema file the project carries, with no network:
// cdktf reads provider schemas from CDKTF_EXPERIMENTAL_PROVIDER_SCHEMA_CACHE_PATH instead of running
// `terraform providers schema`, which would need the provider binary from the registry.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const marker = path.join(root, '.gen', 'providers', 'proxmox', 'vm-qemu', 'index.ts');
if (fs.existsSync(marker) && !process.argv.includes('--force')) {
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

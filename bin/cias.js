#!/usr/bin/env node
'use strict';
// The cias command. Runs the TypeScript sources directly (transpiled by esbuild: `npm test` type-checks them).
const path = require('path');
process.env.CHECKPOINT_DISABLE = process.env.CHECKPOINT_DISABLE || '1';
require(path.join(__dirname, '..', 'scripts', 'register-ts.js'));
require('../cli/main')
  .main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((error) => {
    console.error(`cias: internal error: ${error && error.stack ? error.stack : error}`);
    process.exit(70);
  });

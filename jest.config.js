/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] },
  testTimeout: 120000,
  // Daemon-level tests (MooseFS, keepalived, the lab) share ports and namespaces: run files one by one.
  maxWorkers: 1,
};

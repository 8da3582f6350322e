// The user project's jest configuration for tests/jest/ (node/run copies node/tests/ into a
// fresh project).
module.exports = {
  rootDir: '../..',
  testMatch: ['<rootDir>/tests/jest/*.test.cjs'],
  testEnvironment: 'node',
  testTimeout: 30000,
};

// The user project's vitest configuration (node/run copies node/tests/ into a fresh project).
export default {
  test: {
    include: ['tests/*.test.mjs'],
    testTimeout: 30000,
    hookTimeout: 60000,
  },
};

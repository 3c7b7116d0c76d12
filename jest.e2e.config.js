/** End-to-end suite: a real Docker engine, one cluster reused by the tests in order (`npm run test:e2e`). */
module.exports = {
    preset: "ts-jest",
    testEnvironment: "node",
    transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: { warnOnly: false } }] },
    testMatch: ["<rootDir>/tests/e2e/**/*.e2e.test.ts"],
    testTimeout: 15 * 60 * 1000,
    maxWorkers: 1,
    bail: false,
    verbose: true,
};

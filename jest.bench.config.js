/** `npm run bench`: the benchmark (a real Docker engine, several minutes); never part of the test commands. */
module.exports = {
    preset: "ts-jest",
    testEnvironment: "node",
    transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: { warnOnly: false } }] },
    testMatch: ["<rootDir>/tests/bench/**/*.bench.ts"],
    testTimeout: 45 * 60 * 1000,
    maxWorkers: 1,
    verbose: true,
};

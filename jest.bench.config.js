/** `npm run bench`: the benchmark (a real Docker engine, several minutes); never part of the test commands. */
module.exports = {
    ...require("./jest.e2e.config.js"),
    testMatch: ["<rootDir>/tests/bench/**/*.bench.ts"],
    testTimeout: 45 * 60 * 1000,
};

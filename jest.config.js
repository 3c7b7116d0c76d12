/** Unit tests by default; `npm run test:e2e` selects the end-to-end project. */
module.exports = {
    preset: "ts-jest",
    testEnvironment: "node",
    transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: { warnOnly: false } }] },
    testMatch: ["<rootDir>/tests/unit/**/*.test.ts"],
};

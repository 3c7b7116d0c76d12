import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const script = path.join(__dirname, "../../scripts/pulumi-local.sh");
const stateDir = path.join(__dirname, "../../.pulumi-state");

/** Runs the wrapper with a stand-in `pulumi` that records each call's arguments and backend settings. */
function runWrapper(args: string[], env: Record<string, string> = {}) {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "fake-pulumi-"));
    const log = path.join(bin, "calls.log");
    fs.writeFileSync(
        path.join(bin, "pulumi"),
        `#!/usr/bin/env bash\necho "$* | $PULUMI_BACKEND_URL | \${PULUMI_CONFIG_PASSPHRASE_FILE:-none} | \${PULUMI_CONFIG_PASSPHRASE-unset}" >> "${log}"\n`,
        { mode: 0o755 },
    );
    const result = spawnSync("bash", [script, ...args], {
        env: { PATH: `${bin}:/usr/bin:/bin`, HOME: os.homedir(), ...env },
        encoding: "utf8",
    });
    const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
    fs.rmSync(bin, { recursive: true, force: true });
    return { status: result.status, stderr: result.stderr, calls };
}

describe("scripts/pulumi-local.sh", () => {
    const existed = fs.existsSync(stateDir);
    afterAll(() => {
        if (!existed) fs.rmSync(stateDir, { recursive: true, force: true });
    });

    test("uses a local file backend and a generated passphrase file, selects the dev stack, then runs the command", () => {
        const { status, calls } = runWrapper(["up", "--yes"]);
        expect(status).toBe(0);
        const passphraseFile = path.join(stateDir, "passphrase");
        expect(calls).toEqual([
            `stack select --create dev --non-interactive | file://${stateDir} | ${passphraseFile} | unset`,
            `up --yes | file://${stateDir} | ${passphraseFile} | unset`,
        ]);
        expect(fs.statSync(passphraseFile).mode & 0o077).toBe(0);
        expect(fs.readFileSync(passphraseFile, "utf8").trim().length).toBeGreaterThanOrEqual(40);
    });

    test("keeps the same passphrase across runs and honours STACK and a passphrase given by the user", () => {
        const passphraseFile = path.join(stateDir, "passphrase");
        runWrapper(["preview"]);
        const first = fs.readFileSync(passphraseFile, "utf8");
        const { calls } = runWrapper(["destroy", "--yes"], { STACK: "staging", PULUMI_CONFIG_PASSPHRASE: "from-user" });
        expect(fs.readFileSync(passphraseFile, "utf8")).toBe(first);
        expect(calls[0]).toBe(`stack select --create staging --non-interactive | file://${stateDir} | none | from-user`);
    });

    test("says what is missing when the Pulumi CLI is not installed", () => {
        const result = spawnSync("bash", [script, "up"], { env: { PATH: "/usr/bin:/bin" }, encoding: "utf8" });
        expect(result.status).toBe(127);
        expect(result.stderr).toContain("the Pulumi CLI is not on PATH");
    });
});

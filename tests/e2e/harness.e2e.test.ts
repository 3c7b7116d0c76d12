/**
 * The harness's own guarantees, without Docker: nothing it does not understand gets through, diffs follow
 * Pulumi's rules, and the small encoders it relies on are right.
 */
import { execFileSync } from "node:child_process";
import { isDeepStrictEqual } from "node:util";
import type { Declaration } from "../support/declaration";
import { TYPES, unitProviderFake } from "../support/declaration";
import { diff, sameValue } from "./harness/apply";
import { durationToNanoseconds } from "./harness/durations";
import { E2E_IMAGES } from "./harness/images";
import { generatePassword } from "./harness/providerFake";
import { validateDeclaration } from "./harness/schema";
import { createTar } from "./harness/tar";
import { declareStack } from "../support/program";

const CONFIG = { clusterName: "hx", subnet: "10.231.250.0/24", ...E2E_IMAGES };

function edited(declaration: Declaration, name: string, edit: (inputs: Record<string, unknown>) => void): Declaration {
    const copy = JSON.parse(JSON.stringify(declaration)) as Declaration;
    edit(copy.resources.find((resource) => resource.name === name)!.inputs);
    return copy;
}

describe("e2e harness", () => {
    let two: Declaration;
    beforeAll(async () => {
        two = await declareStack({ ...CONFIG, replicas: 2 }, unitProviderFake);
    });

    test("accepts every resource and input the real program declares", () => {
        expect(() => validateDeclaration(two)).not.toThrow();
        expect(new Set(two.resources.map((resource) => resource.type))).toEqual(new Set(Object.values(TYPES)));
    });

    test("refuses any input, nested field, value or type it would not apply", () => {
        const cases: [Declaration, RegExp][] = [
            [edited(two, "hx-node-1", (inputs) => (inputs.privileged = true)), /hx-node-1 .*inputs\.privileged: not understood/],
            [edited(two, "hx-node-1", (inputs) => ((inputs.healthcheck as Record<string, unknown>).startInterval = "1s")), /healthcheck\.startInterval: not understood/],
            [edited(two, "hx-postgres", (inputs) => ((inputs.volumes as Record<string, unknown>[])[0].volumeOptions = {})), /volumes\[0\]\.volumeOptions: not understood/],
            [edited(two, "hx-node-1", (inputs) => (inputs.restart = "sometimes")), /restart: "sometimes" is not supported/],
            [edited(two, "hx-node-1", (inputs) => ((inputs.healthcheck as Record<string, unknown>).interval = "5")), /interval: "5" is not a duration/],
            [edited(two, "hx-keycloak-image", (inputs) => (inputs.keepLocally = false)), /keepLocally must be true/],
            [edited(two, "hx-network", (inputs) => (inputs.internal = true)), /hx-network .*inputs\.internal: not understood/],
            [{ ...two, resources: [...two.resources, { ...two.resources[0], name: "hx-extra", type: "docker:index/service:Service" }] }, /hx-extra .*resource type not understood/],
        ];
        for (const [declaration, message] of cases) expect(() => validateDeclaration(declaration)).toThrow(message);
    });

    test("compares inputs structurally, whatever realm or key order they come with", () => {
        expect(sameValue({ a: [1, { b: "x" }], c: true }, JSON.parse('{"c":true,"a":[1,{"b":"x"}]}'))).toBe(true);
        expect(sameValue({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
        expect(sameValue({ a: 1 }, { a: 1, b: 2 })).toBe(false);
        expect(sameValue(structuredClone(two), two)).toBe(true);
    });

    test("diffs like Pulumi: scaling only creates or deletes nodes; a network change replaces what uses it", async () => {
        const three = await declareStack({ ...CONFIG, replicas: 3 }, unitProviderFake, two);
        expect(diff(two, three)).toMatchObject({ created: ["hx-node-3"], replaced: [], deleted: [] });
        expect(diff(three, two)).toMatchObject({ created: [], replaced: [], deleted: ["hx-node-3"] });
        expect(diff(two, two)).toMatchObject({ created: [], replaced: [], deleted: [] });

        const labelled = edited(two, "hx-network", (inputs) => (inputs.labels as unknown[]).push({ label: "x", value: "y" }));
        expect(diff(two, labelled)).toMatchObject({
            created: [],
            replaced: ["hx-load-balancer", "hx-network", "hx-node-1", "hx-node-2", "hx-postgres"],
            deleted: [],
        });
        const newVolumeLabels = edited(two, "hx-postgres-data", (inputs) => (inputs.labels as unknown[]).push({ label: "x", value: "y" }));
        expect(diff(two, newVolumeLabels).replaced).toEqual(["hx-postgres", "hx-postgres-data"]);

        // retainDatabaseVolume is a resource option, not an input: it changes nothing live.
        const noRetain = await declareStack({ ...CONFIG, replicas: 2, retainDatabaseVolume: false }, unitProviderFake, two);
        expect(diff(two, noRetain)).toMatchObject({ created: [], replaced: [], deleted: [] });
        expect(noRetain.resources.find((resource) => resource.type === TYPES.volume)!.retainOnDelete).toBe(false);
    });

    test("converts Go durations to nanoseconds", () => {
        expect(durationToNanoseconds("5s")).toBe(5e9);
        expect(durationToNanoseconds("180s")).toBe(180e9);
        expect(durationToNanoseconds("1m30s")).toBe(90e9);
        expect(durationToNanoseconds("250ms")).toBe(250e6);
        expect(durationToNanoseconds("0")).toBe(0);
        for (const bad of ["", "5", "s", "5 s", "-5s"]) expect(() => durationToNanoseconds(bad)).toThrow();
    });

    test("writes tar archives that tar reads back", () => {
        const content = "global\n    maxconn 4096\n".repeat(50);
        const archive = createTar([{ path: "usr/local/etc/haproxy/haproxy.cfg", content: Buffer.from(content), mode: 0o644 }]);
        expect(archive.length % 512).toBe(0);
        const listing = execFileSync("tar", ["-tvf", "-"], { input: archive }).toString();
        expect(listing).toMatch(/^-rw-r--r-- root\/root\s+1200 .* usr\/local\/etc\/haproxy\/haproxy\.cfg$/m);
        expect(execFileSync("tar", ["-xOf", "-"], { input: archive }).toString()).toBe(content);
    });

    test("generates passwords as the random provider would", () => {
        const password = generatePassword({ length: 32, special: false });
        expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
        expect(generatePassword({ length: 32, special: false })).not.toBe(password);
        expect(generatePassword({ length: 200 })).toMatch(/[^A-Za-z0-9]/);
        expect(() => generatePassword({ length: 8, minUpper: 2 })).toThrow(/minUpper/);
        expect(isDeepStrictEqual(two.resources.find((r) => r.type === TYPES.randomPassword)!.inputs, { length: 32, special: false })).toBe(true);
    });
});

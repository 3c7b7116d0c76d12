/**
 * The harness's own guarantees, without Docker: nothing it does not understand gets through, the provider's
 * diff rules and the engine's plan follow the real ones (each case is a behaviour the real engine showed or
 * the provider source states), and the small encoders it relies on are right.
 */
import { execFileSync } from "node:child_process";
import { isDeepStrictEqual } from "node:util";
import type { Declaration } from "../support/declaration";
import { TYPES, unitProviderFake } from "../support/declaration";
import { declareStack } from "../support/program";
import { diffResource, plan, preview, sameValue } from "./harness/apply";
import { durationToNanoseconds, formatGoDuration } from "./harness/durations";
import { E2E_IMAGES } from "./harness/images";
import { generatePassword } from "./harness/providerFake";
import { plannedContainerState } from "./harness/resources";
import { ContainerInputs, validateDeclaration } from "./harness/schema";
import { createTar } from "./harness/tar";

const CONFIG = { clusterName: "hx", subnet: "10.231.250.0/24", ...E2E_IMAGES };

function edited(declaration: Declaration, name: string, edit: (inputs: Record<string, unknown>) => void): Declaration {
    const copy = JSON.parse(JSON.stringify(declaration)) as Declaration;
    edit(copy.resources.find((resource) => resource.name === name)!.inputs);
    return copy;
}

/**
 * The state a fresh `pulumi up` leaves: every container's provider state as the provider reads it back
 * (plan with defaults, then Read), here from the declared inputs, since Read reproduces the canonical values.
 */
function stateAfterCreate(declaration: Declaration, read: (name: string, planned: Record<string, unknown>) => Record<string, unknown> = (_n, planned) => planned): Declaration {
    return {
        ...declaration,
        resources: declaration.resources.map((resource) =>
            resource.type === TYPES.container ? { ...resource, outputs: read(resource.name, plannedContainerState(resource.inputs as unknown as ContainerInputs)) } : resource,
        ),
    };
}

describe("e2e harness", () => {
    let two: Declaration;
    beforeAll(async () => {
        two = await declareStack({ ...CONFIG, replicas: 2 }, unitProviderFake);
    });

    test("accepts every resource and input the real program declares, on one host and on several", async () => {
        const hosts = JSON.stringify([
            { name: "a", engine: "unix:///run/kc-mh-h1/docker.sock", address: "192.168.77.1" },
            { name: "b", engine: "unix:///run/kc-mh-h2/docker.sock", address: "192.168.77.2" },
        ]);
        const spread = await declareStack({ ...CONFIG, replicas: 3, hosts }, unitProviderFake);
        expect(() => validateDeclaration(two)).not.toThrow();
        expect(() => validateDeclaration(spread)).not.toThrow();
        expect(new Set([...two.resources, ...spread.resources].map((resource) => resource.type))).toEqual(new Set(Object.values(TYPES)));
        const remote = edited(spread, "hx-a-engine", (inputs) => (inputs.host = "ssh://admin@192.168.77.1"));
        expect(() => validateDeclaration(remote)).toThrow(/hx-a-engine .*host: .*unix:\/\/ sockets only/);
    });

    test("refuses any input, nested field, value or type it would not apply", () => {
        const cases: [Declaration, RegExp][] = [
            [edited(two, "hx-node-1", (inputs) => (inputs.privileged = true)), /hx-node-1 .*inputs\.privileged: not understood/],
            [edited(two, "hx-node-1", (inputs) => ((inputs.healthcheck as Record<string, unknown>).startInterval = "1")), /healthcheck\.startInterval: "1" is not a duration/],
            [edited(two, "hx-node-1", (inputs) => ((inputs.healthcheck as Record<string, unknown>).startTimeout = "1s")), /healthcheck\.startTimeout: not understood/],
            [edited(two, "hx-postgres", (inputs) => ((inputs.volumes as Record<string, unknown>[])[0].volumeOptions = {})), /volumes\[0\]\.volumeOptions: not understood/],
            [edited(two, "hx-node-1", (inputs) => (inputs.restart = "sometimes")), /restart: "sometimes" is not supported/],
            [edited(two, "hx-node-1", (inputs) => ((inputs.healthcheck as Record<string, unknown>).interval = "5")), /interval: "5" is not a duration/],
            [edited(two, "hx-node-1", (inputs) => (inputs.memorySwap = -2)), /memorySwap: -2 is below -1/],
            [edited(two, "hx-keycloak-image", (inputs) => (inputs.keepLocally = false)), /keepLocally must be true/],
            [edited(two, "hx-network", (inputs) => (inputs.internal = true)), /hx-network .*inputs\.internal: not understood/],
            [{ ...two, resources: [...two.resources, { ...two.resources[0], name: "hx-extra", type: "docker:index/service:Service" }] }, /hx-extra .*resource type not understood/],
            [{ ...two, resources: two.resources.map((r) => (r.name === "hx-node-1" ? { ...r, replaceOnChanges: ["envs[*]"] } : r)) }, /replaceOnChanges "envs\[\*\]" is not a top-level attribute/],
        ];
        for (const [declaration, message] of cases) expect(() => validateDeclaration(declaration)).toThrow(message);
    });

    test("compares inputs structurally, whatever realm or key order they come with", () => {
        expect(sameValue({ a: [1, { b: "x" }], c: true }, JSON.parse('{"c":true,"a":[1,{"b":"x"}]}'))).toBe(true);
        expect(sameValue({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
        expect(sameValue({ a: 1 }, { a: 1, b: 2 })).toBe(false);
        expect(sameValue(structuredClone(two), two)).toBe(true);
    });

    describe("the provider's diff (new inputs against the state it read back)", () => {
        const inputs = {
            name: "c",
            image: "sha256:1",
            envs: ["B=2", "A=1"],
            healthcheck: { tests: ["CMD", "true"], interval: "5s", timeout: "5s", retries: 3, startPeriod: "3m0s" },
            memory: 2048,
            memorySwap: -1,
            ports: [{ internal: 8080, external: 18080, ip: "127.0.0.1", protocol: "tcp" }],
            restart: "unless-stopped",
        };
        const readBack = {
            ...plannedContainerState(inputs),
            envs: ["A=1", "B=2"],
            hostname: "0123456789ab",
            command: ["start"],
            entrypoints: ["/opt/keycloak/bin/kc.sh"],
            healthcheck: { ...inputs.healthcheck, startInterval: "0s" },
        };

        test("canonical inputs read back unchanged: no diff (computed hostname, command, entrypoint; env is a set)", () => {
            expect(diffResource(TYPES.container, readBack, inputs, [])).toEqual({ changed: [], replaceKeys: [] });
        });

        test("the real engine's phantom updates: a duration spelled '180s' and an unset memorySwap against what Docker stores", () => {
            const declared = { ...inputs, healthcheck: { ...inputs.healthcheck, startPeriod: "180s" }, memorySwap: undefined };
            const stored = { ...readBack, memorySwap: 4096 };
            expect(diffResource(TYPES.container, stored, declared, [])).toEqual({ changed: ["healthcheck", "memorySwap"], replaceKeys: [] });
        });

        test("a stopped container reads back with no ports and mustRun false: replaced because ports are ForceNew", () => {
            const stopped = { ...readBack, ports: [], mustRun: false };
            expect(diffResource(TYPES.container, stopped, inputs, [])).toEqual({ changed: ["mustRun", "ports"], replaceKeys: ["ports"] });
        });

        test("memory updates in place unless replaceOnChanges lists it; env, image and ports force a replacement", () => {
            expect(diffResource(TYPES.container, readBack, { ...inputs, memory: 1536 }, [])).toEqual({ changed: ["memory"], replaceKeys: [] });
            expect(diffResource(TYPES.container, readBack, { ...inputs, memory: 1536 }, ["memory"])).toEqual({ changed: ["memory"], replaceKeys: ["memory"] });
            expect(diffResource(TYPES.container, readBack, { ...inputs, envs: ["A=1"] }, []).replaceKeys).toEqual(["envs"]);
            expect(diffResource(TYPES.container, readBack, { ...inputs, restart: "always" }, [])).toEqual({ changed: ["restart"], replaceKeys: [] });
            expect(diffResource(TYPES.container, readBack, { ...inputs, waitTimeout: 600 }, [])).toEqual({ changed: ["waitTimeout"], replaceKeys: [] });
        });
    });

    describe("the engine's plan", () => {
        test("a fresh stack creates everything; the same declaration on its own state changes nothing", () => {
            expect(preview(undefined, two).created).toHaveLength(two.resources.length);
            expect(preview(stateAfterCreate(two), two)).toMatchObject({ created: [], updated: [], replaced: [], deleted: [] });
        });

        test("scaling only creates or deletes nodes", async () => {
            const three = await declareStack({ ...CONFIG, replicas: 3 }, unitProviderFake, two);
            expect(preview(stateAfterCreate(two), three)).toMatchObject({ created: ["hx-node-3"], updated: [], replaced: [], deleted: [] });
            expect(preview(stateAfterCreate(three), two)).toMatchObject({ created: [], updated: [], replaced: [], deleted: ["hx-node-3"] });
        });

        test("a delete-before-replace network also replaces every container whose inputs use it (dependent replacement)", () => {
            const relabelled = edited(two, "hx-network", (inputs) => (inputs.labels as unknown[]).push({ label: "x", value: "y" }));
            expect(preview(stateAfterCreate(two), relabelled)).toMatchObject({
                created: [],
                replaced: ["hx-load-balancer", "hx-network", "hx-node-1", "hx-node-2", "hx-postgres"],
                deleted: [],
            });
        });

        test("a plain dependsOn never replaces a dependent: replacing PostgreSQL (--replace) leaves the nodes alone", () => {
            expect(preview(stateAfterCreate(two), two, ["hx-postgres"])).toMatchObject({ replaced: ["hx-postgres"], created: [], updated: [] });
        });

        test("the program's restart-only inputs replace the nodes; a changed startup timeout replaces the healthchecked containers", async () => {
            const state = stateAfterCreate(two);
            const smaller = await declareStack({ ...CONFIG, replicas: 2, keycloakMemoryMb: 1536 }, unitProviderFake, state);
            expect(preview(state, smaller)).toMatchObject({ replaced: ["hx-node-1", "hx-node-2"], updated: [], created: [] });
            const slower = await declareStack({ ...CONFIG, replicas: 2, startupTimeoutSeconds: 900 }, unitProviderFake, state);
            expect(preview(state, slower)).toMatchObject({ replaced: ["hx-node-1", "hx-node-2", "hx-postgres"], updated: ["hx-load-balancer"] });
        });

        test("a minor Keycloak upgrade deletes every old node before anything new starts; a patch upgrade rolls", async () => {
            const minorBefore = await declareStack({ ...CONFIG, replicas: 3, keycloakImage: "keycloak-cluster-e2e/keycloak:26.5.6" }, unitProviderFake);
            const state = stateAfterCreate(minorBefore);
            const minor = plan(state, await declareStack({ ...CONFIG, replicas: 3 }, unitProviderFake, state));
            expect(minor.replaced).toEqual(["hx-keycloak-image", "hx-node-1", "hx-node-2", "hx-node-3", "hx-update-stream"]);
            expect(minor.updated).toEqual(["hx-keycloak-optimized"]);
            // The update stream's delete-before-replace takes every node with it, in dependency order (the
            // engine deletes them in reverse), before its own replacement and the new nodes' creation.
            expect(minor.deletedFirst.get("hx-update-stream")).toEqual(["hx-node-1", "hx-node-2", "hx-node-3"]);
            expect([...minor.recreating].sort()).toEqual(["hx-node-1", "hx-node-2", "hx-node-3"]);

            const patchBefore = await declareStack({ ...CONFIG, replicas: 3, keycloakImage: "keycloak-cluster-e2e/keycloak:26.7.2" }, unitProviderFake);
            const patchState = stateAfterCreate(patchBefore);
            const patch = plan(patchState, await declareStack({ ...CONFIG, replicas: 3 }, unitProviderFake, patchState));
            expect(patch.kinds.get("hx-update-stream")).toBe("same");
            expect(patch.replaced).toEqual(["hx-keycloak-image", "hx-node-1", "hx-node-2", "hx-node-3"]);
            expect(patch.recreating.size).toBe(0);

            // Switching to rolling removes the stream: the nodes are replaced one by one (label gone), never all at once.
            const toRolling = plan(patchState, await declareStack({ ...CONFIG, replicas: 3, keycloakImage: "keycloak-cluster-e2e/keycloak:26.7.2", updateStrategy: "rolling" }, unitProviderFake, patchState));
            expect({ replaced: toRolling.replaced, deleted: toRolling.deleted, recreating: toRolling.recreating.size }).toEqual({ replaced: ["hx-node-1", "hx-node-2", "hx-node-3"], deleted: ["hx-update-stream"], recreating: 0 });
        });

        test("a resource left with init errors (a create that timed out) gets an empty update on the next up", () => {
            const state = stateAfterCreate(two);
            const failed = { ...state, resources: state.resources.map((r) => (r.name === "hx-node-2" ? { ...r, initErrors: ["container failed to be in healthy state"] } : r)) };
            expect(preview(failed, two)).toMatchObject({ updated: ["hx-node-2"], replaced: [], created: [] });
        });

        test("retainDatabaseVolume is a resource option, not an input: it changes nothing", async () => {
            const noRetain = await declareStack({ ...CONFIG, replicas: 2, retainDatabaseVolume: false }, unitProviderFake, two);
            expect(preview(stateAfterCreate(two), noRetain)).toMatchObject({ created: [], updated: [], replaced: [], deleted: [] });
            expect(noRetain.resources.find((resource) => resource.type === TYPES.volume)!.retainOnDelete).toBe(false);
        });
    });

    test("converts Go durations both ways, as time.ParseDuration and Duration.String do", () => {
        expect(durationToNanoseconds("5s")).toBe(5e9);
        expect(durationToNanoseconds("180s")).toBe(180e9);
        expect(durationToNanoseconds("1m30s")).toBe(90e9);
        expect(durationToNanoseconds("250ms")).toBe(250e6);
        expect(durationToNanoseconds("0")).toBe(0);
        for (const bad of ["", "5", "s", "5 s", "-5s"]) expect(() => durationToNanoseconds(bad)).toThrow();
        const cases: [number, string][] = [
            [0, "0s"],
            [5e9, "5s"],
            [60e9, "1m0s"],
            [180e9, "3m0s"],
            [90e9, "1m30s"],
            [3600e9, "1h0m0s"],
            [250e6, "250ms"],
            [1.5e9, "1.5s"],
            [1500, "1.5µs"],
        ];
        for (const [nanoseconds, text] of cases) expect(formatGoDuration(nanoseconds)).toBe(text);
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

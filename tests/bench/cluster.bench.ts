/**
 * `npm run bench`: the speed figures of issue #7, measured side by side in one run on this machine with the
 * e2e harness and images (a real Docker engine, real Keycloak, PostgreSQL and HAProxy). Writes
 * reports/bench.json and prints a table. Not part of `npm test` or `npm run test:e2e`: a benchmark, run on
 * demand. Needs the e2e images for Keycloak 26.7.3 and 26.7.2 (it builds the second with
 * tests/e2e/images/build.sh when missing).
 */
import type Docker from "dockerode";
import { execFileSync } from "node:child_process";
import { cpus } from "node:os";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Declaration } from "../support/declaration";
import { declareStack, StackConfig } from "../support/program";
import { apply, ApplyOptions, ApplyResult, destroy, newContext } from "../e2e/harness/apply";
import { allContainerLogs, connectDocker, ensureEngine } from "../e2e/harness/docker";
import { E2E_IMAGES } from "../e2e/harness/images";
import { imageBuildSeconds, localImageId, localProviderFake } from "../e2e/harness/providerFake";
import type { HarnessContext } from "../e2e/harness/resources";
import { clusterFacts, removeLabelled, waitForClusterSize } from "../e2e/support/cluster";
import { token } from "../e2e/support/http";
import { underLoad } from "../e2e/support/load";
import { createProbeRealm, probeRealm, probeToken } from "../e2e/support/probe";
import { seconds } from "../e2e/support/report";

const CLUSTER = "kcbench";
const FROM_VERSION = "26.7.2";
const TO_VERSION = "26.7.3";
const image = (version: string) => `keycloak-cluster-e2e/keycloak:${version}`;
const BASE: StackConfig = {
    clusterName: CLUSTER,
    subnet: "10.231.220.0/24",
    basePort: 38080,
    loadBalancerPort: 38000,
    ...E2E_IMAGES,
};
const PROBE = probeRealm(`${CLUSTER}-probe`);
const REPORT = join(resolve(__dirname, "../../reports"), "bench.json");

let docker: Docker;
let ctx: HarnessContext;
let state: Declaration | undefined;
let config: StackConfig = BASE;

const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

async function up(next: StackConfig, options: ApplyOptions = {}): Promise<ApplyResult> {
    const declaration = await declareStack(next, localProviderFake(docker, log), state);
    const result = await apply(ctx, state, declaration, options);
    state = result.state;
    config = next;
    return result;
}

/** Seconds from a node's container creation to Docker reporting it healthy, in one apply. */
function nodeReady(result: ApplyResult, node = `${CLUSTER}-node-1`): number {
    const timing = result.timings[node];
    return seconds(timing.createdAt!, timing.healthyAt!);
}

async function teardown(): Promise<void> {
    if (state) await destroy(ctx, state);
    state = undefined;
    await removeLabelled(docker, CLUSTER);
}

async function loadSessions() {
    const facts = clusterFacts(state!);
    // The master realm is not routed through the load balancer: sign in as admin on node 1, log the load in to a realm of its own.
    const admin = await token(facts.nodes[0].url, "admin-cli", facts.adminUsername, facts.adminPassword);
    // "existed": created for an earlier measurement of this run.
    await createProbeRealm(facts.nodes[0].url, admin.access_token, PROBE);
    const sessions = await Promise.all([0, 1].map(() => probeToken(facts.loadBalancer.url, PROBE)));
    return { baseUrl: facts.loadBalancer.url, realm: PROBE.realm, clientId: PROBE.clientId, sessions };
}

beforeAll(async () => {
    docker = connectDocker();
    await ensureEngine(docker);
    await localImageId(docker, image(TO_VERSION));
    if (!(await localImageId(docker, image(FROM_VERSION)).catch(() => undefined))) {
        log(`building the e2e image for Keycloak ${FROM_VERSION}`);
        execFileSync("bash", [join(__dirname, "../e2e/images/build.sh")], { env: { ...process.env, KEYCLOAK_VERSION: FROM_VERSION }, stdio: "inherit" });
    }
    ctx = newContext(docker, log);
    await removeLabelled(docker, CLUSTER);
});

afterAll(async () => {
    if (docker) await teardown().catch((error: Error) => log(`teardown: ${error.message}`));
});

test("bench: optimized vs auto start, image build, cluster from nothing, scale-out, rolling change, patch upgrade", async () => {
    const report: Record<string, unknown> = { date: new Date().toISOString(), cpuCores: cpus().length, machine: `${cpus()[0]?.model ?? "?"}, ${cpus().length} cores` };

    // The optimized image from nothing: no earlier build of it on the engine, under any cluster's name (the
    // same build is the same image, and would be a cache hit), so every `<cluster>-keycloak:<hash>` goes.
    for (const built of (await docker.listImages()).filter((i) => (i.RepoTags ?? []).some((tag) => /-keycloak:[0-9a-f]{16}$/.test(tag)))) {
        await docker.getImage(built.Id).remove({ force: true });
    }
    imageBuildSeconds.clear();
    const first = await up({ ...BASE, replicas: 1, keycloakImage: image(TO_VERSION) });
    report.imageBuildSeconds = [...imageBuildSeconds.values()][0];

    // One node on an existing schema, the same run: the optimized image, then the official image's auto path.
    const optimized = nodeReady(await up(config, { replace: [`${CLUSTER}-node-1`] }));
    const auto = nodeReady(await up({ ...config, keycloakBuild: "auto" }));
    report.nodeReadySeconds = { auto, optimized, ratio: Math.round((auto / optimized) * 10) / 10, firstNodeOnEmptyDatabase: nodeReady(first) };
    await teardown();

    // Three nodes from nothing (empty database), on the version the upgrade starts from; its image is built
    // during the declaration, before the apply that is timed.
    const fromNothing = await up({ ...BASE, replicas: 3, keycloakImage: image(FROM_VERSION) });
    report.clusterFromNothingSeconds = fromNothing.seconds;
    await waitForClusterSize(docker, clusterFacts(state!).nodes, 3, 120_000);

    const scaleOut = await up({ ...config, replicas: 4 });
    report.scaleOutSeconds = { from: 3, to: 4, seconds: scaleOut.seconds, created: scaleOut.created, replaced: scaleOut.replaced };
    await up({ ...config, replicas: 3 });

    // Fresh sessions for each measured change: access tokens live 60 s in the master realm.
    const rolling = await underLoad(await loadSessions(), () => up({ ...config, keycloakMemoryMb: 1536 }));
    report.rollingChange = { change: "keycloakMemoryMb 2048 -> 1536", replicas: 3, requests: rolling.load.requests, failed: rolling.load.failures.length, seconds: rolling.seconds, replaced: rolling.value.replaced.length };

    const upgrade = await underLoad(await loadSessions(), () => up({ ...config, keycloakImage: image(TO_VERSION) }));
    await waitForClusterSize(docker, clusterFacts(state!).nodes, 3, 120_000);
    // The version each node's Keycloak reports when it starts ("Keycloak 26.7.3 on JVM").
    const versions = await Promise.all(
        clusterFacts(state!).nodes.map(async (node) => /Keycloak (\S+) on JVM/.exec(await allContainerLogs(docker, node.containerName))?.[1] ?? "unknown"),
    );
    report.patchUpgrade = {
        from: FROM_VERSION,
        to: TO_VERSION,
        replicas: 3,
        requests: upgrade.load.requests,
        failed: upgrade.load.failures.length,
        seconds: upgrade.seconds,
        replaced: upgrade.value.replaced,
        nodesOnNewImage: versions,
        failures: upgrade.load.failures.slice(0, 5).map((failure) => ({ status: failure.status, kind: failure.kind, body: failure.body, msAfterStart: failure.at - upgrade.startedAt })),
    };

    mkdirSync(resolve(REPORT, ".."), { recursive: true });
    writeFileSync(REPORT, JSON.stringify(report, null, 2) + "\n");
    const nodeReadySeconds = report.nodeReadySeconds as { auto: number; optimized: number; ratio: number };
    const rows: [string, string][] = [
        ["nodeReadySeconds (1 node, existing schema)", `auto ${nodeReadySeconds.auto} s, optimized ${nodeReadySeconds.optimized} s (${nodeReadySeconds.ratio}x)`],
        ["imageBuildSeconds (optimized image from nothing)", `${String(report.imageBuildSeconds)} s`],
        ["clusterFromNothingSeconds (N=3, empty database)", `${String(report.clusterFromNothingSeconds)} s`],
        ["scaleOutSeconds (3 -> 4)", `${scaleOut.seconds} s`],
        ["rollingChange (N=3, memory change)", `${rolling.load.requests} requests, ${rolling.load.failures.length} failed, ${rolling.seconds} s`],
        [`patchUpgrade (N=3, ${FROM_VERSION} -> ${TO_VERSION})`, `${upgrade.load.requests} requests, ${upgrade.load.failures.length} failed, ${upgrade.seconds} s`],
        ["cpuCores", String(report.cpuCores)],
    ];
    process.stdout.write(`\n| figure | measured |\n|---|---|\n${rows.map(([name, value]) => `| ${name} | ${value} |`).join("\n")}\n\n-> ${REPORT}\n`);
    expect(report.nodeReadySeconds).toBeDefined();
});

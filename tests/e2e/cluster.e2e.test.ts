/**
 * End-to-end: the program's declaration applied to a real Docker engine, one cluster reused by the tests
 * in order (forms → serves → survives a node kill → scales out and in → database restart and replacement
 * → private by default → tears down). Fails, never skips, without an engine or the e2e images.
 *
 *   bash tests/e2e/images/build.sh && npm run test:e2e
 */
import type Docker from "dockerode";
import { parseSubnet } from "../../components/addressPlan";
import { KEYCLOAK_VERSION } from "../../components/config";
import type { Declaration, ProviderFake } from "../support/declaration";
import { TYPES } from "../support/declaration";
import { apply, ApplyOptions, ApplyResult, destroy, newContext, preview, refresh, RefreshResult } from "./harness/apply";
import { allContainerLogs, connectDocker, ensureEngine, sleep } from "./harness/docker";
import { E2E_IMAGES, E2E_PREVIOUS_MINOR_KEYCLOAK_IMAGE } from "./harness/images";
import { declareStack, StackConfig } from "../support/program";
import { imageBuildSeconds, localImageId, localProviderFake } from "./harness/providerFake";
import { HarnessContext } from "./harness/resources";
import {
    canConnect,
    ClusterFacts,
    clusterFacts,
    clusterSize,
    coordinatorName,
    jgroupsMembers,
    jgroupsRows,
    labelled,
    lastViewLine,
    loadBalancerSlots,
    NodeFacts,
    pollUntil,
    removeLabelled,
    ServerSlot,
    upSlots,
    waitForClusterSize,
} from "./support/cluster";
import { adminApi, getViaLoopback, http, json, jwtClaims, rawRequest, refreshGrant, tlsHandshake, token, TokenSet, userinfo } from "./support/http";
import { LoadResult, percentile, runLoad, underLoad } from "./support/load";
import { createProbeRealm, probeRealm, probeToken } from "./support/probe";
import { TestCertificateAuthority } from "../support/testCertificates";
import { REPORT_FILE, seconds, writeReport } from "./support/report";

const CLUSTER_NAME = process.env.KCE2E_CLUSTER_NAME ?? "kce2e";
const SUBNET = process.env.KCE2E_SUBNET ?? "10.231.200.0/24";
const BASE_PORT = 18080;
const LB_PORT = 18000;
/** The plain-HTTP redirect port of the TLS test. */
const REDIRECT_PORT = 18090;
const CONFIG: StackConfig = {
    clusterName: CLUSTER_NAME,
    subnet: SUBNET,
    basePort: BASE_PORT,
    loadBalancerPort: LB_PORT,
    ...E2E_IMAGES,
    replicas: 2,
};
/**
 * The realm, public client and user the suite's clients log in with through the load balancer (the master realm
 * is not routed there; admin-cli also issues lightweight access tokens, which userinfo refuses).
 */
const PROBE = probeRealm(`${CLUSTER_NAME}-probe`);
const FAILOVER_LIMITS = { maxRequests: 2000, maxMs: 60_000 };

const suiteStarted = Date.now();
const report: Record<string, unknown> = {
    clusterName: CLUSTER_NAME,
    subnet: SUBNET,
    startedAt: new Date(suiteStarted).toISOString(),
    timeToHealthySeconds: {} as Record<string, number>,
    clusterSizes: {} as Record<string, number[]>,
};

let docker: Docker;
let ctx: HarnessContext;
let fake: ProviderFake;
/** The deployment state after the last apply (what Pulumi's checkpoint would hold). */
let state: Declaration | undefined;
/** The stack config of the last apply. */
let stackConfig: StackConfig = CONFIG;
let facts: ClusterFacts;
/** Created in test 5; test 7 looks for it on the reused volume. */
let userCreatedBeforeRestart: string | undefined;

function log(message: string): void {
    process.stderr.write(`[e2e ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function applyAndRecord(next: Declaration, options: ApplyOptions = {}): Promise<ApplyResult> {
    const result = await apply(ctx, state, next, options);
    state = result.state;
    facts = clusterFacts(result.state);
    return result;
}

/**
 * `pulumi up` with this stack config, as the real engine runs it: with `refresh`, every resource is read back
 * from Docker first and the program runs against that state; `replace` is `--replace`.
 */
async function up(config: StackConfig, options: ApplyOptions & { refresh?: boolean } = {}): Promise<{ result: ApplyResult; refreshed?: RefreshResult }> {
    let refreshed: RefreshResult | undefined;
    if (options.refresh) {
        refreshed = await refresh(ctx, state!);
        state = refreshed.state;
    }
    const declaration = await declareStack(config, fake, state);
    const result = await applyAndRecord(declaration, options);
    stackConfig = config;
    return { result, refreshed };
}

const NO_CHANGES = { created: [], updated: [], replaced: [], deleted: [] };
const changesOf = (result: { created: string[]; updated: string[]; replaced: string[]; deleted: string[] }) => ({
    created: result.created,
    updated: result.updated,
    replaced: result.replaced,
    deleted: result.deleted,
});

async function containerIdentity(names: string[]): Promise<Record<string, { id: string; startedAt: string }>> {
    const entries = await Promise.all(
        names.map(async (name) => {
            const info = await docker.getContainer(name).inspect();
            return [name, { id: info.Id, startedAt: info.State.StartedAt }] as const;
        }),
    );
    return Object.fromEntries(entries);
}

function overlaps(a: string, b: string): boolean {
    const x = parseSubnet(a);
    const y = parseSubnet(b);
    if (!x || !y) return false;
    const prefix = Math.min(x.prefix, y.prefix);
    const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
    return ((x.base & mask) >>> 0) === ((y.base & mask) >>> 0);
}

async function adminToken(base: string): Promise<TokenSet> {
    return token(base, "admin-cli", facts.adminUsername, facts.adminPassword);
}

async function keycloakVersionOf(base: string): Promise<string> {
    const tokens = await adminToken(base);
    return json<{ systemInfo: { version: string } }>(await adminApi(base, tokens.access_token, "/serverinfo")).systemInfo.version;
}

async function findUser(base: string, username: string): Promise<number> {
    const tokens = await adminToken(base);
    const result = await adminApi(base, tokens.access_token, `/realms/master/users?exact=true&username=${encodeURIComponent(username)}`);
    if (result.status !== 200) throw new Error(`user lookup via ${base}: HTTP ${result.status}`);
    return json<unknown[]>(result).length;
}

/**
 * Every node ready again and really serving from the database: /health/ready 200 on its management port,
 * a fresh token from its own port, and the user found. Returns when all hold.
 */
async function waitNodesServe(username: string, timeoutMs: number): Promise<void> {
    await pollUntil(
        "every node to be ready and serve from the database",
        timeoutMs,
        async () => {
            for (const node of facts.nodes) {
                const ready = await http(`${node.management}/health/ready`, {}, 5000);
                if (ready.status !== 200) return undefined;
                if ((await findUser(node.url, username)) !== 1) return undefined;
            }
            return true;
        },
        1000,
    );
}

async function dockerHealthy(names: string[], timeoutMs: number): Promise<void> {
    await pollUntil(`${names.join(", ")} to be healthy in Docker`, timeoutMs, async () => {
        const states = await Promise.all(names.map(async (name) => (await docker.getContainer(name).inspect()).State.Health?.Status));
        return states.every((status) => status === "healthy") ? true : undefined;
    }, 1000);
}

interface Watch {
    lbDownAt?: number;
    lbDownSlot?: ServerSlot;
}

/** Stop once the load balancer took the victim out and nothing has failed for `ms`. */
function quietFor(ms: number) {
    return (watch: Watch, load: LoadResult) => {
        if (watch.lbDownAt === undefined) return false;
        const lastFailure = load.failures.length > 0 ? load.failures[load.failures.length - 1].at : 0;
        return Date.now() - Math.max(watch.lbDownAt, lastFailure) >= ms;
    };
}

interface KillOptions {
    clients: number;
    maxMs?: number;
    pauseAfterFailureMs: number;
    until: (watch: Watch, load: LoadResult) => boolean;
}

/**
 * Puts bounded load on the load balancer, `docker kill`s the victim 3 s in, and watches the load balancer's
 * slots and the survivors' readiness until `until` holds (or the caps are hit).
 */
async function killUnderLoad(victim: NodeFacts, options: KillOptions) {
    const lb = facts.loadBalancer.url;
    const survivors = facts.nodes.filter((node) => node !== victim);
    // Independent sessions, one per client, all logged in before the kill.
    const sessions = await Promise.all(Array.from({ length: options.clients }, () => probeToken(lb, PROBE)));
    const refreshTokenBeforeKill = sessions[0].refresh_token;
    const slotsBefore = upSlots(await loadBalancerSlots(docker, facts));
    expect(slotsBefore).toHaveLength(facts.nodes.length);
    const restartsBefore = (await docker.getContainer(victim.containerName).inspect()).RestartCount;

    const watch: Watch = {};
    const slotTimeline: { atMs: number; slots: string }[] = [];
    const survivorHealth: { atMs: number; node: string; status: number; failingChecks: string[] }[] = [];
    const loadStartedAt = Date.now();
    let killAt: number | undefined;
    let killDone: Promise<unknown> | undefined;
    let finished = false;
    const watcher = (async () => {
        const lastHealth = new Map<string, string>();
        while (!finished) {
            if (killAt === undefined && Date.now() - loadStartedAt >= 3000) {
                killAt = Date.now();
                log(`docker kill ${victim.containerName}`);
                killDone = docker.getContainer(victim.containerName).kill();
            }
            if (killAt !== undefined) {
                for (const survivor of survivors) {
                    const ready = await http(`${survivor.management}/health/ready`, {}, 1500);
                    let failingChecks: string[] = [];
                    try {
                        failingChecks = (json<{ checks: { name: string; status: string }[] }>(ready).checks ?? []).filter((c) => c.status !== "UP").map((c) => c.name);
                    } catch {
                        failingChecks = ready.status === 200 ? [] : [`HTTP ${ready.status}`];
                    }
                    const key = `${ready.status} ${failingChecks.join(",")}`;
                    if (lastHealth.get(survivor.containerName) !== key) {
                        lastHealth.set(survivor.containerName, key);
                        survivorHealth.push({ atMs: Date.now() - killAt, node: survivor.containerName, status: ready.status, failingChecks });
                    }
                }
                const slots = await loadBalancerSlots(docker, facts).catch(() => undefined);
                const watched = (slots ?? []).filter((slot) => slotsBefore.includes(slot.name));
                const summary = watched.map((slot) => `${slot.name}=${slot.status}`).join(" ");
                if (slots && summary !== slotTimeline[slotTimeline.length - 1]?.slots) slotTimeline.push({ atMs: Date.now() - killAt, slots: summary });
                const gone = watched.find((slot) => /^(DOWN|MAINT)/.test(slot.status));
                if (gone && watch.lbDownAt === undefined) {
                    watch.lbDownAt = Date.now();
                    watch.lbDownSlot = gone;
                }
            }
            await sleep(200);
        }
    })();
    const load = await runLoad({
        baseUrl: lb,
        realm: PROBE.realm,
        clientId: PROBE.clientId,
        sessions,
        maxRequests: FAILOVER_LIMITS.maxRequests,
        maxMs: options.maxMs ?? FAILOVER_LIMITS.maxMs,
        pauseMs: 5,
        pauseAfterFailureMs: options.pauseAfterFailureMs,
        done: (result) => killAt !== undefined && options.until(watch, result),
        phase: () => (killAt === undefined ? "beforeKill" : watch.lbDownAt === undefined ? "killToLbDown" : "afterLbDown"),
    });
    finished = true;
    await watcher;
    await killDone;
    const refreshAfter = await refreshGrant(lb, PROBE.clientId, refreshTokenBeforeKill, PROBE.realm);
    const stateAfter = await docker.getContainer(victim.containerName).inspect();
    const lbEvents = (await allContainerLogs(docker, facts.loadBalancer.containerName)).split("\n").filter((line) => /^\[(WARNING|ALERT|NOTICE)\]/.test(line));
    const failures = load.failures;
    const summary = {
        requests: load.requests,
        failed: failures.length,
        gapSeconds: killAt !== undefined && watch.lbDownAt !== undefined ? seconds(killAt, watch.lbDownAt) : null,
        lbSlotStatusAfterKill: watch.lbDownSlot?.status ?? null,
        outageSeconds: failures.length > 0 && killAt !== undefined ? seconds(killAt, failures[failures.length - 1].at) : 0,
        concurrentClients: options.clients,
        requestsByPhase: load.byPhase,
        p50LatencyMs: percentile(load.latenciesMs, 50),
        maxLatencyMs: percentile(load.latenciesMs, 100),
        failures: failures.slice(0, 5).map((failure) => ({ ...failure, at: undefined, msAfterKill: failure.at - (killAt ?? failure.at) })),
        slotTimeline,
        survivorHealth,
        loadBalancerEvents: lbEvents.slice(-12),
        refreshTokenFromBeforeKillStatus: refreshAfter.status,
        restartPolicy: {
            policy: stateAfter.HostConfig.RestartPolicy?.Name,
            statusAfterKill: stateAfter.State.Status,
            restartCountDelta: stateAfter.RestartCount - restartsBefore,
            restartedByDocker: stateAfter.State.Running,
        },
    };
    return { load, killAt: killAt!, summary, survivorHealth, refreshTokenFromBeforeKillStatus: refreshAfter.status };
}

/** Distinct member names among the JGROUPS_PING rows Keycloak still takes into account (a killed node's old row stays until stale). */
async function liveMemberNames(): Promise<string[]> {
    return [...new Set((await jgroupsMembers(docker, facts)).map((row) => row.name))].sort();
}

/**
 * Brings a killed node back the way the real engine does. A plain `pulumi up` changes nothing: the state still
 * says the container runs, and Docker's unless-stopped policy does not restart a container stopped by
 * `docker kill`. `pulumi up --refresh` reads it back stopped (no ports, mustRun false) and replaces exactly
 * that node. Returns the seconds from the new container's start until the full view is back.
 */
async function bringBack(victim: NodeFacts): Promise<{ rejoinSeconds: number; plainUp: object; refreshUp: object }> {
    const others = (await labelled(docker, CLUSTER_NAME)).containers.filter((name) => name !== victim.containerName);
    const othersBefore = await containerIdentity(others);
    const plain = (await up(stackConfig)).result;
    expect(changesOf(plain)).toEqual(NO_CHANGES);
    expect(plain.operations).toEqual([]);
    expect((await docker.getContainer(victim.containerName).inspect()).State.Running).toBe(false);

    const healed = await up(stackConfig, { refresh: true });
    expect(healed.refreshed!.changed).toEqual([victim.resourceName]);
    expect(changesOf(healed.result)).toEqual({ ...NO_CHANGES, replaced: [victim.resourceName] });
    expect(healed.result.changes[victim.resourceName].replaceKeys).toEqual(["ports"]);
    expect(healed.result.operations).toEqual([`delete ${victim.resourceName}`, `create ${victim.resourceName}`]);
    expect(await containerIdentity(others)).toEqual(othersBefore);
    const startedAt = healed.result.timings[victim.resourceName].startedAt!;
    await waitForClusterSize(docker, facts.nodes, facts.nodes.length, 120_000);
    await pollUntil("every load balancer slot UP again", 30_000, async () => (upSlots(await loadBalancerSlots(docker, facts)).length === facts.nodes.length ? true : undefined));
    return {
        rejoinSeconds: seconds(startedAt, Date.now()),
        plainUp: { ...changesOf(plain), operations: plain.operations },
        refreshUp: { refreshChanged: healed.refreshed!.changed, ...changesOf(healed.result), operations: healed.result.operations },
    };
}

/**
 * Changes keycloakMemoryMb, which replaces every node (replaceOnChanges), under bounded load through the load
 * balancer, sampling every node's readiness twice a second. Asserts what a rolling replacement must give:
 * the nodes replaced strictly one after another (maxUnavailable 1), never fewer than N - 1 nodes ready, no
 * failed request, nothing else touched, the full view again afterwards and no drift on a refresh.
 */
async function replaceEveryNodeUnderLoad(newMemoryMb: number, reportKey: string) {
    const count = facts.nodes.length;
    const resourceNames = facts.nodes.map((node) => node.resourceName);
    const others = [facts.loadBalancer.containerName, facts.postgres.containerName];
    const othersBefore = await containerIdentity(others);
    const fromMb = Number(stackConfig.keycloakMemoryMb ?? 2048);
    // A member that crashed less than 60 s ago still counts in Keycloak's split-brain check (its JGROUPS_PING
    // row), which then holds survivors not ready on the next coordinator change (see test 3b): start from a
    // cluster whose rows are all live members or past the staleness timeout, as after any quiet minute.
    await pollUntil("no crashed member still counted in JGROUPS_PING", 90_000, async () => {
        const live = new Set(facts.nodes.map((node) => `${node.ip}:7800`));
        const counted = await jgroupsMembers(docker, facts);
        return counted.every((row) => live.has(row.ip)) && counted.length === count ? true : undefined;
    }, 2000);
    const config = { ...stackConfig, keycloakMemoryMb: newMemoryMb };

    const planned = preview(state, await declareStack(config, fake, state));
    expect(changesOf(planned)).toEqual({ ...NO_CHANGES, replaced: resourceNames });
    for (const name of resourceNames) expect(planned.changes[name]).toEqual({ changed: ["memory"], replaceKeys: ["memory"] });

    const lb = facts.loadBalancer.url;
    const sessions = await Promise.all([0, 1].map(() => probeToken(lb, PROBE)));
    let applyDone = false;
    let fewestReady = count;
    const readySamples: number[] = [];
    /** Samples with fewer than N nodes ready: what each node answered (status, or the connection error). */
    const degraded: { atMs: number; nodes: string[] }[] = [];
    const samplingFrom = Date.now();
    const sampler = (async () => {
        while (!applyDone) {
            const answers = await Promise.all(
                facts.nodes.map(async (node) => {
                    const ready = await http(`${node.management}/health/ready`, {}, 3000);
                    if (ready.status === 200) return "ready";
                    if (ready.status === 0) return ready.text.replace(/^.*\((\w+)\)$/, "$1");
                    const down = (() => {
                        try {
                            return json<{ checks?: { name: string; status: string }[] }>(ready).checks?.filter((check) => check.status !== "UP").map((check) => check.name) ?? [];
                        } catch {
                            return [];
                        }
                    })();
                    return `HTTP ${ready.status} ${down.join(", ")}`.trim();
                }),
            );
            const readyCount = answers.filter((answer) => answer === "ready").length;
            readySamples.push(readyCount);
            if (readyCount < count) degraded.push({ atMs: Date.now() - samplingFrom, nodes: answers });
            fewestReady = Math.min(fewestReady, readyCount);
            await sleep(500);
        }
    })();
    const { value: out, load, startedAt: started } = await underLoad({ baseUrl: lb, realm: PROBE.realm, clientId: PROBE.clientId, sessions }, async () => {
        try {
            return (await up(config)).result;
        } finally {
            applyDone = true;
        }
    });
    await sampler;
    const summary = {
        replicas: count,
        fromMb,
        toMb: newMemoryMb,
        seconds: seconds(started, Date.now()),
        requests: load.requests,
        failed: load.failures.length,
        failures: load.failures.slice(0, 5).map((failure) => ({ ...failure, at: undefined, msAfterStart: failure.at - started })),
        fewestNodesReady: fewestReady,
        readySamples: readySamples.length,
        samplesBelowFull: degraded.length,
        samplesBelowNMinusOne: degraded.filter((sample) => sample.nodes.filter((answer) => answer === "ready").length < count - 1),
        operations: out.operations,
    };
    log(`rolling change at ${count}: ${load.requests} requests, ${load.failures.length} failed, fewest ready ${fewestReady}, ${summary.seconds}s`);
    report[reportKey] = summary;

    expect(changesOf(out)).toEqual({ ...NO_CHANGES, replaced: resourceNames });
    // One node at a time: each node's replacement starts only once the one before it is healthy again.
    expect(out.operations).toEqual(resourceNames.flatMap((name) => [`delete ${name}`, `create ${name}`]));
    const nodeTimes = resourceNames.map((name) => out.timings[name]);
    for (let i = 1; i < nodeTimes.length; i++) expect(nodeTimes[i].createdAt!).toBeGreaterThanOrEqual(nodeTimes[i - 1].healthyAt!);
    expect(await containerIdentity(others)).toEqual(othersBefore);
    for (const node of facts.nodes) {
        const host = (await docker.getContainer(node.containerName).inspect()).HostConfig;
        expect({ node: node.containerName, memory: host.Memory, swap: host.MemorySwap }).toEqual({ node: node.containerName, memory: newMemoryMb * 1024 * 1024, swap: -1 });
    }
    expect(await waitForClusterSize(docker, facts.nodes, count, 120_000)).toEqual(facts.nodes.map(() => count));
    expect(load.failures).toEqual([]);
    // Below N - 1 ready only for the moments Keycloak's own cluster health check holds a survivor while the
    // coordinator role moves (seconds; shorter than the load balancer's 2 x 2 s to mark a node down):
    // recorded in the report, README: Change a setting.
    for (const sample of degraded.filter((entry) => entry.nodes.filter((answer) => answer === "ready").length < count - 1)) {
        expect(sample.nodes.filter((answer) => answer !== "ready" && !/^(HTTP 503 (Graceful Shutdown|Keycloak Initialized)|ECONNREFUSED)/.test(answer)).every((answer) => /Keycloak cluster health check/.test(answer))).toBe(true);
    }

    const refreshed = await refresh(ctx, state!);
    expect(refreshed.changed).toEqual([]);
    state = refreshed.state;
    expect(changesOf(preview(state, await declareStack(config, fake, state)))).toEqual(NO_CHANGES);
}

beforeAll(async () => {
    docker = connectDocker();
    const engine = await ensureEngine(docker);
    report.docker = engine;
    // Missing images fail here, with the hint to build them.
    report.images = Object.fromEntries(
        await Promise.all(Object.values(E2E_IMAGES).map(async (image) => [image, await localImageId(docker, image)] as const)),
    );
    const leftovers = await removeLabelled(docker, CLUSTER_NAME);
    if (leftovers.length > 0) log(`removed leftovers of an earlier run: ${leftovers.join(", ")}`);
    const clashes = (await docker.listNetworks())
        .flatMap((network) => (network.IPAM?.Config ?? []).map((config) => ({ name: network.Name, subnet: config.Subnet ?? "" })))
        .filter((network) => overlaps(network.subnet, SUBNET));
    if (clashes.length > 0) throw new Error(`Subnet ${SUBNET} collides with Docker network(s) ${clashes.map((c) => `${c.name} (${c.subnet})`).join(", ")}; set KCE2E_SUBNET`);
    for (const port of [LB_PORT, REDIRECT_PORT, BASE_PORT, BASE_PORT + 1, BASE_PORT + 2]) {
        if (await canConnect(port, 500)) throw new Error(`127.0.0.1:${port} is already in use; the suite needs ports ${LB_PORT}, ${REDIRECT_PORT} and ${BASE_PORT}-${BASE_PORT + 2}`);
    }
    ctx = newContext(docker, log);
    fake = localProviderFake(docker, log);
});

afterAll(async () => {
    report.suiteSeconds = seconds(suiteStarted, Date.now());
    if (process.env.KCE2E_KEEP === "1") {
        log(`KCE2E_KEEP=1: leaving the cluster running; remove it with docker rm/network rm/volume rm of label keycloak-cluster.cluster=${CLUSTER_NAME}`);
    } else if (docker) {
        try {
            const removed = await removeLabelled(docker, CLUSTER_NAME);
            if (removed.length > 0) log(`cleanup removed: ${removed.join(", ")}`);
        } catch (error) {
            log(`cleanup failed: ${(error as Error).message}`);
        }
    }
    writeReport(report);
    const failover = report.failover as { requests?: number; failed?: number; gapSeconds?: number } | undefined;
    const coordinatorLoss = report.coordinatorLoss as { failed?: number; outageSeconds?: number } | undefined;
    const scaleOut = report.scaleOut as { seconds?: number } | undefined;
    const dbRestart = report.databaseRestart as { restartRecoverySeconds?: number } | undefined;
    process.stdout.write(
        `e2e summary: Keycloak ${String(report.keycloakVersion ?? "?")}, healthy in ${JSON.stringify(report.timeToHealthySeconds)} s, ` +
            `cluster sizes ${JSON.stringify(report.clusterSizes)}, node kill ${failover?.failed ?? "?"}/${failover?.requests ?? "?"} failed ` +
            `(LB noticed in ${failover?.gapSeconds ?? "?"} s), 2-node coordinator kill ${coordinatorLoss?.failed ?? "?"} failed over ${coordinatorLoss?.outageSeconds ?? "?"} s, ` +
            `scale-out ${scaleOut?.seconds ?? "?"} s, db restart recovery ${dbRestart?.restartRecoverySeconds ?? "?"} s, ` +
            `suite ${String(report.suiteSeconds)} s -> ${REPORT_FILE}\n`,
    );
});

describe(`Keycloak cluster "${CLUSTER_NAME}" on a real Docker engine`, () => {
    test("1. forms: two healthy nodes in one JGroups view, discovered through PostgreSQL", async () => {
        const { result } = await up(CONFIG);
        report.optimizedImage = {
            imageName: result.state.resources.find((r) => r.type === TYPES.image)?.inputs.imageName,
            buildSeconds: Object.fromEntries(imageBuildSeconds),
            nodeCommand: (result.state.resources.find((r) => r.name === `${CLUSTER_NAME}-node-1`)?.inputs as { command?: string[] }).command,
        };
        expect(result.created).toHaveLength(result.state.resources.length);
        expect(result.state.resources.every((resource) => (resource.initErrors ?? []).length === 0)).toBe(true);

        const timings = Object.values(result.timings);
        const firstStart = Math.min(...timings.map((t) => t.startedAt ?? Infinity));
        const nodesHealthy = Math.max(...facts.nodes.map((node) => result.timings[node.resourceName]?.healthyAt ?? NaN));
        (report.timeToHealthySeconds as Record<string, number>)["2"] = seconds(firstStart, nodesHealthy);
        expect(facts.nodes).toHaveLength(2);

        const sizes = await waitForClusterSize(docker, facts.nodes, 2, 60_000);
        (report.clusterSizes as Record<string, number[]>)["2"] = sizes;
        report.clusterSizeSource = (await clusterSize(docker, facts.nodes[0])).source;
        expect(sizes).toEqual([2, 2]);

        // The node names we set show up in the view, and JGroups binds the static address with JDBC_PING.
        const names = facts.nodes.map((node) => node.containerName);
        for (const node of facts.nodes) {
            const view = await lastViewLine(docker, node.containerName);
            expect(view).toMatch(/\(2\) \[/);
            for (const name of names) expect(view).toContain(name);
            const text = await allContainerLogs(docker, node.containerName);
            // The optimized image was built with exactly the options the node runs with: no re-augmentation.
            expect(text).not.toMatch(/Updating the server image|Changes detected in configuration/);
            expect(text).toContain("JGroups JDBC_PING discovery enabled");
            // Keycloak 26.2+ encrypts the cluster transport by default (cache-embedded-mtls-enabled, keys kept in the database).
            expect(text).toContain("JGroups Encryption enabled (mTLS)");
            expect(text).toContain(`physical addresses are \`[${node.ip}:7800]\``);
            // The default memory limit is applied, and the JVM sizes its heap from it (70%).
            expect((await docker.getContainer(node.containerName).inspect()).HostConfig.Memory).toBe(2048 * 1024 * 1024);
        }

        const expected = facts.nodes.map((node) => ({ name: node.containerName, ip: `${node.ip}:7800` }));
        const members = await pollUntil("JGROUPS_PING to list exactly the live members", 30_000, async () => {
            const rows = (await jgroupsRows(docker, facts)).map(({ name, ip }) => ({ name, ip }));
            return JSON.stringify(rows) === JSON.stringify(expected) ? rows : undefined;
        }).catch(async () => (await jgroupsRows(docker, facts)).map(({ name, ip }) => ({ name, ip })));
        expect(members).toEqual(expected);
    });

    test("1b. settles: a second up changes nothing, and neither does refresh followed by up", async () => {
        const names = (await labelled(docker, CLUSTER_NAME)).containers;
        const before = await containerIdentity(names);
        const again = (await up(stackConfig)).result;
        expect(changesOf(again)).toEqual(NO_CHANGES);
        expect(again.operations).toEqual([]);

        // What the real engine showed as phantom updates (healthcheck durations, memorySwap) must not appear
        // once every field is read back from Docker.
        const refreshed = await refresh(ctx, state!);
        expect({ changed: refreshed.changed, removed: refreshed.removed }).toEqual({ changed: [], removed: [] });
        state = refreshed.state;
        const afterRefresh = preview(state, await declareStack(stackConfig, fake, state));
        expect({ ...changesOf(afterRefresh), changes: afterRefresh.changes }).toEqual({ ...NO_CHANGES, changes: {} });
        expect(await containerIdentity(names)).toEqual(before);
        report.settles = { secondUp: changesOf(again), refreshChanged: refreshed.changed, previewAfterRefresh: changesOf(afterRefresh) };
    });

    test("2. serves: a token from the load balancer is accepted by every node; /admin/ and the master realm are not routed", async () => {
        const lb = facts.loadBalancer.url;
        // Administrators sign in on a node's own (loopback) port: the load balancer does not route the master realm.
        const adminTokens = await adminToken(facts.nodes[0].url);
        expect(jwtClaims(adminTokens.access_token).iss).toBe(`http://localhost:${LB_PORT}/realms/master`);
        for (const node of facts.nodes) {
            const realm = await adminApi(node.url, adminTokens.access_token, "/realms/master");
            expect({ node: node.containerName, status: realm.status }).toEqual({ node: node.containerName, status: 200 });
        }
        report.keycloakVersion = await keycloakVersionOf(facts.nodes[0].url);
        expect(report.keycloakVersion).toBe(KEYCLOAK_VERSION);

        expect(await createProbeRealm(facts.nodes[0].url, adminTokens.access_token, PROBE)).toBe("created");
        const probe = await probeToken(lb, PROBE);
        expect(jwtClaims(probe.access_token).iss).toBe(`http://localhost:${LB_PORT}/realms/${PROBE.realm}`);
        const subjects = new Set<string>();
        for (const base of [lb, ...facts.nodes.map((node) => node.url)]) {
            const result = await userinfo(base, probe.access_token, PROBE.realm);
            expect({ base, status: result.status }).toEqual({ base, status: 200 });
            const body = json<{ sub: string; preferred_username: string }>(result);
            expect(body.preferred_username).toBe(PROBE.username);
            subjects.add(body.sub);
        }
        expect(subjects.size).toBe(1);

        const discovery = await http(`${lb}/realms/${PROBE.realm}/.well-known/openid-configuration`);
        expect(discovery.status).toBe(200);
        expect(json(discovery).issuer).toBe(`http://localhost:${LB_PORT}/realms/${PROBE.realm}`);

        for (const path of ["/admin/", "/admin/master/console/", "/metrics", "/health/ready", "/", "/realms/master/", "/realms/master/protocol/openid-connect/token", "/realms/master"]) {
            const blocked = await http(`${lb}${path}`);
            expect({ path, status: blocked.status }).toEqual({ path, status: 404 });
        }
        // The console is served on a node's own port (the 404s above come from the load balancer), and the
        // adminConsoleUrl output leads to it.
        expect((await http(`${facts.nodes[0].url}/admin/master/console/`)).status).toBe(200);
        const consoleUrl = String(state!.stackOutputs.adminConsoleUrl);
        expect(consoleUrl).toBe(`http://localhost:${BASE_PORT}/admin/`);
        const redirect = await getViaLoopback(consoleUrl);
        expect(redirect).toEqual({ status: 302, location: `${consoleUrl}master/console/` });
        expect((await getViaLoopback(redirect.location!)).status).toBe(200);
    });

    test("3. survives: docker kill of a non-coordinator node under load through the load balancer", async () => {
        const coordinator = await coordinatorName(docker, facts.nodes[0]);
        const victim = facts.nodes.find((node) => node.containerName !== coordinator)!;
        const run = await killUnderLoad(victim, {
            clients: 4,
            pauseAfterFailureMs: 5,
            // Keep the load on for 5 s after the load balancer took the node out.
            until: quietFor(5000),
        });
        report.failover = { killedNode: victim.containerName, coordinator, ...run.summary };
        log(`failover: ${run.load.requests} requests, ${run.load.failures.length} failed, LB noticed after ${run.summary.gapSeconds}s`);

        expect(run.load.stoppedBy).toBe("done");
        expect(run.load.failures).toEqual([]);
        expect(run.refreshTokenFromBeforeKillStatus).toBe(200);
        expect(upSlots(await loadBalancerSlots(docker, facts))).toHaveLength(1);

        // The survivor's view shrinks to 1.
        const survivor = facts.nodes.find((node) => node !== victim)!;
        const shrunk = await pollUntil("the survivor's view to shrink to 1", 60_000, async () => ((await clusterSize(docker, survivor)).size === 1 ? Date.now() : undefined));
        (report.failover as Record<string, unknown>).viewShrinkSeconds = seconds(run.killAt, shrunk);

        Object.assign(report.failover as Record<string, unknown>, await bringBack(victim));
    });

    test("3b. losing the coordinator of a two-node cluster: the survivor recovers by itself (measured)", async () => {
        const coordinator = await coordinatorName(docker, facts.nodes[0]);
        const victim = facts.nodes.find((node) => node.containerName === coordinator)!;
        expect(victim).toBeDefined();
        const run = await killUnderLoad(victim, {
            clients: 2,
            maxMs: 120_000,
            pauseAfterFailureMs: 250,
            // Until the load balancer took the victim out and nothing failed for 5 s.
            until: quietFor(5000),
        });
        const failingChecks = [...new Set(run.survivorHealth.flatMap((entry) => entry.failingChecks))];
        report.coordinatorLoss = {
            killedNode: victim.containerName,
            ...run.summary,
            survivorFailingChecks: failingChecks,
            explanation:
                "Keycloak's split-brain check (KEYCLOAK_JDBC_PING2) keeps a node not ready while the coordinator with the largest partition, ties broken by the lowest address, " +
                "is not its own view's coordinator. In a two-node cluster the dead coordinator's row (1 member, older and lower address) wins the tie until it is older than " +
                "the 60 s staleness timeout, so the survivor is not ready and the load balancer has no server for up to about a minute.",
        };
        log(`coordinator loss: ${run.load.requests} requests, ${run.load.failures.length} failed, survivor failing checks ${JSON.stringify(failingChecks)}`);

        // Principled, not zero: the survivor recovers by itself, only Keycloak's cluster health check held it back,
        // sessions survive, and the outage stays within the staleness timeout (60 s) plus its 10 s check interval and the load balancer's rise time.
        expect(run.load.stoppedBy).toBe("done");
        expect(failingChecks.every((name) => name === "Keycloak cluster health check")).toBe(true);
        expect(run.refreshTokenFromBeforeKillStatus).toBe(200);
        expect(run.summary.outageSeconds).toBeLessThanOrEqual(80);

        Object.assign(report.coordinatorLoss as Record<string, unknown>, await bringBack(victim));
    });

    test("4. scales out 2 → 3: one container created, nothing else touched", async () => {
        const before = state!;
        const existing = [facts.loadBalancer.containerName, facts.postgres.containerName, ...facts.nodes.map((node) => node.containerName)];
        const identityBefore = await containerIdentity(existing);

        const planned = preview(before, await declareStack({ ...CONFIG, replicas: 3 }, fake, before));
        expect(changesOf(planned)).toEqual({ ...NO_CHANGES, created: [`${CLUSTER_NAME}-node-3`] });

        const out = (await up({ ...CONFIG, replicas: 3 })).result;
        expect(changesOf(out)).toEqual({ ...NO_CHANGES, created: [`${CLUSTER_NAME}-node-3`] });
        expect(out.operations).toEqual([`create ${CLUSTER_NAME}-node-3`]);
        // Same containers, not even restarted.
        expect(await containerIdentity(existing)).toEqual(identityBefore);
        const node3 = facts.nodes[2];
        const t = out.timings[node3.resourceName];
        (report.timeToHealthySeconds as Record<string, number>)["3"] = seconds(t.startedAt!, t.healthyAt!);

        const sizes = await waitForClusterSize(docker, facts.nodes, 3, 120_000);
        (report.clusterSizes as Record<string, number[]>)["3"] = sizes;
        expect(sizes).toEqual([3, 3, 3]);
        report.scaleOut = { created: out.created, replaced: out.replaced, untouched: out.untouched, seconds: out.seconds };
        // The unchanged load balancer finds the new node through DNS.
        await pollUntil("three load balancer slots UP", 60_000, async () => (upSlots(await loadBalancerSlots(docker, facts)).length === 3 ? true : undefined));
        const names = facts.nodes.map((node) => node.containerName);
        const members = await pollUntil("JGROUPS_PING to list the three members", 30_000, async () => {
            const live = await liveMemberNames();
            return live.length === 3 ? live : undefined;
        }).catch(liveMemberNames);
        expect(members).toEqual(names);
    });

    test("4a. with three nodes, a memory change replaces them one at a time, with no failed request", async () => {
        await replaceEveryNodeUnderLoad(1536, "rollingChangeAtThree");
    });

    test("4b. three nodes: losing the coordinator under load", async () => {
        const coordinator = await coordinatorName(docker, facts.nodes[0]);
        const victim = facts.nodes.find((node) => node.containerName === coordinator)!;
        expect(victim).toBeDefined();
        const run = await killUnderLoad(victim, { clients: 4, maxMs: 90_000, pauseAfterFailureMs: 100, until: quietFor(5000) });
        report.coordinatorLossAtThree = { killedNode: victim.containerName, ...run.summary };
        log(`coordinator loss at 3: ${run.load.requests} requests, ${run.load.failures.length} failed`);
        expect(run.load.stoppedBy).toBe("done");
        expect(run.load.failures).toEqual([]);
        expect(run.refreshTokenFromBeforeKillStatus).toBe(200);
        Object.assign(report.coordinatorLossAtThree as Record<string, unknown>, await bringBack(victim));
    });

    test("4c. scales in 3 → 2: only node 3 deleted, nothing else touched", async () => {
        const three = state!;
        const node3 = facts.nodes[2];
        const existing = [facts.loadBalancer.containerName, facts.postgres.containerName, facts.nodes[0].containerName, facts.nodes[1].containerName];
        const identityAtThree = await containerIdentity(existing);
        const scaleInPlan = preview(three, await declareStack({ ...stackConfig, replicas: 2 }, fake, three));
        expect(changesOf(scaleInPlan)).toEqual({ ...NO_CHANGES, deleted: [`${CLUSTER_NAME}-node-3`] });
        const scaleInStarted = Date.now();
        const back = (await up({ ...stackConfig, replicas: 2 })).result;
        expect(changesOf(back)).toEqual({ ...NO_CHANGES, deleted: [`${CLUSTER_NAME}-node-3`] });
        expect(back.operations).toEqual([`delete ${CLUSTER_NAME}-node-3`]);
        expect(await containerIdentity(existing)).toEqual(identityAtThree);
        expect((await labelled(docker, CLUSTER_NAME)).containers).not.toContain(node3.containerName);
        const sizesBack = await waitForClusterSize(docker, facts.nodes, 2, 60_000);
        expect(sizesBack).toEqual([2, 2]);
        const names = facts.nodes.map((node) => node.containerName);
        const jgroupsAfter = await pollUntil("JGROUPS_PING back to two members", 30_000, async () => {
            const live = await liveMemberNames();
            return live.length === 2 ? live : undefined;
        }).catch(liveMemberNames);
        expect(jgroupsAfter).toEqual(names);
        report.scaleIn = { deleted: back.deleted, replaced: back.replaced, untouched: back.untouched, seconds: seconds(scaleInStarted, Date.now()), clusterSizes: sizesBack };
    });

    test("5. database restart and replacement: nodes recover by themselves, data stays", async () => {
        const node1 = facts.nodes[0];
        const tokens = await adminToken(node1.url);
        const username = `${CLUSTER_NAME}-user-${Date.now()}`;
        userCreatedBeforeRestart = username;
        const created = await adminApi(node1.url, tokens.access_token, "/realms/master/users", {
            method: "POST",
            body: JSON.stringify({ username, enabled: true }),
        });
        expect(created.status).toBe(201);
        expect(await findUser(facts.nodes[1].url, username)).toBe(1);
        const nodeNames = facts.nodes.map((node) => node.containerName);
        const nodesBefore = await containerIdentity(nodeNames);

        const pg = docker.getContainer(facts.postgres.containerName);
        const pgIdBefore = (await pg.inspect()).Id;
        const restartAt = Date.now();
        await pg.restart({ t: 30 });
        await waitNodesServe(username, 180_000);
        const restartRecovered = Date.now();
        await dockerHealthy([facts.postgres.containerName, ...nodeNames], 120_000);
        expect(await containerIdentity(nodeNames)).toEqual(nodesBefore); // recovered without being restarted

        // pulumi up --replace <postgres>: only PostgreSQL is replaced; the nodes depend on it through dependsOn
        // alone, which never replaces a dependent.
        const replaceAt = Date.now();
        const replaced = (await up(stackConfig, { replace: [facts.postgres.resourceName] })).result;
        expect(changesOf(replaced)).toEqual({ ...NO_CHANGES, replaced: [facts.postgres.resourceName] });
        expect(replaced.operations).toEqual([`delete ${facts.postgres.resourceName}`, `create ${facts.postgres.resourceName}`]);
        const pgIdAfter = (await docker.getContainer(facts.postgres.containerName).inspect()).Id;
        expect(pgIdAfter).not.toBe(pgIdBefore);
        await waitNodesServe(username, 180_000);
        const replaceRecovered = Date.now();
        await dockerHealthy(nodeNames, 120_000);
        expect(await containerIdentity(nodeNames)).toEqual(nodesBefore);
        const throughLoadBalancer = await probeToken(facts.loadBalancer.url, PROBE);
        expect(throughLoadBalancer.access_token).toBeTruthy();

        report.databaseRestart = {
            restartRecoverySeconds: seconds(restartAt, restartRecovered),
            replaceRecoverySeconds: seconds(replaceAt, replaceRecovered),
            userSurvivedRestart: true,
            userSurvivedReplacement: true,
            nodesRestarted: false,
        };
    });

    test("5b. with two nodes, a memory change back to the default replaces them one at a time with no failed request", async () => {
        await replaceEveryNodeUnderLoad(2048, "rollingChangeAtTwo");
    });

    test("6. private by default: only node HTTP ports and the load balancer are published, on 127.0.0.1", async () => {
        const published: Record<string, string[]> = {};
        for (const name of (await labelled(docker, CLUSTER_NAME)).containers) {
            const info = await docker.getContainer(name).inspect();
            type Bindings = Record<string, { HostIp: string; HostPort: string }[] | null>;
            const bindings = (info.HostConfig.PortBindings ?? {}) as Bindings;
            const live = (info.NetworkSettings.Ports ?? {}) as Bindings;
            published[name] = Object.entries(bindings).flatMap(([port, hosts]) =>
                (hosts ?? []).map((host) => `${host.HostIp}:${host.HostPort}->${port}`),
            );
            const liveBindings = Object.entries(live).flatMap(([port, hosts]) =>
                (hosts ?? []).map((host) => `${host.HostIp}:${host.HostPort}->${port}`),
            );
            expect({ name, live: liveBindings.sort() }).toEqual({ name, live: [...published[name]].sort() });
        }
        expect(published).toEqual({
            [facts.loadBalancer.containerName]: [`127.0.0.1:${LB_PORT}->8080/tcp`],
            [facts.postgres.containerName]: [],
            ...Object.fromEntries(facts.nodes.map((node) => [node.containerName, [`127.0.0.1:${node.hostPort}->8080/tcp`]])),
        });
        const reachable: Record<number, boolean> = {};
        for (const port of [LB_PORT, ...facts.nodes.map((node) => node.hostPort), 5432, 9000, 7800, 57800, 8404]) reachable[port] = await canConnect(port);
        // The stats listener is on the load balancer's own loopback: not even the Docker host reaches it.
        expect(await canConnect(8404, 2000, facts.loadBalancer.ip)).toBe(false);
        expect(reachable).toEqual({
            [LB_PORT]: true,
            ...Object.fromEntries(facts.nodes.map((node) => [node.hostPort, true])),
            5432: false,
            9000: false,
            7800: false,
            57800: false,
            8404: false,
        });
        report.publishedPorts = published;
    });

    test("7. tears down: destroy keeps only the data volume; a new stack given the kept passwords finds the data; retainDatabaseVolume=false removes the volume", async () => {
        const applied = state!;
        const destroyed = await destroy(ctx, applied);
        expect(destroyed.retained).toEqual([`${CLUSTER_NAME}-postgres-data`]);
        expect(destroyed.deleted).toEqual(
            applied.resources
                .filter((r) => r.type !== TYPES.cluster && r.type !== TYPES.volume)
                .map((r) => r.name)
                .sort(),
        );
        expect(await labelled(docker, CLUSTER_NAME)).toEqual({ containers: [], networks: [], volumes: [facts.volumeName] });
        state = undefined;

        // A new stack on the kept volume, as after `pulumi destroy` and `pulumi up`: PostgreSQL keeps the
        // password it was initialised with, so the old passwords are handed over as secret config (README, Destroy).
        const keptPasswords = {
            databasePassword: String(applied.stackOutputs.databasePassword),
            adminPassword: String(applied.stackOutputs.adminPassword),
        };
        const asSecrets = { secretKeys: Object.keys(keptPasswords) };
        const reused = await declareStack({ ...CONFIG, replicas: 1, ...keptPasswords }, fake, undefined, asSecrets);
        expect(reused.resources.filter((r) => r.type === TYPES.randomPassword)).toEqual([]);
        expect(reused.warnings).toEqual([]);
        const reuseStarted = Date.now();
        const created = await applyAndRecord(reused);
        expect(created.created).toContain(`${CLUSTER_NAME}-postgres-data`);
        expect(await findUser(facts.nodes[0].url, userCreatedBeforeRestart!)).toBe(1);
        expect((await probeToken(facts.loadBalancer.url, PROBE)).access_token).toBeTruthy();
        const reuseSeconds = seconds(reuseStarted, Date.now());

        // retainDatabaseVolume=false is an option, not an input: nothing changes, and destroy now removes the
        // volume as well.
        const noRetain = await declareStack({ ...CONFIG, replicas: 1, ...keptPasswords, retainDatabaseVolume: false }, fake, state, asSecrets);
        const planned = preview(state, noRetain);
        expect(changesOf(planned)).toEqual(NO_CHANGES);
        expect(noRetain.resources.find((r) => r.type === TYPES.volume)?.retainOnDelete).toBe(false);
        const applyRetainFalse = await applyAndRecord(noRetain);
        expect(applyRetainFalse.operations).toEqual([]);
        const second = await destroy(ctx, state!);
        expect(second.retained).toEqual([]);
        expect(second.deleted).toContain(`${CLUSTER_NAME}-postgres-data`);
        expect(await labelled(docker, CLUSTER_NAME)).toEqual({ containers: [], networks: [], volumes: [] });
        report.teardown = { destroyed: destroyed.deleted, retained: destroyed.retained, volumeReuseSeconds: reuseSeconds, userFoundOnReusedVolume: true, withRetainFalse: second };
        state = undefined;
    });

    test("8. minor upgrade 26.5.6 → 26.7.3: every old node stops before the first new one starts; downtime measured; data and sessions kept", async () => {
        const oldConfig: StackConfig = { ...CONFIG, keycloakImage: E2E_PREVIOUS_MINOR_KEYCLOAK_IMAGE, retainDatabaseVolume: false };
        await up(oldConfig);
        const nodeResources = facts.nodes.map((node) => node.resourceName);
        const fromVersion = await keycloakVersionOf(facts.nodes[0].url);
        expect(fromVersion).toBe("26.5.6");
        expect(await waitForClusterSize(docker, facts.nodes, 2, 60_000)).toEqual([2, 2]);
        expect(await createProbeRealm(facts.nodes[0].url, (await adminToken(facts.nodes[0].url)).access_token, PROBE)).toBe("created");
        const username = `${CLUSTER_NAME}-upgrade-${Date.now()}`;
        const created = await adminApi(facts.nodes[0].url, (await adminToken(facts.nodes[0].url)).access_token, "/realms/master/users", {
            method: "POST",
            body: JSON.stringify({ username, enabled: true }),
        });
        expect(created.status).toBe(201);
        await pollUntil("every load balancer slot UP", 60_000, async () => (upSlots(await loadBalancerSlots(docker, facts)).length === 2 ? true : undefined));

        const upgraded = { ...oldConfig, keycloakImage: E2E_IMAGES.keycloakImage };
        const planned = preview(state, await declareStack(upgraded, fake, state));
        expect(planned.replaced).toEqual(expect.arrayContaining([...nodeResources, `${CLUSTER_NAME}-update-stream`]));

        const lb = facts.loadBalancer.url;
        const sessions = await Promise.all([0, 1].map(() => probeToken(lb, PROBE)));
        const { value: out, load, startedAt } = await underLoad({ baseUrl: lb, realm: PROBE.realm, clientId: PROBE.clientId, sessions }, async () => (await up(upgraded)).result);

        // Recreate: both old nodes go (dependents of the update stream, last one first), then the stream, then
        // the new nodes in their usual order: never an old and a new version in one cluster.
        const streamName = `${CLUSTER_NAME}-update-stream`;
        const nodeSteps = out.operations.filter((operation) => nodeResources.some((name) => operation.endsWith(` ${name}`)) || operation.endsWith(` ${streamName}`));
        expect(nodeSteps).toEqual([...[...nodeResources].reverse().map((name) => `delete ${name}`), `delete ${streamName}`, `create ${streamName}`, ...nodeResources.map((name) => `create ${name}`)]);
        const firstNewStart = Math.min(...nodeResources.map((name) => out.timings[name].startedAt!));
        const failures = load.failures;
        const lastOldNodeGone = out.operations.indexOf(`delete ${nodeResources[0]}`);
        expect(lastOldNodeGone).toBeGreaterThanOrEqual(0);
        for (const node of facts.nodes) expect(await keycloakVersionOf(node.url)).toBe(KEYCLOAK_VERSION);
        expect(await waitForClusterSize(docker, facts.nodes, 2, 120_000)).toEqual([2, 2]);
        expect(await findUser(facts.nodes[1].url, username)).toBe(1);
        // Sessions are persisted in the database (Keycloak 26's default), so a session from before the upgrade still refreshes.
        const sessionAfter = await refreshGrant(lb, PROBE.clientId, load.sessions[0].refresh_token, PROBE.realm);

        const downtime = failures.length > 0 ? seconds(failures[0].at, failures[failures.length - 1].at) : 0;
        report.minorUpgrade = {
            from: fromVersion,
            to: KEYCLOAK_VERSION,
            requests: load.requests,
            failed: failures.length,
            downtimeSeconds: downtime,
            firstNewNodeStartedSeconds: seconds(startedAt, firstNewStart),
            seconds: seconds(startedAt, Date.now()),
            failureStatuses: [...new Set(failures.map((failure) => failure.status))],
            failureSamples: [...new Map(failures.map((failure) => [failure.status, { ...failure, at: undefined, msAfterStart: failure.at - startedAt }])).values()],
            sessionFromBeforeUpgradeRefreshStatus: sessionAfter.status,
            operations: out.operations,
        };
        log(`minor upgrade: ${load.requests} requests, ${failures.length} failed over ${downtime} s`);
        // The outage is the recreate itself: requests fail only while no node serves (the load balancer's 503, or a
        // connection cut as the old nodes stop), never with a refused session, and not once the first new node is
        // healthy and the load balancer has seen it (two checks 1 s apart, plus a check interval).
        expect(failures.filter((failure) => failure.status !== 503 && failure.status !== 0)).toEqual([]);
        const firstNewHealthy = out.timings[nodeResources[0]].healthyAt!;
        expect(failures.filter((failure) => failure.at > firstNewHealthy + 5000)).toEqual([]);
        expect(sessionAfter.status).toBe(200);

        await destroy(ctx, state!);
        state = undefined;
        expect(await labelled(docker, CLUSTER_NAME)).toEqual({ containers: [], networks: [], volumes: [] });
    });

    test("9. the production edge: HTTPS verified against the test CA, HTTP redirected, spoofed forwarding headers ignored, traversal refused, master realm and stats hidden", async () => {
        const authority = new TestCertificateAuthority();
        try {
            const certificate = authority.issue({ names: ["DNS:localhost", "IP:127.0.0.1"] });
            const config: StackConfig = { ...CONFIG, replicas: 1, retainDatabaseVolume: false, tlsCertificate: certificate.certificatePem, tlsKey: certificate.keyPem, httpRedirectPort: REDIRECT_PORT };
            const declaration = await declareStack(config, fake, state, { secretKeys: ["tlsCertificate", "tlsKey"] });
            expect(declaration.warnings).toEqual([]);
            await applyAndRecord(declaration);
            stackConfig = config;
            const publicUrl = `https://localhost:${LB_PORT}`;
            expect(state!.stackOutputs.publicUrl).toBe(publicUrl);
            // Settled: the load balancer's two ports (and everything else) read back as declared.
            const refreshed = await refresh(ctx, state!);
            expect(refreshed.changed).toEqual([]);
            state = refreshed.state;
            expect(changesOf(preview(state, await declareStack(config, fake, state, { secretKeys: ["tlsCertificate", "tlsKey"] })))).toEqual(NO_CHANGES);
            expect(facts.loadBalancer.url).toBe(`https://127.0.0.1:${LB_PORT}`);
            const admin = await adminToken(facts.nodes[0].url);
            // "existed" when run alone on the cluster of the earlier tests (jest -t); in the full suite it starts empty.
            expect(["created", "existed"]).toContain(await createProbeRealm(facts.nodes[0].url, admin.access_token, PROBE));
            await pollUntil("the load balancer's slot UP", 60_000, async () => (upSlots(await loadBalancerSlots(docker, facts)).length === 1 ? true : undefined));

            // TLS: a handshake the test CA verifies, TLS 1.3 and HTTP/2 offered by ALPN; a token over it.
            const handshake = await tlsHandshake(LB_PORT, certificate.caPem);
            expect(handshake).toEqual({ protocol: "TLSv1.3", alpn: "h2", authorized: true });
            const https = (path: string, extra: Partial<Parameters<typeof rawRequest>[0]> = {}) => rawRequest({ scheme: "https", port: LB_PORT, path, ca: certificate.caPem, ...extra });
            const grant = await https(`/realms/${PROBE.realm}/protocol/openid-connect/token`, {
                method: "POST",
                body: new URLSearchParams({ grant_type: "password", client_id: PROBE.clientId, username: PROBE.username, password: PROBE.password, scope: "openid" }).toString(),
            });
            expect(grant.status).toBe(200);
            expect(jwtClaims(JSON.parse(grant.text).access_token).iss).toBe(`${publicUrl}/realms/${PROBE.realm}`);
            expect(grant.headers["strict-transport-security"]).toBe("max-age=63072000");
            // The same request trusting another CA fails: the verification above means something.
            const stranger = new TestCertificateAuthority();
            await expect(rawRequest({ scheme: "https", port: LB_PORT, path: "/realms/", ca: stranger.caPem })).rejects.toThrow(/certificate/i);
            stranger.dispose();

            // Plain HTTP only redirects, to the same path on the public URL.
            const redirect = await rawRequest({ scheme: "http", port: REDIRECT_PORT, path: `/realms/${PROBE.realm}/account?x=1` });
            expect({ status: redirect.status, location: redirect.headers.location }).toEqual({ status: 301, location: `${publicUrl}/realms/${PROBE.realm}/account?x=1` });

            // Spoofed forwarding headers change nothing Keycloak returns.
            const discoveryPath = `/realms/${PROBE.realm}/.well-known/openid-configuration`;
            const honest = JSON.parse((await https(discoveryPath)).text) as Record<string, unknown>;
            const spoofed = await https(discoveryPath, {
                headers: {
                    host: "evil.example:1234",
                    "x-forwarded-host": "evil.example",
                    "x-forwarded-port": "6666",
                    "x-forwarded-prefix": "/evil",
                    "x-forwarded-proto": "http",
                    "X-FORWARDED-SERVER": "evil.example",
                    forwarded: "host=evil.example;proto=http",
                    "x-real-ip": "6.6.6.6",
                },
            });
            expect(spoofed.status).toBe(200);
            const urls = (value: unknown): string[] =>
                typeof value === "string" ? (/^https?:/.test(value) ? [value] : []) : Array.isArray(value) ? value.flatMap(urls) : value && typeof value === "object" ? Object.values(value).flatMap(urls) : [];
            const spoofedDocument = JSON.parse(spoofed.text) as Record<string, unknown>;
            expect(urls(spoofedDocument).length).toBeGreaterThan(10);
            const realmUrl = `${publicUrl}/realms/${PROBE.realm}`;
            expect(urls(spoofedDocument).filter((url) => url !== realmUrl && !url.startsWith(`${realmUrl}/`))).toEqual([]);
            expect(spoofedDocument).toEqual(honest);

            // Traversal and encodings that would reach the admin console, and the master realm, are refused by the load balancer.
            const traversal: Record<string, number> = {};
            for (const path of ["/realms/../admin/master/console/", "/realms/%2e%2e/admin/master/console/", "/realms/..;/admin/master/console/", "/realms/m%61ster/protocol/openid-connect/token", "/realms//master/", "/realms/x/..%2fadmin/"]) {
                traversal[path] = (await https(path)).status;
            }
            expect(traversal).toEqual(Object.fromEntries(Object.keys(traversal).map((path) => [path, 400])));
            const master: Record<string, number> = {};
            for (const path of ["/realms/master/", "/realms/master/protocol/openid-connect/certs", "/realms/Master/protocol/openid-connect/certs", "/admin/master/console/"]) master[path] = (await https(path)).status;
            const masterToken = await https("/realms/master/protocol/openid-connect/token", { method: "POST", body: new URLSearchParams({ grant_type: "password", client_id: "admin-cli", username: facts.adminUsername, password: facts.adminPassword }).toString() });
            master["POST /realms/master/protocol/openid-connect/token"] = masterToken.status;
            expect(master).toEqual(Object.fromEntries(Object.keys(master).map((path) => [path, 404])));

            // Stats: only inside the load balancer container. The nodes' management port (9000) is reachable from
            // the cluster network and, on Linux, from the Docker host: recorded, not hidden (README: Running it for real).
            const statsFromHost = await canConnect(8404, 2000, facts.loadBalancer.ip);
            expect(statsFromHost).toBe(false);
            const managementFromHost = await canConnect(9000, 2000, facts.nodes[0].ip);
            const nodeLog = await allContainerLogs(docker, facts.nodes[0].containerName);

            report.edge = {
                tls: handshake.authorized && handshake.protocol === "TLSv1.3" && grant.status === 200,
                http2: handshake.alpn === "h2",
                hsts: grant.headers["strict-transport-security"] === "max-age=63072000",
                redirect: redirect.status === 301,
                spoofedHeadersIgnored: JSON.stringify(spoofedDocument) === JSON.stringify(honest),
                traversalRefused: Object.values(traversal).every((status) => status === 400),
                masterRealmHidden: Object.values(master).every((status) => status === 404),
                statsHidden: !statsFromHost,
                managementPortReachableFromDockerHost: managementFromHost,
                jgroupsMtls: nodeLog.includes("JGroups Encryption enabled (mTLS)"),
                traversalStatuses: traversal,
                masterRealmStatuses: master,
            };
            await destroy(ctx, state!);
            state = undefined;
            expect(await labelled(docker, CLUSTER_NAME)).toEqual({ containers: [], networks: [], volumes: [] });
        } finally {
            authority.dispose();
        }
    });
});

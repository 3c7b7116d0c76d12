/**
 * One Keycloak cluster over two Docker engines. Each engine stands in for a host: its own network namespace,
 * dockerd, data root, socket and bridge, joined to the other by a private link on 192.168.77.0/24
 * (tests/e2e/multihost/engines.sh). The program declares one docker.Provider per host and the harness
 * applies every resource on its provider's engine. Fails, never skips, without root, iproute2 or the images.
 *
 *   npm run test:e2e -- tests/e2e/multihost.e2e.test.ts
 */
import type Docker from "dockerode";
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { join } from "node:path";
import type { Declaration } from "../support/declaration";
import { declareStack, StackConfig } from "../support/program";
import { apply, ApplyResult, destroy, newContext, preview, refresh } from "./harness/apply";
import { connectDocker, engineClient, ensureEngine, execIn, sleep } from "./harness/docker";
import { E2E_IMAGES } from "./harness/images";
import { localProviderFake } from "./harness/providerFake";
import type { HarnessContext } from "./harness/resources";
import { ClusterFacts, loadBalancerSlots, pollUntil } from "./support/cluster";
import { adminApi, http, json, token, userinfo } from "./support/http";
import { runLoad } from "./support/load";
import { createProbeRealm, probeRealm, probeToken } from "./support/probe";
import { seconds, writeReport } from "./support/report";

const ENGINES_SCRIPT = join(__dirname, "multihost/engines.sh");
const CLUSTER_NAME = "kcmh";
const BASE_PORT = 28080;
const LB_PORT = 28000;
const HOSTS = [1, 2].map((i) => ({ name: `h${i}`, engine: `unix:///run/kc-mh-h${i}/docker.sock`, address: `192.168.77.${i}` }));
const CONFIG: StackConfig = {
    clusterName: CLUSTER_NAME,
    subnet: "10.231.210.0/24",
    basePort: BASE_PORT,
    loadBalancerPort: LB_PORT,
    // The suite reaches the load balancer on its host's link address; this is the "public" side here.
    bindAddress: HOSTS[0].address,
    hostname: `http://${HOSTS[0].address}:${LB_PORT}`,
    hosts: JSON.stringify(HOSTS),
    ...E2E_IMAGES,
    replicas: 3,
};
const PROBE = probeRealm(`${CLUSTER_NAME}-probe`);
const LB_URL = `http://${HOSTS[0].address}:${LB_PORT}`;

let local: Docker;
let ctx: HarnessContext;
let state: Declaration | undefined;
const report: Record<string, unknown> = { hosts: HOSTS.map(({ name, address }) => ({ name, address })) };

function log(message: string): void {
    process.stderr.write(`[multihost ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function engines(...args: string[]): void {
    execFileSync("bash", [ENGINES_SCRIPT, ...args], { stdio: ["ignore", "inherit", "inherit"] });
}

/** The same without blocking the event loop, so the client load keeps running while an engine stops. */
async function enginesInBackground(...args: string[]): Promise<void> {
    await promisify(execFile)("bash", [ENGINES_SCRIPT, ...args]);
}

const engineOf = (host: { engine: string }) => engineClient(local, host.engine);

interface NodeOnHost {
    index: number;
    host: (typeof HOSTS)[number];
    /** HTTP on the host's private address (what the load balancer uses). */
    url: string;
    management: string;
    containerName: string;
}

function nodesOf(replicas: number): NodeOnHost[] {
    return Array.from({ length: replicas }, (_, i) => {
        const host = HOSTS[i % HOSTS.length];
        return { index: i + 1, host, url: `http://${host.address}:${BASE_PORT + i}`, management: `http://${host.address}:${9000 + i}`, containerName: `${CLUSTER_NAME}-keycloak-${i + 1}` };
    });
}

async function up(config: StackConfig): Promise<ApplyResult> {
    const declaration = await declareStack(config, localProviderFake(local, log), state);
    const result = await apply(ctx, state, declaration);
    state = result.state;
    return result;
}

/** Cluster size from a node's vendor_cluster_size metric (its management port, published on its host's link address). */
async function clusterSize(node: NodeOnHost): Promise<number | undefined> {
    const metrics = await http(`${node.management}/metrics`, {}, 5000);
    const line = metrics.status === 200 ? /^vendor_cluster_size\{[^}]*\}\s+([0-9.]+)/m.exec(metrics.text) : null;
    return line ? Number(line[1]) : undefined;
}

async function waitForSizes(nodes: NodeOnHost[], expected: number, timeoutMs: number): Promise<number[]> {
    return pollUntil(`every node to report a cluster of ${expected}`, timeoutMs, async () => {
        const sizes = await Promise.all(nodes.map(clusterSize));
        return sizes.every((size) => size === expected) ? (sizes as number[]) : undefined;
    }, 1000);
}

/**
 * JGROUPS_PING rows Keycloak takes into account (written in the last 60 s), read in the PostgreSQL container
 * `containerName` on host 1 (the cluster's own, or the external one of test 4).
 */
async function jgroupsAddresses(containerName = `${CLUSTER_NAME}-postgres`, password?: string): Promise<string[]> {
    const own = state!.resources.find((r) => r.name === `${CLUSTER_NAME}-h1-postgres`);
    const env = own ? (own.inputs.envs as string[]).map((entry) => entry.split("=")) : [];
    const value = (key: string) => env.find(([name]) => name === key)?.[1];
    const result = await execIn(
        engineOf(HOSTS[0]),
        containerName,
        ["psql", "-X", "-At", "-U", value("POSTGRES_USER") ?? "keycloak", "-d", value("POSTGRES_DB") ?? "keycloak", "-c", "select ip from jgroups_ping where extract(epoch from now())::bigint - last_update <= 60 and name <> '(starting)' order by ip"],
        { env: [`PGPASSWORD=${password ?? value("POSTGRES_PASSWORD")}`] },
    );
    if (result.exitCode !== 0) throw new Error(`psql: ${result.stderr}`);
    return result.stdout.split("\n").filter((line) => line.length > 0);
}

async function adminToken(node: NodeOnHost) {
    const outputs = state!.stackOutputs;
    return token(node.url, "admin-cli", String(outputs.adminUsername), String(outputs.adminPassword));
}

beforeAll(async () => {
    local = connectDocker();
    await ensureEngine(local);
    engines("up", String(HOSTS.length));
    // The images each host needs: Keycloak everywhere, PostgreSQL and HAProxy on host 1 (their home).
    const started = Date.now();
    for (const [host, images] of [
        [HOSTS[0], Object.values(E2E_IMAGES)],
        [HOSTS[1], [E2E_IMAGES.keycloakImage]],
    ] as const) {
        execFileSync("bash", ["-c", `docker save ${images.join(" ")} | docker -H ${host.engine} load -q`], { stdio: ["ignore", "ignore", "inherit"] });
        await ensureEngine(engineOf(host));
    }
    report.imageLoadSeconds = seconds(started, Date.now());
    ctx = newContext(local, log);
}, 10 * 60 * 1000);

afterAll(async () => {
    try {
        if (state) await destroy(ctx, state).catch((error: Error) => log(`destroy: ${error.message}`));
    } finally {
        engines("down");
        writeReport({ multiHost: report });
    }
});

describe("one cluster over two Docker engines", () => {
    const three = nodesOf(3);

    test("forms: 3 nodes on 2 hosts in one view of 3, discovered with the hosts' private addresses; a token from the load balancer is accepted on the other host", async () => {
        const result = await up(CONFIG);
        expect(result.state.resources.filter((r) => r.type === "pulumi:providers:docker").map((r) => r.name)).toEqual([`${CLUSTER_NAME}-h1-engine`, `${CLUSTER_NAME}-h2-engine`]);
        for (const node of three) {
            const info = await engineOf(node.host).getContainer(node.containerName).inspect();
            expect({ node: node.index, running: info.State.Running }).toEqual({ node: node.index, running: true });
        }
        const sizes = await waitForSizes(three, 3, 120_000);
        expect(sizes).toEqual([3, 3, 3]);
        // Settled on every engine: a refresh reads everything back as declared, and the preview after it is empty.
        const refreshed = await refresh(ctx, state!);
        expect({ changed: refreshed.changed, removed: refreshed.removed }).toEqual({ changed: [], removed: [] });
        state = refreshed.state;
        const again = preview(state, await declareStack(CONFIG, localProviderFake(local, log), state));
        expect({ created: again.created, updated: again.updated, replaced: again.replaced, deleted: again.deleted }).toEqual({ created: [], updated: [], replaced: [], deleted: [] });
        const addresses = await pollUntil("JGROUPS_PING to list the three advertised addresses", 60_000, async () => {
            const rows = await jgroupsAddresses();
            return rows.length === 3 ? rows : undefined;
        });
        expect(addresses).toEqual(["192.168.77.1:7800", "192.168.77.1:7802", "192.168.77.2:7801"]);
        report.clusterSizes = sizes;
        report.jgroupsAddresses = addresses;

        const admin = await adminToken(three[0]);
        expect(await createProbeRealm(three[0].url, admin.access_token, PROBE)).toBe("created");
        const probe = await pollUntil("a token through the load balancer", 60_000, () => probeToken(LB_URL, PROBE));
        const onOtherHost = await userinfo(three[1].url, probe.access_token, PROBE.realm);
        expect(onOtherHost.status).toBe(200);
        expect(json<{ preferred_username: string }>(onOtherHost).preferred_username).toBe(PROBE.username);
        const realm = await adminApi(three[1].url, admin.access_token, `/realms/${PROBE.realm}`);
        expect(realm.status).toBe(200);
    });

    test("stopping the whole second engine under load costs no request; the view shrinks, and the host's return rejoins it", async () => {
        const sessions = await Promise.all([0, 1, 2, 3].map(() => probeToken(LB_URL, PROBE)));
        let stoppedAt: number | undefined;
        let stopReturnedAt: number | undefined;
        let lbDownAt: number | undefined;
        let shrunkAt: number | undefined;
        const survivors = three.filter((node) => node.host.name === "h1");
        // The load balancer's view, read inside its container on host 1 (stats listen on its loopback only).
        const lbFacts = { loadBalancer: { containerName: `${CLUSTER_NAME}-lb` } } as ClusterFacts;
        const h1 = engineOf(HOSTS[0]);
        const watcher = (async () => {
            await sleep(3000);
            stoppedAt = Date.now();
            log("stopping engine 2");
            const stopping = enginesInBackground("stop", "2").then(() => (stopReturnedAt = Date.now()));
            await pollUntil("the load balancer to mark node 2 down", 60_000, async () => {
                const node2 = (await loadBalancerSlots(h1, lbFacts)).find((slot) => slot.name === "node2");
                return node2 && /^(DOWN|MAINT)/.test(node2.status) ? true : undefined;
            }, 200);
            lbDownAt = Date.now();
            await stopping;
            await waitForSizes(survivors, 2, 90_000);
            shrunkAt = Date.now();
        })();
        const load = await runLoad({
            baseUrl: LB_URL,
            realm: PROBE.realm,
            clientId: PROBE.clientId,
            sessions,
            maxRequests: 6000,
            maxMs: 150_000,
            pauseMs: 5,
            pauseAfterFailureMs: 100,
            // Keep going 5 s past the moment the survivors' view shrank.
            done: () => shrunkAt !== undefined && Date.now() - shrunkAt >= 5000,
            phase: () => (stoppedAt === undefined ? "beforeStop" : lbDownAt === undefined ? "stopToLbDown" : shrunkAt === undefined ? "lbDownToViewShrunk" : "after"),
        });
        await watcher;
        log(`engine 2 stopped under load: ${load.requests} requests, ${load.failures.length} failed`);
        report.failover = {
            requests: load.requests,
            failed: load.failures.length,
            gapSeconds: seconds(stoppedAt!, lbDownAt!),
            engineStopSeconds: seconds(stoppedAt!, stopReturnedAt!),
            viewShrunkSeconds: seconds(stoppedAt!, shrunkAt!),
            requestsByPhase: load.byPhase,
            failures: load.failures.slice(0, 5).map((failure) => ({ ...failure, at: undefined, msAfterStop: failure.at - stoppedAt! })),
        };
        expect(load.stoppedBy).toBe("done");
        expect(load.failures).toEqual([]);
        // The load went on while the engine stopped: requests were sent between the stop and the load balancer noticing.
        expect(load.byPhase.stopToLbDown ?? 0).toBeGreaterThan(20);
        expect(await Promise.all(survivors.map(clusterSize))).toEqual([2, 2]);

        const startedAt = Date.now();
        engines("start", "2");
        // Docker restarts the node (restart: unless-stopped); it rejoins through the database.
        const sizes = await waitForSizes(three, 3, 180_000);
        report.rejoinSeconds = seconds(startedAt, Date.now());
        report.clusterSizesAfterRejoin = sizes;
        expect(sizes).toEqual([3, 3, 3]);
        await pollUntil("the load balancer to send to node 2 again", 60_000, async () => {
            const node2 = (await loadBalancerSlots(h1, lbFacts)).find((slot) => slot.name === "node2");
            return node2?.status.startsWith("UP") ? true : undefined;
        }, 500);
        report.backInLoadBalancerSeconds = seconds(startedAt, Date.now());
    });

    test("scales out 3 → 4: one container created on its host, nothing else", async () => {
        const next = await declareStack({ ...CONFIG, replicas: 4 }, localProviderFake(local, log), state);
        const planned = preview(state, next);
        expect({ created: planned.created, updated: planned.updated, replaced: planned.replaced, deleted: planned.deleted }).toEqual({
            created: [`${CLUSTER_NAME}-h2-node-4`],
            updated: [],
            replaced: [],
            deleted: [],
        });
        const result = await up({ ...CONFIG, replicas: 4 });
        expect(result.operations).toEqual([`create ${CLUSTER_NAME}-h2-node-4`]);
        const four = nodesOf(4);
        expect((await engineOf(HOSTS[1]).getContainer(four[3].containerName).inspect()).State.Running).toBe(true);
        const sizes = await waitForSizes(four, 4, 120_000);
        expect(sizes).toEqual([4, 4, 4, 4]);
        report.scaleOut = { created: result.created, replaced: result.replaced, seconds: result.seconds, clusterSizes: sizes };
    });

    test("an existing PostgreSQL on a host's private address replaces the cluster's own: nothing of it is declared, the nodes of both hosts use it", async () => {
        await destroy(ctx, state!);
        state = undefined;
        // A database the stack does not own, as a managed or Patroni service would be: another container on host 1,
        // published on its link address only.
        const password = "External-Database-Password-1";
        const h1 = engineOf(HOSTS[0]);
        const external = await h1.createContainer({
            name: `${CLUSTER_NAME}-external-db`,
            Image: E2E_IMAGES.postgresImage,
            Env: ["POSTGRES_USER=keycloak", `POSTGRES_PASSWORD=${password}`, "POSTGRES_DB=keycloak"],
            Labels: { "keycloak-cluster.e2e": CLUSTER_NAME },
            ExposedPorts: { "5432/tcp": {} },
            HostConfig: { PortBindings: { "5432/tcp": [{ HostIp: HOSTS[0].address, HostPort: "15432" }] } },
        });
        try {
            await external.start();
            await pollUntil("the external PostgreSQL to accept connections", 60_000, async () => {
                const ready = await execIn(h1, `${CLUSTER_NAME}-external-db`, ["pg_isready", "-h", "127.0.0.1", "-U", "keycloak", "-d", "keycloak"]);
                return ready.exitCode === 0 ? true : undefined;
            }, 1000);
            const config = { ...CONFIG, replicas: 2, externalDatabase: `${HOSTS[0].address}:15432`, databasePassword: password };
            const declaration = await declareStack(config, localProviderFake(local, log), undefined, { secretKeys: ["databasePassword"] });
            expect(declaration.resources.filter((resource) => /postgres/.test(resource.name))).toEqual([]);
            const result = await apply(ctx, undefined, declaration);
            state = result.state;
            const two = nodesOf(2);
            const sizes = await waitForSizes(two, 2, 120_000);
            expect(sizes).toEqual([2, 2]);
            const addresses = await pollUntil("JGROUPS_PING in the external database", 60_000, async () => {
                const rows = await jgroupsAddresses(`${CLUSTER_NAME}-external-db`, password);
                return rows.length === 2 ? rows : undefined;
            });
            expect(addresses).toEqual(["192.168.77.1:7800", "192.168.77.2:7801"]);
            const admin = await adminToken(two[1]);
            expect(await createProbeRealm(two[1].url, admin.access_token, PROBE)).toBe("created");
            const probe = await pollUntil("a token through the load balancer", 60_000, () => probeToken(LB_URL, PROBE));
            expect((await userinfo(two[0].url, probe.access_token, PROBE.realm)).status).toBe(200);
            report.externalDatabase = { clusterSizes: sizes, jgroupsAddresses: addresses, createdResources: result.created.length };
            await destroy(ctx, state);
            state = undefined;
        } finally {
            await external.remove({ force: true, v: true });
        }
    });
});

/** What the suite needs to know about, and observe in, a running cluster. */
import type Docker from "dockerode";
import { Socket } from "node:net";
import { LOAD_BALANCER_HTTP_PORT, LOAD_BALANCER_HTTPS_PORT, LOAD_BALANCER_STATS_PORT } from "../../../components/addressPlan";
import { CLUSTER_LABEL, ROLE_LABEL } from "../../../components/labels";
import type { Declaration, DeclaredResource } from "../../support/declaration";
import { TYPES } from "../../support/declaration";
import { allContainerLogs, execIn, sleep } from "../harness/docker";
import { ContainerInputs } from "../harness/schema";
import { http } from "./http";

export interface NodeFacts {
    resourceName: string;
    containerName: string;
    ip: string;
    hostPort: number;
    /** http://127.0.0.1:<hostPort> */
    url: string;
    /** http://<ip>:9000 */
    management: string;
}

export interface ClusterFacts {
    nodes: NodeFacts[];
    /** `url`: what the host reaches (http or https on 127.0.0.1). */
    loadBalancer: { containerName: string; ip: string; url: string; scheme: "http" | "https" };
    postgres: { resourceName: string; containerName: string; user: string; database: string; password: string };
    adminUsername: string;
    adminPassword: string;
    networkName: string;
    volumeName: string;
}

function role(resource: DeclaredResource): string | undefined {
    return (resource.inputs as unknown as ContainerInputs).labels?.find((l) => l.label === ROLE_LABEL)?.value;
}

export function clusterFacts(declaration: Declaration): ClusterFacts {
    const containers = declaration.resources.filter((r) => r.type === TYPES.container);
    const inputsOf = (r: DeclaredResource) => r.inputs as unknown as ContainerInputs;
    const nodes = containers
        .filter((r) => role(r) === "keycloak")
        .map((r) => {
            const inputs = inputsOf(r);
            const ip = inputs.networksAdvanced![0].ipv4Address!;
            const hostPort = inputs.ports![0].external!;
            return { resourceName: r.name, containerName: inputs.name, ip, hostPort, url: `http://127.0.0.1:${hostPort}`, management: `http://${ip}:9000` };
        })
        .sort((a, b) => a.ip.localeCompare(b.ip, undefined, { numeric: true }));
    const lb = inputsOf(containers.find((r) => role(r) === "load-balancer")!);
    const pgResource = containers.find((r) => role(r) === "postgres")!;
    const pgEnv = Object.fromEntries((inputsOf(pgResource).envs ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
    const lbIp = lb.networksAdvanced![0].ipv4Address!;
    const tlsPort = lb.ports!.find((port) => port.internal === LOAD_BALANCER_HTTPS_PORT);
    const scheme = tlsPort ? "https" : "http";
    const keycloakPort = tlsPort ?? lb.ports!.find((port) => port.internal === LOAD_BALANCER_HTTP_PORT)!;
    return {
        nodes,
        loadBalancer: { containerName: lb.name, ip: lbIp, url: `${scheme}://127.0.0.1:${keycloakPort.external}`, scheme },
        postgres: { resourceName: pgResource.name, containerName: inputsOf(pgResource).name, user: pgEnv.POSTGRES_USER, database: pgEnv.POSTGRES_DB, password: pgEnv.POSTGRES_PASSWORD },
        adminUsername: String(declaration.stackOutputs.adminUsername),
        adminPassword: String(declaration.stackOutputs.adminPassword),
        networkName: String(declaration.stackOutputs.networkName),
        volumeName: String(declaration.stackOutputs.databaseVolumeName),
    };
}

/** Polls `probe` every `intervalMs` until it returns a value that is not undefined, at most `timeoutMs`. */
export async function pollUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, intervalMs = 500): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
        try {
            const value = await probe();
            if (value !== undefined) return value;
        } catch (error) {
            last = error;
        }
        if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
        await sleep(intervalMs);
    }
}

/** The node's cluster size from its `vendor_cluster_size` metric, or from its last ISPN000094 view line. */
export async function clusterSize(docker: Docker, node: NodeFacts): Promise<{ size: number; source: "metric" | "log" }> {
    const metrics = await http(`${node.management}/metrics`, {}, 5000);
    if (metrics.status === 200) {
        const line = /^vendor_cluster_size\{[^}]*\}\s+([0-9.]+)/m.exec(metrics.text);
        if (line) return { size: Number(line[1]), source: "metric" };
    }
    const views = [...(await allContainerLogs(docker, node.containerName)).matchAll(/ISPN000094: Received new cluster view for channel \S+: \[[^\]]*\] \((\d+)\)/g)];
    if (views.length === 0) throw new Error(`${node.containerName}: no vendor_cluster_size metric (HTTP ${metrics.status}) and no ISPN000094 view in the logs`);
    return { size: Number(views[views.length - 1][1]), source: "log" };
}

/** Waits until every node reports `expected` members; returns the sizes per node (node order). */
export async function waitForClusterSize(docker: Docker, nodes: NodeFacts[], expected: number, timeoutMs = 120_000): Promise<number[]> {
    return pollUntil(`every node to report a cluster of ${expected}`, timeoutMs, async () => {
        const sizes = await Promise.all(nodes.map(async (node) => (await clusterSize(docker, node)).size));
        return sizes.every((size) => size === expected) ? sizes : undefined;
    });
}

/** The last ISPN000094 view line of a node's log. */
export async function lastViewLine(docker: Docker, containerName: string): Promise<string | undefined> {
    const lines = (await allContainerLogs(docker, containerName)).split("\n").filter((line) => line.includes("ISPN000094"));
    return lines[lines.length - 1];
}

export async function psql(docker: Docker, facts: ClusterFacts, sql: string): Promise<string[][]> {
    const { containerName, user, database, password } = facts.postgres;
    const result = await execIn(docker, containerName, ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-U", user, "-d", database, "-At", "-F", "|", "-c", sql], {
        env: [`PGPASSWORD=${password}`],
    });
    if (result.exitCode !== 0) throw new Error(`psql failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
    return result.stdout
        .split("\n")
        .filter((line) => line.length > 0)
        .map((line) => line.split("|"));
}

/** Rows older than this are ignored by Keycloak's JDBC_PING (its default staleness_timeout, 60 s). */
export const JGROUPS_STALENESS_SECONDS = 60;

export interface JgroupsRow {
    name: string;
    ip: string;
    coord: boolean;
    /** Seconds since the row was last written. */
    ageSeconds: number;
}

/** JDBC_PING's membership table (Postgres folds the unquoted JGROUPS_PING to lowercase), every row. */
export async function jgroupsRows(docker: Docker, facts: ClusterFacts): Promise<JgroupsRow[]> {
    const rows = await psql(docker, facts, "select name, ip, coord, extract(epoch from now())::bigint - last_update from jgroups_ping order by name, last_update");
    return rows.map(([name, ip, coord, age]) => ({ name, ip, coord: coord === "t", ageSeconds: Number(age) }));
}

/** The rows Keycloak itself takes into account: written within the staleness timeout. */
export async function jgroupsMembers(docker: Docker, facts: ClusterFacts): Promise<JgroupsRow[]> {
    return (await jgroupsRows(docker, facts)).filter((row) => row.ageSeconds <= JGROUPS_STALENESS_SECONDS);
}

/** The JGroups coordinator: the creator of the view in a node's last ISPN000094 line. */
export async function coordinatorName(docker: Docker, node: NodeFacts): Promise<string> {
    const view = await lastViewLine(docker, node.containerName);
    const match = view && /cluster view for channel \S+: \[([^\]()]+)\(/.exec(view);
    if (!match) throw new Error(`${node.containerName}: no cluster view in the logs`);
    return match[1];
}

export interface ServerSlot {
    name: string;
    status: string;
}

/**
 * The load balancer's keycloak_nodes server slots from its CSV stats. The stats listener is bound to the
 * container's own loopback, so the suite reads it from inside (bash's /dev/tcp, as the healthcheck does).
 */
export async function loadBalancerSlots(docker: Docker, facts: ClusterFacts): Promise<ServerSlot[]> {
    const script = `exec 3<>/dev/tcp/127.0.0.1/${LOAD_BALANCER_STATS_PORT} && printf 'GET /stats;csv HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3`;
    const result = await execIn(docker, facts.loadBalancer.containerName, ["bash", "-c", script], { timeoutMs: 5000 });
    const body = result.stdout.split("\r\n\r\n").slice(1).join("\r\n\r\n");
    if (result.exitCode !== 0 || !/^HTTP\/1\.[01] 200/.test(result.stdout)) throw new Error(`stats: exit ${result.exitCode} ${result.stdout.slice(0, 200)} ${result.stderr.slice(0, 200)}`);
    const [header, ...rows] = body.trim().split("\n");
    const columns = header.replace(/^# /, "").split(",");
    const at = (name: string) => columns.indexOf(name);
    return rows
        .map((row) => row.split(","))
        .filter((cells) => cells[at("pxname")] === "keycloak_nodes" && cells[at("svname")] !== "BACKEND")
        .map((cells) => ({ name: cells[at("svname")], status: cells[at("status")] }));
}

export const upSlots = (slots: ServerSlot[]) => slots.filter((slot) => slot.status.startsWith("UP")).map((slot) => slot.name);

/** True when a TCP connection to host:port (127.0.0.1 or a cluster container) is accepted within the timeout. */
export function canConnect(port: number, timeoutMs = 2000, host = "127.0.0.1"): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = new Socket();
        const done = (result: boolean) => {
            socket.destroy();
            resolve(result);
        };
        socket.setTimeout(timeoutMs, () => done(false));
        socket.once("connect", () => done(true));
        socket.once("error", () => done(false));
        socket.connect(port, host);
    });
}

/** Everything carrying the cluster's label: containers, networks, volumes. */
export async function labelled(docker: Docker, clusterName: string) {
    const filters = JSON.stringify({ label: [`${CLUSTER_LABEL}=${clusterName}`] });
    const [containers, networks, volumes] = await Promise.all([
        docker.listContainers({ all: true, filters }),
        docker.listNetworks({ filters }),
        docker.listVolumes({ filters }),
    ]);
    return {
        containers: containers.map((c) => c.Names[0].replace(/^\//, "")).sort(),
        networks: networks.map((n) => n.Name).sort(),
        volumes: (volumes.Volumes ?? []).map((v) => v.Name).sort(),
    };
}

/** Removes every container, network and volume carrying the cluster's label (leftovers of an aborted run). */
export async function removeLabelled(docker: Docker, clusterName: string): Promise<string[]> {
    const found = await labelled(docker, clusterName);
    await Promise.all(found.containers.map((name) => docker.getContainer(name).remove({ force: true, v: true })));
    for (const name of found.networks) await docker.getNetwork(name).remove();
    for (const name of found.volumes) await docker.getVolume(name).remove();
    return [...found.containers, ...found.networks, ...found.volumes];
}

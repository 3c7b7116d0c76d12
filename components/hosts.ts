/**
 * Several Docker hosts: what the `hosts` setting holds, where each part of the cluster runs, and which host
 * ports each host publishes on its private address. Pure.
 *
 * Adding a node never moves one: node i runs on host ((i - 1) mod H) of the list, so a new node is a new
 * container on one host and nothing else changes (a change of the host list itself re-places nodes). Every node-specific host port is derived from the node's
 * index alone, so nodes sharing a host never collide and a node keeps its ports wherever it runs.
 */
import { isLoopback, JGROUPS_BIND_PORT, KEYCLOAK_MANAGEMENT_PORT, parseIPv4 } from "./addressPlan";

export interface DockerHost {
    /** Short name, used in resource names and in `postgresHost` / `loadBalancerHost`. */
    name: string;
    /** How to reach the engine, as the Docker provider's `host` takes it: unix://, tcp:// (with TLS material) or ssh://. */
    engine: string;
    /** IPv4 address the other hosts reach this one on (a private network); cluster ports are published only there. */
    address: string;
    /** PEM TLS material for a tcp:// engine (the engine's CA, a client certificate and its key). */
    caPem?: string;
    certPem?: string;
    keyPem?: string;
    /** Extra ssh arguments for an ssh:// engine, e.g. ["-o", "StrictHostKeyChecking=yes"]. */
    sshOpts?: string[];
}

/** JGroups' failure detection (FD_SOCK2) listens this far above the transport port (JGroups' port_offset default). */
export const JGROUPS_FAILURE_DETECTION_OFFSET = 50000;

/**
 * Host ports of node i on its host's private address (multi-host only). The transport is published as
 * host `transport` → container 7800 and advertised as the external port. FD_SOCK2 listens on the advertised
 * port + offset inside the container and peers dial the advertised address + offset (JGroups FD_SOCK2:
 * computeBindPorts from the transport's physical address, which is the external one), so failure detection
 * is published as the same number on both sides.
 */
export function nodeClusterPorts(index: number): { transport: number; failureDetection: number; management: number } {
    const transport = JGROUPS_BIND_PORT + index - 1;
    return { transport, failureDetection: transport + JGROUPS_FAILURE_DETECTION_OFFSET, management: KEYCLOAK_MANAGEMENT_PORT + index - 1 };
}

/** Where PostgreSQL is published for the other hosts, on its host's private address (its own port, 5432). */
export const POSTGRES_CLUSTER_PORT = 5432;

const HOST_FIELDS = ["name", "engine", "address", "caPem", "certPem", "keyPem", "sshOpts"];
const ENGINE_PATTERN = /^(unix:\/\/\/\S+|tcp:\/\/[A-Za-z0-9.-]+:\d{1,5}|ssh:\/\/[A-Za-z0-9._-]+@[A-Za-z0-9.-]+(:\d{1,5})?)$/;

/**
 * The `hosts` setting, parsed and checked: a JSON array (or the same list as structured config), every
 * entry with a unique name, a supported engine URL and a unique private IPv4 address. Empty: one local
 * engine, as without the setting.
 */
export function parseHosts(value: unknown): { hosts: DockerHost[]; problems: string[] } {
    const problems: string[] = [];
    let list: unknown = value;
    if (typeof value === "string") {
        if (value.trim() === "") return { hosts: [], problems };
        try {
            list = JSON.parse(value);
        } catch {
            return { hosts: [], problems: ["hosts: is not JSON; give a list such as [{\"name\":\"a\",\"engine\":\"ssh://admin@10.0.0.11\",\"address\":\"10.0.0.11\"}, …]"] };
        }
    }
    if (!Array.isArray(list)) return { hosts: [], problems: ["hosts: must be a list of hosts, each {name, engine, address}"] };
    const hosts: DockerHost[] = [];
    const seenNames = new Set<string>();
    const seenAddresses = new Set<string>();
    list.forEach((entry: unknown, position) => {
        const where = `hosts[${position}]`;
        if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
            problems.push(`${where}: must be an object {name, engine, address}`);
            return;
        }
        const record = entry as Record<string, unknown>;
        for (const key of Object.keys(record)) if (!HOST_FIELDS.includes(key)) problems.push(`${where}.${key}: not a host field; valid fields: ${HOST_FIELDS.join(", ")}`);
        const { name, engine, address } = record;
        if (typeof name !== "string" || !/^[a-z][a-z0-9-]{0,19}$/.test(name)) problems.push(`${where}.name = ${JSON.stringify(name)}: must be 1 to 20 lowercase letters, digits or '-', starting with a letter`);
        else if (seenNames.has(name)) problems.push(`${where}.name = "${name}": another host has this name`);
        else seenNames.add(name);
        if (typeof engine !== "string" || !ENGINE_PATTERN.test(engine)) {
            problems.push(`${where}.engine = ${JSON.stringify(typeof engine === "string" ? engine.replace(/\/\/[^@/]*:[^@/]*@/, "//***@") : engine)}: must be unix:///path/docker.sock, tcp://host:port (with caPem, certPem, keyPem) or ssh://user@host[:port]`);
        }
        const tls = ["caPem", "certPem", "keyPem"].filter((key) => record[key] !== undefined);
        if (typeof engine === "string" && engine.startsWith("tcp://") && tls.length !== 3) {
            problems.push(`${where}.engine = "${engine}": a tcp:// engine needs caPem, certPem and keyPem (Docker on plain TCP gives root to anyone who reaches the port)`);
        }
        if (typeof engine === "string" && !engine.startsWith("tcp://") && tls.length > 0) problems.push(`${where}: caPem, certPem and keyPem are only for a tcp:// engine`);
        for (const key of tls) if (typeof record[key] !== "string" || !/-----BEGIN /.test(record[key] as string)) problems.push(`${where}.${key}: must be PEM text (not shown)`);
        if (record.sshOpts !== undefined && (!Array.isArray(record.sshOpts) || !record.sshOpts.every((option) => typeof option === "string"))) problems.push(`${where}.sshOpts: must be a list of strings`);
        if (typeof address !== "string" || parseIPv4(address) === undefined || isLoopback(address) || address === "0.0.0.0") {
            problems.push(`${where}.address = ${JSON.stringify(address)}: must be the IPv4 address the other hosts reach this host on (not loopback, not 0.0.0.0)`);
        } else if (seenAddresses.has(address)) problems.push(`${where}.address = "${address}": another host has this address`);
        else seenAddresses.add(address);
        if (typeof name === "string" && typeof engine === "string" && typeof address === "string") {
            hosts.push({ ...(record as unknown as DockerHost) });
        }
    });
    return { hosts: problems.length > 0 ? [] : hosts, problems };
}

/** Position in the host list of node `index` (1-based). */
export function nodeHostPosition(index: number, hostCount: number): number {
    return (index - 1) % hostCount;
}

export interface HostPortUse {
    host: string;
    port: number;
    what: string;
}

/** Two uses of one host port on one host: the first problem per port. */
export function hostPortCollisions(uses: HostPortUse[]): string[] {
    const seen = new Map<string, string>();
    const problems: string[] = [];
    for (const use of uses) {
        const key = `${use.host}:${use.port}`;
        const earlier = seen.get(key);
        if (earlier !== undefined) problems.push(`host ${use.host}: port ${use.port} would be used by both ${earlier} and ${use.what}; choose other ports (basePort, loadBalancerPort, httpRedirectPort, databaseHostPort)`);
        else seen.set(key, use.what);
    }
    return problems;
}

/**
 * Where everything lives: container names, static addresses on the cluster network, host ports and URLs.
 * Pure. Nothing about one node depends on how many nodes there are, which is what lets `replicas`
 * change without touching existing containers.
 */
import type { ClusterSettings } from "./config";
import { DockerHost, nodeClusterPorts, nodeHostPosition } from "./hosts";

/** Hard ceiling on nodes, so the load balancer's fixed server slots stay a small, constant number. */
export const MAX_REPLICAS = 32;

/** First host offset used by Keycloak nodes (.1 gateway, .2 PostgreSQL, .3 load balancer, rest reserved). */
const FIRST_NODE_OFFSET = 10;

/** Port every Keycloak node serves HTTP on inside its container. */
export const KEYCLOAK_HTTP_PORT = 8080;
/** Keycloak's management interface (health, metrics); never published. */
export const KEYCLOAK_MANAGEMENT_PORT = 9000;
/** JGroups transport port; the failure-detection port is this + 50000 (57800). Never published. */
export const JGROUPS_BIND_PORT = 7800;
/**
 * Ports the load balancer listens on inside its container (the official HAProxy image runs unprivileged):
 * plain HTTP (Keycloak without TLS, the redirect with it) and HTTPS.
 */
export const LOAD_BALANCER_HTTP_PORT = 8080;
export const LOAD_BALANCER_HTTPS_PORT = 8443;
/** Load balancer's internal stats and liveness port; never published. */
export const LOAD_BALANCER_STATS_PORT = 8404;
export const POSTGRES_PORT = 5432;

/** DNS alias every Keycloak node carries on the cluster network; the load balancer resolves it. */
export const KEYCLOAK_NODES_ALIAS = "keycloak-nodes";
/** DNS alias of PostgreSQL on the cluster network. */
export const POSTGRES_ALIAS = "postgres";

export interface Subnet {
    cidr: string;
    /** Network address as a 32-bit unsigned number. */
    base: number;
    prefix: number;
}

export function parseIPv4(text: string): number | undefined {
    const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
    if (!match) return undefined;
    const octets = match.slice(1).map(Number);
    if (octets.some((octet, i) => octet > 255 || (match[i + 1].length > 1 && match[i + 1].startsWith("0")))) return undefined;
    return ((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3];
}

export function formatIPv4(value: number): string {
    return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join(".");
}

/** Parses `a.b.c.d/p` with p in 16..28 and no host bits set. */
export function parseSubnet(text: string): Subnet | undefined {
    const match = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
    if (!match) return undefined;
    const base = parseIPv4(match[1]);
    const prefix = Number(match[2]);
    if (base === undefined || prefix < 16 || prefix > 28) return undefined;
    const hostMask = 2 ** (32 - prefix) - 1;
    if ((base & hostMask) !== 0) return undefined;
    return { cidr: text, base, prefix };
}

/** How many node addresses the subnet has from .10 up to the last usable address. */
export function nodeSlotCapacity(subnet: Subnet): number {
    const size = 2 ** (32 - subnet.prefix);
    return size - 1 - FIRST_NODE_OFFSET;
}

export interface NodePlan {
    /** 1-based node number. */
    index: number;
    /** Docker container name, also its hostname and the Keycloak/JGroups node name. */
    containerName: string;
    /** Static address on the cluster network; JGroups binds here. */
    address: string;
    /** Host port published for the node's HTTP listener. */
    hostPort: number;
    /** URL of the node's own port from the host. */
    url: string;
    /** With several hosts: the host it runs on, and its ports on that host's private address. */
    placement?: { host: DockerHost; ports: { transport: number; failureDetection: number; management: number } };
}

export interface ClusterPlan {
    networkName: string;
    gateway: string;
    /** `host`: with several hosts, where it runs. */
    postgres: { containerName: string; address: string; volumeName: string; host?: DockerHost };
    loadBalancer: { containerName: string; address: string; url: string; serverSlots: number; host?: DockerHost };
    nodes: NodePlan[];
}

/** 127.0.0.0/8: reachable from this machine only. */
export function isLoopback(address: string): boolean {
    return address.startsWith("127.") && parseIPv4(address) !== undefined;
}

/**
 * Where node ports are published: on `bindAddress` while it is a loopback address, on 127.0.0.1 otherwise. A
 * node port serves the admin console and admin API in plain HTTP, so it never leaves the machine; the load
 * balancer is the only way in from outside.
 */
export function nodeBindAddress(bindAddress: string): string {
    return isLoopback(bindAddress) ? bindAddress : "127.0.0.1";
}

/**
 * The host name to put in URLs for ports published on `bindAddress`. `localhost` resolves to 127.0.0.1, so
 * another loopback address (127.0.0.2) must stay literal; ports on 0.0.0.0 are reachable on the host itself
 * through localhost (the public URL then comes from the `hostname` setting, which validation requires).
 */
export function publicHost(bindAddress: string): string {
    return bindAddress === "0.0.0.0" || bindAddress === "127.0.0.1" ? "localhost" : bindAddress;
}

export function planNode(settings: ClusterSettings, index: number): NodePlan {
    const host = settings.hosts.length > 0 ? settings.hosts[nodeHostPosition(index, settings.hosts.length)] : undefined;
    const subnet = parseSubnet(settings.subnet)!;
    const hostPort = settings.basePort + index - 1;
    return {
        index,
        containerName: `${settings.clusterName}-keycloak-${index}`,
        address: formatIPv4(subnet.base + FIRST_NODE_OFFSET + index - 1),
        hostPort,
        // With several hosts the node's HTTP is on its host's private address (the load balancer comes from another host).
        url: host ? `http://${host.address}:${hostPort}` : `http://${publicHost(nodeBindAddress(settings.bindAddress))}:${hostPort}`,
        ...(host ? { placement: { host, ports: nodeClusterPorts(index) } } : {}),
    };
}

/**
 * The nodes node `index` waits for (1-based). Node 1 always goes first: nodes creating the schema of an
 * empty database at the same time race ("relation databasechangelog already exists"). Node i also waits
 * for node i - maxUnavailable, so a change that replaces every node (image, memory, any node setting)
 * replaces at most maxUnavailable at a time: Pulumi deletes a node only once what it depends on has been
 * replaced and reported healthy. The order is a resource option, not an input, so scaling is unaffected.
 */
export function nodePredecessors(index: number, maxUnavailable: number): number[] {
    if (index === 1) return [];
    const rolling = index - maxUnavailable;
    return rolling > 1 ? [1, rolling] : [1];
}

export function planNodes(settings: ClusterSettings): NodePlan[] {
    return Array.from({ length: settings.replicas }, (_, i) => planNode(settings, i + 1));
}

function hostNamed(settings: ClusterSettings, name: string | undefined): DockerHost {
    return settings.hosts.find((host) => host.name === name) ?? settings.hosts[0];
}

export function planCluster(settings: ClusterSettings): ClusterPlan {
    const subnet = parseSubnet(settings.subnet)!;
    return {
        networkName: `${settings.clusterName}-net`,
        gateway: formatIPv4(subnet.base + 1),
        postgres: {
            containerName: `${settings.clusterName}-postgres`,
            address: formatIPv4(subnet.base + 2),
            volumeName: `${settings.clusterName}-pgdata`,
            ...(settings.hosts.length > 0 && !settings.externalDatabase ? { host: hostNamed(settings, settings.postgresHost) } : {}),
        },
        loadBalancer: {
            containerName: `${settings.clusterName}-lb`,
            address: formatIPv4(subnet.base + 3),
            url: `${settings.tls ? "https" : "http"}://${publicHost(settings.bindAddress)}:${settings.loadBalancerPort}`,
            // Derived from the subnet, never from replicas: the load balancer must not change when scaling.
            serverSlots: Math.min(MAX_REPLICAS, nodeSlotCapacity(subnet)),
            ...(settings.hosts.length > 0 ? { host: hostNamed(settings, settings.loadBalancerHost) } : {}),
        },
        nodes: planNodes(settings),
    };
}

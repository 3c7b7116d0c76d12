/**
 * One Keycloak node: its environment (database, clustering, hostname, proxy, bootstrap admin) and its
 * container arguments. Nothing here depends on the number of nodes.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import {
    ClusterPlan,
    JGROUPS_BIND_PORT,
    KEYCLOAK_HTTP_PORT,
    KEYCLOAK_MANAGEMENT_PORT,
    KEYCLOAK_NODES_ALIAS,
    nodeBindAddress,
    NodePlan,
    POSTGRES_ALIAS,
    POSTGRES_PORT,
} from "./addressPlan";
import type { ClusterSettings } from "./config";
import { envList } from "./containerEnv";
import { containerHealthcheck, httpProbeTest } from "./healthcheck";
import { POSTGRES_CLUSTER_PORT } from "./hosts";
import { keycloakBuildOptions, keycloakCommand } from "./keycloakImage";
import { clusterLabels } from "./labels";
import { UPDATE_STREAM_LABEL } from "./updateStrategy";

/**
 * memorySwap -1, stated explicitly: left unset, Docker stores 2 x memory and the provider reads that back
 * against an unset input, a change on every preview. Docker keeps -1 as given on every host, and forces -1
 * on hosts without swap accounting whatever is asked; the provider reads -1 back as -1
 * (resourceDockerContainerRead: MemorySwap > 0 ? MB : as is). Any other value drifts on one kind of host.
 */
export const UNLIMITED_SWAP = -1;

export interface NodeSecrets {
    databasePassword: string;
    adminPassword: string;
}

/** The node's environment as a name → value map (secrets included: handle the result as secret). */
export function keycloakNodeEnv(settings: ClusterSettings, plan: ClusterPlan, node: NodePlan, secrets: NodeSecrets): Record<string, string> {
    // Across hosts: PostgreSQL on its host's private address unless it runs beside this node; JGroups
    // advertises this host's private address and the node's own published ports; the load balancer reaches
    // nodes on other hosts from its host's address (Docker masquerades the container's traffic).
    const remote = node.placement;
    const databaseOnOtherHost = remote !== undefined && plan.postgres.host !== undefined && plan.postgres.host.name !== remote.host.name;
    const trustedProxies = [plan.loadBalancer.address, ...(remote && plan.loadBalancer.host ? [plan.loadBalancer.host.address] : [])];
    const env: Record<string, string> = {
        // The build-time options, exactly as the optimized image was built with them.
        ...keycloakBuildOptions(),
        KC_DB_URL_HOST: settings.externalDatabase?.host ?? (databaseOnOtherHost ? plan.postgres.host!.address : POSTGRES_ALIAS),
        KC_DB_URL_PORT: String(settings.externalDatabase?.port ?? (databaseOnOtherHost ? POSTGRES_CLUSTER_PORT : POSTGRES_PORT)),
        KC_DB_URL_DATABASE: settings.databaseName,
        KC_DB_USERNAME: settings.databaseUser,
        KC_DB_PASSWORD: secrets.databasePassword,

        // Clustering: discovery through the shared database (no multicast), transport bound to this
        // node's own address on the cluster network rather than whatever interface SITE_LOCAL picks.
        KC_CACHE: "ispn",
        KC_CACHE_STACK: "jdbc-ping",
        KC_CACHE_EMBEDDED_NETWORK_BIND_ADDRESS: node.address,
        KC_CACHE_EMBEDDED_NETWORK_BIND_PORT: String(JGROUPS_BIND_PORT),
        // What other members dial; equal to the bind settings on one host, distinct once nodes span hosts.
        KC_CACHE_EMBEDDED_NETWORK_EXTERNAL_ADDRESS: remote ? remote.host.address : node.address,
        KC_CACHE_EMBEDDED_NETWORK_EXTERNAL_PORT: String(remote ? remote.ports.transport : JGROUPS_BIND_PORT),
        KC_SPI_CACHE_EMBEDDED__DEFAULT__NODE_NAME: node.containerName,

        // TLS is terminated in front of the cluster (or not at all on a laptop); nodes speak HTTP.
        KC_HTTP_ENABLED: "true",
        KC_HTTP_PORT: String(KEYCLOAK_HTTP_PORT),
        // One public URL for every node, so a token issued through the load balancer is valid on each
        // node; backchannel URLs follow the request so nodes also work on their own ports.
        KC_HOSTNAME: settings.hostname,
        // Needs a full URL as hostname, which validation guarantees.
        KC_HOSTNAME_BACKCHANNEL_DYNAMIC: "true",
        KC_PROXY_HEADERS: "xforwarded",
        // Only the load balancer may claim a client address or host for a request.
        KC_PROXY_TRUSTED_ADDRESSES: trustedProxies.join(","),

        KC_BOOTSTRAP_ADMIN_USERNAME: settings.adminUsername,
        KC_BOOTSTRAP_ADMIN_PASSWORD: secrets.adminPassword,
    };
    if (!settings.adminThroughLoadBalancer) {
        // The load balancer refuses /admin/, so the console lives on each node's own port.
        env.KC_HOSTNAME_ADMIN = node.url;
    }
    return env;
}

/**
 * The node's published ports: HTTP on loopback; with several hosts, HTTP, management and JGroups on the host's
 * private address instead (the load balancer and the other hosts reach them there). Ordered by container port
 * and one binding per container port, as the provider reads them back (flattenContainerPorts sorts by port; Docker
 * lists several bindings of one port in an order of its own), so a refresh finds no change.
 */
export function keycloakNodePorts(settings: ClusterSettings, node: NodePlan): docker.types.input.ContainerPort[] {
    if (!node.placement) return [{ internal: KEYCLOAK_HTTP_PORT, external: node.hostPort, ip: nodeBindAddress(settings.bindAddress), protocol: "tcp" }];
    const { address } = node.placement.host;
    const { transport, failureDetection, management } = node.placement.ports;
    const onPrivateAddress = (internal: number, external: number) => ({ internal, external, ip: address, protocol: "tcp" });
    return [
        onPrivateAddress(JGROUPS_BIND_PORT, transport),
        onPrivateAddress(KEYCLOAK_HTTP_PORT, node.hostPort),
        onPrivateAddress(KEYCLOAK_MANAGEMENT_PORT, management),
        // FD_SOCK2 listens on the advertised transport port + its offset, inside the container as well.
        onPrivateAddress(failureDetection, failureDetection),
    ];
}

export interface KeycloakNodeInputs {
    settings: ClusterSettings;
    plan: ClusterPlan;
    node: NodePlan;
    imageId: pulumi.Input<string>;
    networkName: pulumi.Input<string>;
    databasePassword: pulumi.Input<string>;
    adminPassword: pulumi.Input<string>;
    /**
     * The cluster's update stream, taken from the output of the resource that holds it (updateStrategy.ts):
     * that dependency is what makes a change of stream stop every node before the new ones start. None with
     * updateStrategy `rolling`.
     */
    updateStream?: pulumi.Input<string>;
}

export function keycloakNodeContainerArgs(inputs: KeycloakNodeInputs): docker.ContainerArgs {
    const { settings, plan, node } = inputs;
    const envs = pulumi.secret(
        pulumi
            .all([inputs.databasePassword, inputs.adminPassword])
            .apply(([databasePassword, adminPassword]) => envList(keycloakNodeEnv(settings, plan, node, { databasePassword, adminPassword }))),
    );
    return {
        name: node.containerName,
        hostname: node.containerName,
        image: inputs.imageId,
        command: keycloakCommand(settings),
        envs,
        networksAdvanced: [{ name: inputs.networkName, ipv4Address: node.address, aliases: [KEYCLOAK_NODES_ALIAS] }],
        // One host: only HTTP is published; management (9000) and JGroups (7800, 57800) stay on the private
        // network. Several hosts: those are published too, on the host's private address only.
        ports: keycloakNodePorts(settings, node),
        // The first start of the official image re-augments Keycloak for our build options (measured at 110 s
        // under load, plus boot and schema creation), so failures count only after the startup timeout.
        healthcheck: containerHealthcheck(httpProbeTest(KEYCLOAK_MANAGEMENT_PORT, "/health/ready"), {
            intervalSeconds: 5,
            timeoutSeconds: 5,
            retries: 3,
            startPeriodSeconds: settings.startupTimeoutSeconds,
        }),
        // The image sizes the JVM heap as a share of the container's memory limit; without a limit that is
        // a share of the whole host, for every node.
        memory: settings.keycloakMemoryMb,
        memorySwap: UNLIMITED_SWAP,
        restart: "unless-stopped",
        wait: true,
        waitTimeout: settings.startupTimeoutSeconds,
        // Time to leave the JGroups view and hand over cache entries before being killed.
        destroyGraceSeconds: 30,
        labels: [
            ...clusterLabels(settings.clusterName, "keycloak"),
            { label: "keycloak-cluster.node", value: String(node.index) },
            ...(inputs.updateStream === undefined ? [] : [{ label: UPDATE_STREAM_LABEL, value: inputs.updateStream }]),
        ],
    };
}

/** The HAProxy load balancer in front of the nodes. */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import {
    ClusterPlan,
    KEYCLOAK_HTTP_PORT,
    KEYCLOAK_MANAGEMENT_PORT,
    KEYCLOAK_NODES_ALIAS,
    LOAD_BALANCER_HTTP_PORT,
    LOAD_BALANCER_HTTPS_PORT,
    LOAD_BALANCER_STATS_PORT,
    planNode,
} from "./addressPlan";
import type { ClusterSettings } from "./config";
import { renderHaproxyConfig, StaticServer } from "./haproxyConfig";
import { containerHealthcheck, httpProbeTest } from "./healthcheck";
import { clusterLabels } from "./labels";
import { haproxyPem } from "./tls";

/** Where the official HAProxy image reads its configuration. */
export const HAPROXY_CONFIG_PATH = "/usr/local/etc/haproxy/haproxy.cfg";
/** Certificate, chain and key for TLS, in the one file HAProxy's `crt` takes. */
export const HAPROXY_PEM_PATH = "/usr/local/etc/haproxy/keycloak.pem";

export function loadBalancerConfig(settings: ClusterSettings, plan: ClusterPlan): string {
    return renderHaproxyConfig({
        nodesAlias: KEYCLOAK_NODES_ALIAS,
        serverSlots: plan.loadBalancer.serverSlots,
        nodeHttpPort: KEYCLOAK_HTTP_PORT,
        nodeManagementPort: KEYCLOAK_MANAGEMENT_PORT,
        listenPort: settings.tls ? LOAD_BALANCER_HTTPS_PORT : LOAD_BALANCER_HTTP_PORT,
        tls: settings.tls ? { pemFile: HAPROXY_PEM_PATH } : undefined,
        redirectListenPort: settings.tls && settings.httpRedirectPort !== undefined ? LOAD_BALANCER_HTTP_PORT : undefined,
        statsPort: LOAD_BALANCER_STATS_PORT,
        publicUrl: settings.hostname,
        exposeAdmin: settings.adminThroughLoadBalancer,
        cookieKey: settings.clusterName,
        staticServers: settings.hosts.length > 0 ? loadBalancerServers(settings, plan) : undefined,
    });
}

/**
 * Several hosts: a fixed server for every possible node (as many as the DNS slots of one host), at the
 * address the load balancer reaches it on: the node's container address when it shares the load balancer's
 * host, else its host's private address and the node's published ports. Derived from the host list and the
 * node index only, never from replicas, so scaling leaves haproxy.cfg alone.
 */
export function loadBalancerServers(settings: ClusterSettings, plan: ClusterPlan): StaticServer[] {
    // Slots whose HTTP port would pass 65535 (a high basePort) hold no node: validation caps replicas there.
    const slots = Math.min(plan.loadBalancer.serverSlots, 65536 - settings.basePort);
    return Array.from({ length: slots }, (_, slot) => {
        const node = planNode(settings, slot + 1);
        const beside = node.placement!.host.name === plan.loadBalancer.host!.name;
        return beside
            ? { name: `node${node.index}`, address: node.address, port: KEYCLOAK_HTTP_PORT, checkPort: KEYCLOAK_MANAGEMENT_PORT }
            : { name: `node${node.index}`, address: node.placement!.host.address, port: node.hostPort, checkPort: node.placement!.ports.management };
    });
}

/**
 * Host ports of the load balancer: Keycloak on loadBalancerPort, and with TLS the optional redirect port.
 * Ordered by container port, as the provider reads them back (flattenContainerPorts sorts by port).
 */
export function loadBalancerPorts(settings: ClusterSettings): docker.types.input.ContainerPort[] {
    const publish = (internal: number, external: number) => ({ internal, external, ip: settings.bindAddress, protocol: "tcp" });
    if (!settings.tls) return [publish(LOAD_BALANCER_HTTP_PORT, settings.loadBalancerPort)];
    return [
        ...(settings.httpRedirectPort !== undefined ? [publish(LOAD_BALANCER_HTTP_PORT, settings.httpRedirectPort)] : []),
        publish(LOAD_BALANCER_HTTPS_PORT, settings.loadBalancerPort),
    ];
}

export interface LoadBalancerInputs {
    settings: ClusterSettings;
    plan: ClusterPlan;
    imageId: pulumi.Input<string>;
    networkName: pulumi.Input<string>;
}

export function loadBalancerContainerArgs(inputs: LoadBalancerInputs): docker.ContainerArgs {
    const { settings, plan } = inputs;
    const uploads: docker.types.input.ContainerUpload[] = [{ file: HAPROXY_CONFIG_PATH, content: loadBalancerConfig(settings, plan) }];
    // The key travels as a secret: the state holds the upload encrypted, the preview never shows it.
    if (settings.tls) uploads.push({ file: HAPROXY_PEM_PATH, content: pulumi.secret(haproxyPem(settings.tls)) });
    return {
        name: plan.loadBalancer.containerName,
        hostname: plan.loadBalancer.containerName,
        image: inputs.imageId,
        uploads,
        networksAdvanced: [{ name: inputs.networkName, ipv4Address: plan.loadBalancer.address }],
        ports: loadBalancerPorts(settings),
        healthcheck: containerHealthcheck(httpProbeTest(LOAD_BALANCER_STATS_PORT, "/healthz"), {
            intervalSeconds: 5,
            timeoutSeconds: 3,
            retries: 3,
            startPeriodSeconds: 10,
        }),
        restart: "unless-stopped",
        wait: true,
        waitTimeout: settings.startupTimeoutSeconds,
        labels: clusterLabels(settings.clusterName, "load-balancer"),
    };
}

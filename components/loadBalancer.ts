/** The HAProxy load balancer in front of the nodes. */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import {
    ClusterPlan,
    KEYCLOAK_HTTP_PORT,
    KEYCLOAK_MANAGEMENT_PORT,
    KEYCLOAK_NODES_ALIAS,
    LOAD_BALANCER_HTTP_PORT,
    LOAD_BALANCER_STATS_PORT,
} from "./addressPlan";
import type { ClusterSettings } from "./config";
import { renderHaproxyConfig } from "./haproxyConfig";
import { containerHealthcheck, httpProbeTest } from "./healthcheck";
import { clusterLabels } from "./labels";

/** Where the official HAProxy image reads its configuration. */
export const HAPROXY_CONFIG_PATH = "/usr/local/etc/haproxy/haproxy.cfg";

export function loadBalancerConfig(settings: ClusterSettings, plan: ClusterPlan): string {
    return renderHaproxyConfig({
        nodesAlias: KEYCLOAK_NODES_ALIAS,
        serverSlots: plan.loadBalancer.serverSlots,
        nodeHttpPort: KEYCLOAK_HTTP_PORT,
        nodeManagementPort: KEYCLOAK_MANAGEMENT_PORT,
        listenPort: LOAD_BALANCER_HTTP_PORT,
        statsPort: LOAD_BALANCER_STATS_PORT,
        exposeAdmin: settings.adminThroughLoadBalancer,
        cookieKey: settings.clusterName,
    });
}

export interface LoadBalancerInputs {
    settings: ClusterSettings;
    plan: ClusterPlan;
    imageId: pulumi.Input<string>;
    networkName: pulumi.Input<string>;
}

export function loadBalancerContainerArgs(inputs: LoadBalancerInputs): docker.ContainerArgs {
    const { settings, plan } = inputs;
    return {
        name: plan.loadBalancer.containerName,
        hostname: plan.loadBalancer.containerName,
        image: inputs.imageId,
        uploads: [{ file: HAPROXY_CONFIG_PATH, content: loadBalancerConfig(settings, plan) }],
        networksAdvanced: [{ name: inputs.networkName, ipv4Address: plan.loadBalancer.address }],
        ports: [{ internal: LOAD_BALANCER_HTTP_PORT, external: settings.loadBalancerPort, ip: settings.bindAddress, protocol: "tcp" }],
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

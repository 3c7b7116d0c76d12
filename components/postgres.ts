/** PostgreSQL: the shared state of the cluster (realms, users, persistent sessions, JGroups discovery). */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ClusterPlan, POSTGRES_ALIAS, POSTGRES_PORT } from "./addressPlan";
import type { ClusterSettings } from "./config";
import { envList } from "./containerEnv";
import { POSTGRES_CLUSTER_PORT } from "./hosts";
import { containerHealthcheck } from "./healthcheck";
import { clusterLabels } from "./labels";

/** Where the official image keeps its data (PostgreSQL 17 and older). */
export const POSTGRES_DATA_PATH = "/var/lib/postgresql/data";

export function postgresEnv(settings: ClusterSettings, password: string): Record<string, string> {
    return {
        POSTGRES_USER: settings.databaseUser,
        POSTGRES_PASSWORD: password,
        POSTGRES_DB: settings.databaseName,
    };
}

/**
 * Healthy only when the real server accepts TCP connections for our database: the official image's
 * first-start init server listens on no TCP address, so it cannot turn the check green too early.
 */
export function postgresHealthTest(settings: ClusterSettings): string[] {
    return ["CMD", "pg_isready", "-h", "127.0.0.1", "-p", String(POSTGRES_PORT), "-U", settings.databaseUser, "-d", settings.databaseName];
}

export interface PostgresInputs {
    settings: ClusterSettings;
    plan: ClusterPlan;
    imageId: pulumi.Input<string>;
    networkName: pulumi.Input<string>;
    volumeName: pulumi.Input<string>;
    password: pulumi.Input<string>;
}

export function postgresContainerArgs(inputs: PostgresInputs): docker.ContainerArgs {
    const { settings, plan } = inputs;
    const envs = pulumi.secret(
        pulumi.output(inputs.password).apply((password) => envList(postgresEnv(settings, password))),
    );
    return {
        name: plan.postgres.containerName,
        hostname: plan.postgres.containerName,
        image: inputs.imageId,
        envs,
        volumes: [{ volumeName: inputs.volumeName, containerPath: POSTGRES_DATA_PATH }],
        networksAdvanced: [{ name: inputs.networkName, ipv4Address: plan.postgres.address, aliases: [POSTGRES_ALIAS] }],
        // Several hosts: the nodes on the other hosts connect on this host's private address (databaseHostPort is
        // refused then: a second binding of 5432 would read back in an order of Docker's own).
        ports: plan.postgres.host
            ? [{ internal: POSTGRES_PORT, external: POSTGRES_CLUSTER_PORT, ip: plan.postgres.host.address, protocol: "tcp" }]
            : settings.databaseHostPort === undefined
              ? []
              : [{ internal: POSTGRES_PORT, external: settings.databaseHostPort, ip: settings.bindAddress, protocol: "tcp" }],
        // A first start initialises the cluster (initdb) before the server listens on TCP.
        healthcheck: containerHealthcheck(postgresHealthTest(settings), {
            intervalSeconds: 5,
            timeoutSeconds: 5,
            retries: 5,
            startPeriodSeconds: settings.startupTimeoutSeconds,
        }),
        restart: "unless-stopped",
        wait: true,
        waitTimeout: settings.startupTimeoutSeconds,
        // A clean shutdown checkpoint instead of crash recovery on the next start.
        destroyGraceSeconds: 60,
        labels: clusterLabels(settings.clusterName, "postgres"),
    };
}

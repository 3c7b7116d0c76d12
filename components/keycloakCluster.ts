/**
 * The KeycloakCluster component: wires the network, PostgreSQL, generated secrets, N Keycloak nodes and
 * the load balancer. Everything it computes comes from the pure functions beside it.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { nodePredecessors, planCluster } from "./addressPlan";
import { KeycloakClusterArgs, resolveSettings } from "./config";
import { RESTART_ONLY_INPUTS } from "./containerEnv";
import { optimizedImageArgs } from "./keycloakImage";
import { keycloakNodeContainerArgs } from "./keycloakNode";
import { clusterLabels } from "./labels";
import { loadBalancerContainerArgs } from "./loadBalancer";
import { postgresContainerArgs } from "./postgres";
import { updateStream } from "./updateStrategy";

export type { KeycloakClusterArgs } from "./config";

export class KeycloakCluster extends pulumi.ComponentResource {
    /** URL of the load balancer: the address users and applications use. */
    readonly loadBalancerUrl: pulumi.Output<string>;
    /** Public URL Keycloak puts in tokens and redirects. */
    readonly publicUrl: pulumi.Output<string>;
    /** URL of each node's own port, node 1 first. */
    readonly nodeUrls: pulumi.Output<string[]>;
    /** Where to open the admin console. */
    readonly adminConsoleUrl: pulumi.Output<string>;
    readonly adminUsername: pulumi.Output<string>;
    /** Bootstrap admin password (secret). */
    readonly adminPassword: pulumi.Output<string>;
    /** PostgreSQL password (secret); keep it to reuse a retained data volume. */
    readonly databasePassword: pulumi.Output<string>;
    readonly networkName: pulumi.Output<string>;
    readonly nodeContainerNames: pulumi.Output<string[]>;
    readonly postgresContainerName: pulumi.Output<string>;
    readonly loadBalancerContainerName: pulumi.Output<string>;
    readonly databaseVolumeName: pulumi.Output<string>;

    constructor(name: string, args: KeycloakClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate before registering anything: bad input must not leave half a cluster behind.
        const settings = resolveSettings(args);
        super("keycloak-cluster:index:KeycloakCluster", name, {}, opts);
        const plan = planCluster(settings);
        const child = { parent: this };
        // Network and container names and host ports are fixed, so a replacement must free them first.
        const replaceInPlace = { parent: this, deleteBeforeReplace: true };
        const containerOptions = { ...replaceInPlace, replaceOnChanges: RESTART_ONLY_INPUTS };

        const network = new docker.Network(
            `${name}-network`,
            {
                name: plan.networkName,
                driver: "bridge",
                ipamConfigs: [{ subnet: settings.subnet, gateway: plan.gateway }],
                labels: clusterLabels(settings.clusterName, "network"),
            },
            replaceInPlace,
        );

        const images = {
            keycloak: new docker.RemoteImage(`${name}-keycloak-image`, { name: settings.keycloakImage, keepLocally: true }, child),
            postgres: new docker.RemoteImage(`${name}-postgres-image`, { name: settings.postgresImage, keepLocally: true }, child),
            loadBalancer: new docker.RemoteImage(`${name}-load-balancer-image`, { name: settings.loadBalancerImage, keepLocally: true }, child),
        };

        // What the nodes run: the optimized build of the Keycloak image, or the image itself. Not pushed, the
        // build's repoDigest is its local image id (pulumi-docker image.go), which changes exactly when the
        // built content does, so the nodes are replaced then and only then.
        const optimizedImage =
            settings.keycloakBuild === "optimize" ? new docker.Image(`${name}-keycloak-optimized`, optimizedImageArgs(settings, images.keycloak.imageId), child) : undefined;
        const nodeImage = optimizedImage ? optimizedImage.repoDigest : images.keycloak.imageId;

        // A change of this resource's keepers stops every node before the new ones start (updateStrategy.ts).
        // It waits for the image the new nodes run, so the old nodes keep serving while it is pulled and built.
        const streamValue = updateStream(settings.updateStrategy, settings.keycloakImage);
        const nodeUpdateStream =
            streamValue === undefined
                ? undefined
                : new random.RandomId(
                      `${name}-update-stream`,
                      { byteLength: 4, keepers: { stream: streamValue } },
                      { ...replaceInPlace, dependsOn: [optimizedImage ?? images.keycloak] },
                  ).keepers.apply((keepers) => keepers?.stream ?? "");

        const passwordOrGenerated = (given: string, resourceName: string): pulumi.Output<string> =>
            given !== ""
                ? pulumi.secret(given)
                : new random.RandomPassword(resourceName, { length: 32, special: false }, child).result;
        const databasePassword = passwordOrGenerated(settings.databasePassword, `${name}-database-password`);
        const adminPassword = passwordOrGenerated(settings.adminPassword, `${name}-admin-password`);

        const volume = new docker.Volume(
            `${name}-postgres-data`,
            { name: plan.postgres.volumeName, labels: clusterLabels(settings.clusterName, "postgres-data") },
            { parent: this, retainOnDelete: settings.retainDatabaseVolume },
        );

        const postgres = new docker.Container(
            `${name}-postgres`,
            postgresContainerArgs({
                settings,
                plan,
                imageId: images.postgres.imageId,
                networkName: network.name,
                volumeName: volume.name,
                password: databasePassword,
            }),
            containerOptions,
        );

        const nodes: docker.Container[] = [];
        for (const node of plan.nodes) {
            nodes.push(
                new docker.Container(
                    `${name}-node-${node.index}`,
                    keycloakNodeContainerArgs({
                        settings,
                        plan,
                        node,
                        imageId: nodeImage,
                        networkName: network.name,
                        databasePassword,
                        adminPassword,
                        updateStream: nodeUpdateStream,
                    }),
                    // Keycloak refuses to start without its database: create nodes once PostgreSQL is healthy;
                    // then node 1 first and a rolling order after it (nodePredecessors).
                    { ...containerOptions, dependsOn: [postgres, ...nodePredecessors(node.index, settings.maxUnavailable).map((index) => nodes[index - 1])] },
                ),
            );
        }

        const loadBalancer = new docker.Container(
            `${name}-load-balancer`,
            loadBalancerContainerArgs({ settings, plan, imageId: images.loadBalancer.imageId, networkName: network.name }),
            containerOptions,
        );

        this.loadBalancerUrl = pulumi.output(plan.loadBalancer.url);
        this.publicUrl = pulumi.output(settings.hostname);
        this.nodeUrls = pulumi.output(plan.nodes.map((node) => node.url));
        this.adminConsoleUrl = pulumi.output(
            settings.adminThroughLoadBalancer ? `${settings.hostname.replace(/\/$/, "")}/admin/` : `${plan.nodes[0].url}/admin/`,
        );
        this.adminUsername = pulumi.output(settings.adminUsername);
        this.adminPassword = pulumi.secret(adminPassword);
        this.databasePassword = pulumi.secret(databasePassword);
        this.networkName = network.name;
        this.nodeContainerNames = pulumi.all(nodes.map((node) => node.name));
        this.postgresContainerName = postgres.name;
        this.loadBalancerContainerName = loadBalancer.name;
        this.databaseVolumeName = volume.name;

        this.registerOutputs({
            loadBalancerUrl: this.loadBalancerUrl,
            publicUrl: this.publicUrl,
            nodeUrls: this.nodeUrls,
            adminConsoleUrl: this.adminConsoleUrl,
            adminUsername: this.adminUsername,
            adminPassword: this.adminPassword,
            databasePassword: this.databasePassword,
            networkName: this.networkName,
            nodeContainerNames: this.nodeContainerNames,
            postgresContainerName: this.postgresContainerName,
            loadBalancerContainerName: this.loadBalancerContainerName,
            databaseVolumeName: this.databaseVolumeName,
        });
    }
}

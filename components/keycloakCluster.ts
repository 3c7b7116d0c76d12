/**
 * The KeycloakCluster component: wires the network, PostgreSQL, generated secrets, N Keycloak nodes and
 * the load balancer. Everything it computes comes from the pure functions beside it.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ClusterPlan, nodePredecessors, planCluster } from "./addressPlan";
import { ClusterSettings, KeycloakClusterArgs, resolveSettings } from "./config";
import { DockerHost } from "./hosts";
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
    /** "" with externalDatabase, as is databaseVolumeName. */
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

        // One site per Docker engine: the local default engine (resource names as they always were), or one
        // per entry of `hosts`, each with its own provider, network and images. A resource's name carries its
        // host, so a part that moved host is created anew rather than left on the old engine (a provider switch
        // alone does not replace a resource: pulumi/pulumi step_generator.go providerChanged defers to DiffConfig).
        const sites = settings.hosts.length === 0 ? [this.site(name, settings, plan, undefined)] : settings.hosts.map((host) => this.site(name, settings, plan, host));
        const siteOf = (host: DockerHost | undefined) => sites.find((site) => site.host?.name === host?.name)!;
        const postgresSite = siteOf(plan.postgres.host);
        const loadBalancerSite = siteOf(plan.loadBalancer.host);

        // A change of this resource's keepers stops every node before the new ones start (updateStrategy.ts).
        // It waits for the images the new nodes run, so the old nodes keep serving while they are pulled and built.
        const streamValue = updateStream(settings.updateStrategy, settings.keycloakImage);
        const nodeUpdateStream =
            streamValue === undefined
                ? undefined
                : new random.RandomId(
                      `${name}-update-stream`,
                      { byteLength: 4, keepers: { stream: streamValue } },
                      { ...replaceInPlace, dependsOn: sites.map((site) => site.nodeImageResource) },
                  ).keepers.apply((keepers) => keepers?.stream ?? "");

        const passwordOrGenerated = (given: string, resourceName: string): pulumi.Output<string> =>
            given !== ""
                ? pulumi.secret(given)
                : new random.RandomPassword(resourceName, { length: 32, special: false }, child).result;
        const databasePassword = passwordOrGenerated(settings.databasePassword, `${name}-database-password`);
        const adminPassword = passwordOrGenerated(settings.adminPassword, `${name}-admin-password`);

        // The cluster's own PostgreSQL, unless the nodes use an existing one (externalDatabase).
        const database = settings.externalDatabase ? undefined : this.postgres(name, settings, plan, postgresSite, databasePassword, containerOptions);

        const nodes: docker.Container[] = [];
        for (const node of plan.nodes) {
            const site = siteOf(node.placement?.host);
            nodes.push(
                new docker.Container(
                    site.resourceName(`node-${node.index}`),
                    keycloakNodeContainerArgs({
                        settings,
                        plan,
                        node,
                        imageId: site.nodeImage,
                        networkName: site.network.name,
                        databasePassword,
                        adminPassword,
                        updateStream: nodeUpdateStream,
                    }),
                    // Keycloak refuses to start without its database: create nodes once PostgreSQL is healthy;
                    // then node 1 first and a rolling order after it (nodePredecessors).
                    {
                        ...containerOptions,
                        ...site.options,
                        dependsOn: [...(database ? [database.container] : []), ...nodePredecessors(node.index, settings.maxUnavailable).map((index) => nodes[index - 1])],
                    },
                ),
            );
        }

        const loadBalancerImage = new docker.RemoteImage(loadBalancerSite.resourceName("load-balancer-image"), { name: settings.loadBalancerImage, keepLocally: true }, loadBalancerSite.options);
        const loadBalancer = new docker.Container(
            loadBalancerSite.resourceName("load-balancer"),
            loadBalancerContainerArgs({ settings, plan, imageId: loadBalancerImage.imageId, networkName: loadBalancerSite.network.name }),
            { ...containerOptions, ...loadBalancerSite.options },
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
        this.networkName = sites[0].network.name;
        this.nodeContainerNames = pulumi.all(nodes.map((node) => node.name));
        this.postgresContainerName = database ? database.container.name : pulumi.output("");
        this.loadBalancerContainerName = loadBalancer.name;
        this.databaseVolumeName = database ? database.volume.name : pulumi.output("");

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

    /** PostgreSQL on its site: image, data volume (kept on destroy by default) and container. */
    private postgres(
        name: string,
        settings: ClusterSettings,
        plan: ClusterPlan,
        site: ReturnType<KeycloakCluster["site"]>,
        password: pulumi.Output<string>,
        containerOptions: pulumi.CustomResourceOptions,
    ) {
        const image = new docker.RemoteImage(site.resourceName("postgres-image"), { name: settings.postgresImage, keepLocally: true }, site.options);
        const volume = new docker.Volume(
            site.resourceName("postgres-data"),
            { name: plan.postgres.volumeName, labels: clusterLabels(settings.clusterName, "postgres-data") },
            { ...site.options, retainOnDelete: settings.retainDatabaseVolume },
        );
        const container = new docker.Container(
            site.resourceName("postgres"),
            postgresContainerArgs({ settings, plan, imageId: image.imageId, networkName: site.network.name, volumeName: volume.name, password }),
            { ...containerOptions, ...site.options },
        );
        return { volume, container };
    }

    /**
     * What one Docker engine gets: its provider (none for the local default engine), the cluster network, the
     * Keycloak image and, by default, its optimized build (built on that engine).
     */
    private site(name: string, settings: ClusterSettings, plan: ClusterPlan, host: DockerHost | undefined) {
        const resourceName = (base: string) => (host ? `${name}-${host.name}-${base}` : `${name}-${base}`);
        const provider = host
            ? new docker.Provider(
                  resourceName("engine"),
                  {
                      host: host.engine,
                      sshOpts: host.sshOpts,
                      caMaterial: host.caPem,
                      certMaterial: host.certPem,
                      keyMaterial: host.keyPem === undefined ? undefined : pulumi.secret(host.keyPem),
                  },
                  { parent: this },
              )
            : undefined;
        const options = provider ? { parent: this, provider } : { parent: this };
        // Network and container names and host ports are fixed, so a replacement must free them first.
        const network = new docker.Network(
            resourceName("network"),
            {
                name: plan.networkName,
                driver: "bridge",
                ipamConfigs: [{ subnet: settings.subnet, gateway: plan.gateway }],
                labels: clusterLabels(settings.clusterName, "network"),
            },
            { ...options, deleteBeforeReplace: true },
        );
        const keycloakImage = new docker.RemoteImage(resourceName("keycloak-image"), { name: settings.keycloakImage, keepLocally: true }, options);
        // What the nodes run: the optimized build of the Keycloak image, or the image itself. Not pushed, the
        // build's repoDigest is its local image id (pulumi-docker image.go), which changes exactly when the
        // built content does, so the nodes are replaced then and only then.
        const optimizedImage =
            settings.keycloakBuild === "optimize" ? new docker.Image(resourceName("keycloak-optimized"), optimizedImageArgs(settings, keycloakImage.imageId), options) : undefined;
        return {
            host,
            options,
            resourceName,
            network,
            nodeImage: optimizedImage ? optimizedImage.repoDigest : keycloakImage.imageId,
            nodeImageResource: optimizedImage ?? keycloakImage,
        };
    }
}

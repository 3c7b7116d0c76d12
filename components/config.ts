/**
 * The public interface of the program: every setting, its default, and the checks that run before any
 * resource is declared. Pure: no Pulumi calls, so it is tested directly.
 */
import { isLoopback, MAX_REPLICAS, nodeSlotCapacity, parseIPv4, parseSubnet, publicHost } from "./addressPlan";
import { DockerHost, hostPortCollisions, HostPortUse, nodeClusterPorts, nodeHostPosition, parseHosts, POSTGRES_CLUSTER_PORT } from "./hosts";
import { parseImageReference } from "./imageReference";
import { certificateWarnings, TlsMaterial, tlsMaterialProblems } from "./tls";
import { UPDATE_STRATEGIES, UpdateStrategy } from "./updateStrategy";

/** The stack-config namespace: keys are `keycloak-cluster:<key>`. */
export const CONFIG_NAMESPACE = "keycloak-cluster";

/** Keycloak version of the default image; the end-to-end suite runs this exact version. */
export const KEYCLOAK_VERSION = "26.7.3";

/**
 * Arguments of a {@link KeycloakCluster}. Every field is optional; the default is stated on each and
 * applied in one place ({@link resolveSettings}).
 */
export interface KeycloakClusterArgs {
    /** Prefix of every Docker object (containers, network, volume), so several clusters can share one engine. Default `keycloak`. */
    clusterName?: string;
    /** Number of Keycloak nodes, 1 to 32 (fewer if the subnet or port range is smaller). Default `2`. */
    replicas?: number;
    /**
     * How many nodes a change may replace at once (1 to 32). Node i waits for node i - maxUnavailable, so with
     * the default only one node is ever down during a replacement, and the others keep serving. Default `1`.
     */
    maxUnavailable?: number;
    /** Host port of node 1's HTTP listener; node i gets `basePort + i - 1`. Default `8080`. */
    basePort?: number;
    /**
     * Host address the load balancer (and PostgreSQL, when published) binds to. Node ports bind to it only while it
     * is a loopback address, otherwise to 127.0.0.1: they serve the admin console in plain HTTP. Default
     * `127.0.0.1` (nothing reachable from other machines).
     */
    bindAddress?: string;
    /** Host port of the load balancer. Default `8000`. */
    loadBalancerPort?: number;
    /** IPv4 subnet of the private cluster network, prefix /16 to /28; nodes take addresses from `.10` up. Default `10.231.0.0/24`. */
    subnet?: string;
    /** Keycloak image. Default `quay.io/keycloak/keycloak:26.7.3`. */
    keycloakImage?: string;
    /**
     * How the Keycloak image becomes what the nodes run. `optimize`: build `<clusterName>-keycloak` from
     * `keycloakImage` with the cluster's build-time options, nodes run `start --optimized`. `prebuilt`:
     * `keycloakImage` is already built with those options (db postgres, health and metrics enabled); nodes run
     * `start --optimized`, nothing is built. `auto`: nodes run `start` and re-augment on every container start
     * (slower). Default `optimize`.
     */
    keycloakBuild?: string;
    /**
     * How a change of `keycloakImage` reaches the nodes. `auto`: a patch change (26.7.2 → 26.7.3) replaces
     * the nodes one at a time, a change of major.minor (or to or from a tag that names no version) first stops
     * every old node, then starts the new ones (Keycloak supports mixed versions only within a patch series).
     * `recreate`: every image change stops all old nodes first. `rolling`: every image change rolls (only for
     * images known to be compatible). Default `auto`.
     */
    updateStrategy?: string;
    /** PostgreSQL image (must behave like the official image). Default `postgres:17`. */
    postgresImage?: string;
    /** HAProxy image (must behave like the official image). Default `haproxy:3.0`. */
    loadBalancerImage?: string;
    /**
     * Public URL of Keycloak (`http://` or `https://`, lowercase scheme, no path, query, fragment or credentials),
     * used for token issuers and redirects. Default `""`: `http://localhost:<loadBalancerPort>` for `127.0.0.1`,
     * the bind address itself for any other specific address; required when `bindAddress` is `0.0.0.0`.
     */
    hostname?: string;
    /**
     * PEM certificate of the public URL's host, followed by its intermediates (set it as a secret). With `tlsKey`,
     * the load balancer serves HTTPS on `loadBalancerPort` (TLS 1.2 and 1.3, HTTP/2, HSTS). Default `""`: plain HTTP.
     */
    tlsCertificate?: string;
    /** PEM private key of `tlsCertificate`, unencrypted (set it as a secret). Default `""`. */
    tlsKey?: string;
    /** With TLS: a host port (on `bindAddress`) where plain HTTP is redirected to the HTTPS public URL. Default `0`: none. */
    httpRedirectPort?: number;
    /** Username of the bootstrap (temporary) admin in the master realm. Default `admin`. */
    adminUsername?: string;
    /** PostgreSQL database name. Default `keycloak`. */
    databaseName?: string;
    /** PostgreSQL user Keycloak connects as. Default `keycloak`. */
    databaseUser?: string;
    /**
     * Route the admin console, the admin REST API (`/admin/`) and the master realm through the load balancer; needs
     * TLS unless `bindAddress` is a loopback address. Default `false`: the admin console is reached on a node's own
     * port, and the load balancer answers 404 for the master realm.
     */
    adminThroughLoadBalancer?: boolean;
    /** Keep the PostgreSQL data volume when the stack is destroyed. Default `true`. */
    retainDatabaseVolume?: boolean;
    /** Publish PostgreSQL on this host port (on `bindAddress`). Default `0`: not published. */
    databaseHostPort?: number;
    /** Memory limit of each Keycloak container in MB (768 to 65536); Keycloak sizes its heap at 70% of it. Default `2048`. */
    keycloakMemoryMb?: number;
    /**
     * How long `pulumi up` waits for each container to become healthy, in seconds (240 to 1080); also each
     * container's healthcheck start period, so Docker never marks a node unhealthy while it is still starting.
     * Default `600`.
     */
    startupTimeoutSeconds?: number;
    /**
     * Docker hosts the cluster spans, as a JSON list (or structured config): each `{name, engine, address}` with
     * `engine` what the Docker provider's `host` takes (`unix://`, `tcp://` with `caPem`/`certPem`/`keyPem`,
     * `ssh://user@host`) and `address` the private IPv4 address the other hosts reach it on. Node i runs on host
     * ((i - 1) mod H). Default `""`: the one local engine.
     */
    hosts?: string | DockerHost[];
    /**
     * `host:port` of an existing PostgreSQL (a managed or otherwise highly available one) the nodes use instead
     * of the cluster's own: no PostgreSQL container, image or volume is declared. Needs `databasePassword` (the
     * password of `databaseUser` there). Default `""`: the cluster runs its own PostgreSQL.
     */
    externalDatabase?: string;
    /** With `hosts`: the host PostgreSQL runs on. Default `""`: the first host. */
    postgresHost?: string;
    /** With `hosts`: the host the load balancer runs on. Default `""`: the first host. */
    loadBalancerHost?: string;
    /**
     * PostgreSQL password (set it as a secret). Default `""`: generated. Set it to keep using a retained data
     * volume after a destroy: PostgreSQL keeps the password it was initialised with.
     */
    databasePassword?: string;
    /**
     * Bootstrap admin password (set it as a secret). Default `""`: generated. Keycloak creates the bootstrap
     * admin only on an empty database, so on a reused volume the earlier password stays valid.
     */
    adminPassword?: string;
}

/** {@link KeycloakClusterArgs} with every default applied and every value checked. */
export interface ClusterSettings {
    clusterName: string;
    replicas: number;
    maxUnavailable: number;
    basePort: number;
    bindAddress: string;
    loadBalancerPort: number;
    subnet: string;
    keycloakImage: string;
    keycloakBuild: KeycloakBuild;
    updateStrategy: UpdateStrategy;
    postgresImage: string;
    loadBalancerImage: string;
    hostname: string;
    /** Set when the load balancer terminates TLS. */
    tls: TlsMaterial | undefined;
    httpRedirectPort: number | undefined;
    adminUsername: string;
    databaseName: string;
    databaseUser: string;
    adminThroughLoadBalancer: boolean;
    retainDatabaseVolume: boolean;
    databaseHostPort: number | undefined;
    keycloakMemoryMb: number;
    startupTimeoutSeconds: number;
    /** Empty: one local engine (the provider's default). */
    hosts: DockerHost[];
    /** Set when the nodes use an existing PostgreSQL instead of the cluster's own. */
    externalDatabase: { host: string; port: number } | undefined;
    /** Names of entries of `hosts`; undefined without hosts (and postgresHost without the cluster's own PostgreSQL). */
    postgresHost: string | undefined;
    loadBalancerHost: string | undefined;
    /** "" means: generate one. */
    databasePassword: string;
    /** "" means: generate one. */
    adminPassword: string;
}

export const KEYCLOAK_BUILDS = ["optimize", "prebuilt", "auto"] as const;
export type KeycloakBuild = (typeof KEYCLOAK_BUILDS)[number];

type SettingKey = keyof KeycloakClusterArgs;
/** "json": a structured value (a JSON string from the CLI); Pulumi.yaml cannot type it (no object type) and leaves it untyped. */
type SettingType = "integer" | "string" | "boolean" | "json";

interface SettingSpec {
    type: SettingType;
    /** Pulumi.yaml declares the same default; "" and 0 stand for "derived" and "not set" where a setting has no value of its own. */
    default: string | number | boolean;
    description: string;
    /**
     * Meant to be set with `pulumi config set --secret`: never shown in errors, wrapped as a secret, and a
     * warning when set in plain text. Not marked `secret: true` in Pulumi.yaml: the CLI then requires a value
     * (a key without a default is missing) and refuses the default (not encrypted), so no value would do.
     */
    secret?: true;
}

/** Every stack-config key, in the order the README and Pulumi.yaml list them. */
export const SETTINGS: Record<SettingKey, SettingSpec> = {
    replicas: { type: "integer", default: 2, description: "Number of Keycloak nodes (1 to 32, fewer if the subnet or port range is smaller)." },
    maxUnavailable: { type: "integer", default: 1, description: "How many nodes a change may replace at once (1 to 32); the rest keep serving." },
    basePort: { type: "integer", default: 8080, description: "Host port of node 1; node i listens on basePort + i - 1." },
    bindAddress: { type: "string", default: "127.0.0.1", description: "Host address the load balancer binds to; node ports bind to it only while it is loopback, else to 127.0.0.1." },
    loadBalancerPort: { type: "integer", default: 8000, description: "Host port of the HAProxy load balancer." },
    subnet: { type: "string", default: "10.231.0.0/24", description: "IPv4 subnet (/16 to /28) of the private cluster network; nodes take addresses from .10 up." },
    keycloakImage: { type: "string", default: `quay.io/keycloak/keycloak:${KEYCLOAK_VERSION}`, description: "Keycloak image." },
    keycloakBuild: { type: "string", default: "optimize", description: "optimize: build <clusterName>-keycloak with the build options, start --optimized; prebuilt: keycloakImage already is; auto: plain start." },
    updateStrategy: { type: "string", default: "auto", description: "auto: a patch change of keycloakImage rolls, a major.minor change stops all old nodes first; recreate: every image change does; rolling: every image change rolls." },
    postgresImage: { type: "string", default: "postgres:17", description: "PostgreSQL image (official-image compatible)." },
    loadBalancerImage: { type: "string", default: "haproxy:3.0", description: "HAProxy image (official-image compatible)." },
    hostname: { type: "string", default: "", description: "Public URL of Keycloak (http:// or https://, no path); empty means http://localhost:<loadBalancerPort>." },
    tlsCertificate: { type: "string", default: "", secret: true, description: "PEM certificate (then its chain) for the public URL's host (set it with config set --secret); with tlsKey the load balancer serves HTTPS." },
    tlsKey: { type: "string", default: "", secret: true, description: "PEM private key of tlsCertificate, unencrypted (set it with config set --secret)." },
    httpRedirectPort: { type: "integer", default: 0, description: "With TLS: host port where plain HTTP is redirected to the HTTPS URL; 0 means none." },
    adminUsername: { type: "string", default: "admin", description: "Bootstrap admin username (master realm)." },
    databaseName: { type: "string", default: "keycloak", description: "PostgreSQL database name." },
    databaseUser: { type: "string", default: "keycloak", description: "PostgreSQL user for Keycloak." },
    adminThroughLoadBalancer: { type: "boolean", default: false, description: "Expose the admin console (/admin/) and the master realm through the load balancer; needs TLS unless bindAddress is loopback." },
    retainDatabaseVolume: { type: "boolean", default: true, description: "Keep the PostgreSQL data volume on pulumi destroy." },
    databaseHostPort: { type: "integer", default: 0, description: "Publish PostgreSQL on this host port; 0 means not published." },
    keycloakMemoryMb: { type: "integer", default: 2048, description: "Memory limit of each Keycloak container in MB (768 to 65536); the heap is 70% of it." },
    startupTimeoutSeconds: { type: "integer", default: 600, description: "Seconds pulumi up waits for each container to be healthy, and its healthcheck start period (240 to 1080)." },
    clusterName: { type: "string", default: "keycloak", description: "Prefix of every Docker object name." },
    externalDatabase: { type: "string", default: "", description: "host:port of an existing (highly available) PostgreSQL to use instead of the cluster's own; needs databasePassword." },
    hosts: { type: "json", default: "", description: "Docker hosts as a JSON list of {name, engine, address}; node i runs on host (i-1) mod H; empty means the local engine." },
    postgresHost: { type: "string", default: "", description: "With hosts: the host PostgreSQL runs on; empty means the first." },
    loadBalancerHost: { type: "string", default: "", description: "With hosts: the host the load balancer runs on; empty means the first." },
    databasePassword: { type: "string", default: "", secret: true, description: "PostgreSQL password (set it with config set --secret); empty means generated. Set it to reuse a retained data volume." },
    adminPassword: { type: "string", default: "", secret: true, description: "Bootstrap admin password (set it with config set --secret); empty means generated." },
};

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

/**
 * Warnings for secret settings stored in plain text in the stack config (set without `--secret`): the
 * program still treats them as secrets, but the stack file holds them readable.
 */
export function plainTextSecretWarnings(allConfig: Record<string, string>, isSecret: (fullKey: string) => boolean): string[] {
    const hostsKey = `${CONFIG_NAMESPACE}:hosts`;
    // hosts is secret only when it carries an engine's client key.
    const holdsKey = (fullKey: string) => fullKey !== hostsKey || /PRIVATE KEY/.test(allConfig[fullKey] ?? "");
    return SETTING_KEYS.filter((key) => SETTINGS[key].secret || key === "hosts")
        .map((key) => `${CONFIG_NAMESPACE}:${key}`)
        .filter((fullKey) => (allConfig[fullKey] ?? "") !== "" && holdsKey(fullKey) && !isSecret(fullKey))
        .map(
            (fullKey) =>
                `${fullKey} is stored in plain text in the stack config; set it again with \`pulumi config set --secret ${fullKey.slice(CONFIG_NAMESPACE.length + 1)} <value>\` so the stack file holds it encrypted`,
        );
}

/**
 * What `pulumi up` must show about how exposed the cluster is: plain HTTP on an address other machines can
 * reach, and a certificate that has expired or soon will.
 */
export function exposureWarnings(settings: ClusterSettings, now: Date): string[] {
    const warnings: string[] = [];
    if (!settings.tls && !isLoopback(settings.bindAddress)) {
        warnings.push(
            `keycloak-cluster: the load balancer serves plain HTTP on ${settings.bindAddress}:${settings.loadBalancerPort}, reachable from other machines: passwords and tokens cross the network unencrypted. Set tlsCertificate and tlsKey (config set --secret), or bind to 127.0.0.1 behind your own TLS proxy`,
        );
    }
    if (settings.databaseHostPort !== undefined && !isLoopback(settings.bindAddress)) {
        warnings.push(`keycloak-cluster: PostgreSQL is published on ${settings.bindAddress}:${settings.databaseHostPort}, reachable from other machines, without TLS`);
    }
    if (settings.hosts.length > 0) {
        warnings.push(
            `keycloak-cluster: across hosts, the nodes' HTTP ports (admin console and admin API included, plain HTTP), their JGroups failure-detection ports${settings.externalDatabase ? "" : " and PostgreSQL"} are published on the hosts' private addresses (${settings.hosts.map((host) => host.address).join(", ")}): keep that network private and firewalled as README "Several hosts" lists`,
        );
    }
    if (settings.tls) warnings.push(...certificateWarnings(settings.tls.certificatePem, now).map((warning) => `keycloak-cluster: ${warning}`));
    return warnings;
}

/** The one error raised for bad settings; its message lists every problem found. */
export class ClusterConfigError extends Error {
    constructor(readonly problems: string[]) {
        super(`Invalid ${CONFIG_NAMESPACE} configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "ClusterConfigError";
    }
}

/**
 * Turns the stack's raw config (`pulumi.runtime.allConfig()`: namespaced keys, string values) into
 * {@link KeycloakClusterArgs}. Keys of other namespaces are ignored; an unknown key of ours is an error,
 * so a typo like `replica` cannot silently fall back to a default.
 */
export function readStackConfig(allConfig: Record<string, string>): KeycloakClusterArgs {
    const problems: string[] = [];
    const args: Record<string, unknown> = {};
    const prefix = `${CONFIG_NAMESPACE}:`;
    for (const [fullKey, raw] of Object.entries(allConfig)) {
        if (!fullKey.startsWith(prefix)) continue;
        const key = fullKey.slice(prefix.length);
        // Own keys only: "constructor" or "toString" must not pass for settings through the prototype.
        const spec = Object.hasOwn(SETTINGS, key) ? SETTINGS[key as SettingKey] : undefined;
        if (!spec) {
            problems.push(`${fullKey} is not a setting of this program; valid keys: ${SETTING_KEYS.join(", ")}`);
            continue;
        }
        args[key] = convertConfigValue(spec.type, raw);
    }
    if (problems.length > 0) throw new ClusterConfigError(problems);
    return args as KeycloakClusterArgs;
}

/** Stack config values arrive as strings; convert what clearly parses and leave the rest for validation to name. */
function convertConfigValue(type: SettingType, raw: string): unknown {
    const text = raw.trim();
    if (type === "integer" && /^[+-]?\d+(\.\d+)?$/.test(text)) return Number(text);
    if (type === "boolean" && (text === "true" || text === "false")) return text === "true";
    return raw;
}

/** Applies every default and checks every value; throws one {@link ClusterConfigError} naming each bad setting. */
export function resolveSettings(args: KeycloakClusterArgs): ClusterSettings {
    const problems: string[] = [];
    const describe = (key: SettingKey, value: unknown) =>
        SETTINGS[key].secret || key === "hosts"
            ? `${key} (secret, ${typeof value === "string" ? value.length : 0} characters, not shown)`
            : `${key} = ${JSON.stringify(typeof value === "string" ? withoutCredentials(value) : value)}`;
    const given = args as Record<string, unknown>;

    for (const key of Object.keys(given)) {
        if (!Object.hasOwn(SETTINGS, key)) problems.push(`${key} is not a setting of this program; valid keys: ${SETTING_KEYS.join(", ")}`);
    }

    const valueOf = (key: SettingKey): unknown => (given[key] === undefined ? SETTINGS[key].default : given[key]);

    const integer = (key: SettingKey, min: number, max: number, allowed: string): number | undefined => {
        const value = valueOf(key);
        if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
            problems.push(`${describe(key, value)}: must be ${allowed}`);
            return undefined;
        }
        return value;
    };
    const port = (key: SettingKey) => integer(key, 1, 65535, "a whole number from 1 to 65535 (a TCP port)");
    const boolean = (key: SettingKey): boolean => {
        const value = valueOf(key);
        if (typeof value !== "boolean") {
            problems.push(`${describe(key, value)}: must be true or false`);
            return Boolean(SETTINGS[key].default);
        }
        return value;
    };
    const text = (key: SettingKey, pattern: RegExp, allowed: string): string => {
        const value = valueOf(key);
        if (typeof value !== "string" || !pattern.test(value)) {
            problems.push(`${describe(key, value)}: must be ${allowed}`);
            return String(SETTINGS[key].default ?? "");
        }
        return value;
    };

    const identifierPattern = /^[a-z_][a-z0-9_]{0,62}$/;
    const identifierAllowed = "a lowercase PostgreSQL identifier: a letter or _, then letters, digits or _, at most 63 characters";

    const clusterName = text("clusterName", /^[a-z][a-z0-9-]{0,38}[a-z0-9]$|^[a-z]$/, "1 to 40 lowercase letters, digits or '-', starting with a letter and not ending with '-'");
    const image = (key: SettingKey): string => {
        const value = valueOf(key);
        const parsed = typeof value === "string" ? parseImageReference(value) : { problem: "is not a string" };
        if ("problem" in parsed) {
            problems.push(`${describe(key, value)}: ${parsed.problem}; must be a Docker image reference such as ${SETTINGS[key].default}`);
            return String(SETTINGS[key].default);
        }
        return value as string;
    };
    const keycloakImage = image("keycloakImage");
    const keycloakBuild = text(
        "keycloakBuild",
        new RegExp(`^(${KEYCLOAK_BUILDS.join("|")})$`),
        "optimize (build an optimized image), prebuilt (keycloakImage already is one) or auto (re-augment on every start)",
    ) as KeycloakBuild;
    const updateStrategy = text(
        "updateStrategy",
        new RegExp(`^(${UPDATE_STRATEGIES.join("|")})$`),
        "auto (patch versions roll, other image changes stop every old node first), recreate (every image change stops every old node first) or rolling (every image change rolls)",
    ) as UpdateStrategy;
    const postgresImage = image("postgresImage");
    const loadBalancerImage = image("loadBalancerImage");
    const adminUsername = text("adminUsername", /^[A-Za-z0-9][A-Za-z0-9._@-]{0,254}$/, "a non-empty username of letters, digits, '.', '_', '@' or '-'");
    const databaseName = text("databaseName", identifierPattern, identifierAllowed);
    const databaseUser = text("databaseUser", identifierPattern, identifierAllowed);
    const adminThroughLoadBalancer = boolean("adminThroughLoadBalancer");
    const retainDatabaseVolume = boolean("retainDatabaseVolume");
    const password = (key: SettingKey): string => {
        const value = valueOf(key);
        if (value === "") return "";
        // No "$": Keycloak expands "$$" and "${...}" in environment values (keycloak#46657), so Keycloak
        // and PostgreSQL would disagree about the password.
        return text(key, /^[\x21-\x23\x25-\x7e]{16,128}$/, "empty (generate one) or 16 to 128 printable ASCII characters without spaces or '$' (Keycloak expands '$' in environment values)");
    };
    const databasePassword = password("databasePassword");
    const adminPassword = password("adminPassword");
    const keycloakMemoryMb = integer("keycloakMemoryMb", 768, 65536, "a whole number of MB from 768 to 65536");
    const startupTimeoutSeconds = integer(
        "startupTimeoutSeconds",
        MIN_STARTUP_TIMEOUT_SECONDS,
        MAX_STARTUP_TIMEOUT_SECONDS,
        `a whole number of seconds from ${MIN_STARTUP_TIMEOUT_SECONDS} (a measured cold start of the official image on a loaded 2-core host) to ${MAX_STARTUP_TIMEOUT_SECONDS}`,
    );

    const bindAddressValue = valueOf("bindAddress");
    const bindAddress = typeof bindAddressValue === "string" && parseIPv4(bindAddressValue) !== undefined ? bindAddressValue : undefined;
    if (bindAddress === undefined) problems.push(`${describe("bindAddress", bindAddressValue)}: must be an IPv4 address such as 127.0.0.1 or 0.0.0.0`);

    const subnetValue = valueOf("subnet");
    const parsedSubnet = typeof subnetValue === "string" ? parseSubnet(subnetValue) : undefined;
    if (parsedSubnet === undefined) {
        problems.push(`${describe("subnet", subnetValue)}: must be an IPv4 network in CIDR form with a prefix from /16 to /28 and no host bits set, e.g. 10.231.0.0/24`);
    }

    const basePort = port("basePort");
    const loadBalancerPort = port("loadBalancerPort");
    const databaseHostPort = valueOf("databaseHostPort") === 0 ? undefined : port("databaseHostPort");

    const capacityLimits: string[] = [`${MAX_REPLICAS} (the program's limit)`];
    let capacity = MAX_REPLICAS;
    if (parsedSubnet) {
        const subnetCapacity = nodeSlotCapacity(parsedSubnet);
        if (subnetCapacity < capacity) {
            capacity = subnetCapacity;
            capacityLimits.push(`${subnetCapacity} (addresses .10 and up in ${parsedSubnet.cidr})`);
        }
    }
    if (basePort !== undefined && 65536 - basePort < capacity) {
        capacity = 65536 - basePort;
        capacityLimits.push(`${capacity} (ports ${basePort} to 65535)`);
    }
    const maxUnavailable = integer("maxUnavailable", 1, MAX_REPLICAS, `a whole number from 1 to ${MAX_REPLICAS} (nodes replaced at once)`);
    const replicas = integer("replicas", 1, capacity, `a whole number from 1 to ${capacity}; the most this stack can hold is the smallest of ${capacityLimits.join(", ")}`);

    // The node HTTP ports, basePort to basePort + replicas - 1, which no other published port may take.
    const nodePorts = replicas !== undefined && basePort !== undefined ? `${basePort}-${basePort + replicas - 1}` : undefined;
    const inNodePorts = (candidate: number | undefined) => candidate !== undefined && nodePorts !== undefined && candidate >= basePort! && candidate <= basePort! + replicas! - 1;
    if (inNodePorts(loadBalancerPort)) {
        problems.push(`${describe("loadBalancerPort", loadBalancerPort)}: collides with the node ports ${nodePorts} (basePort ${basePort}, replicas ${replicas}); choose a port outside that range`);
    }
    if (inNodePorts(databaseHostPort)) {
        problems.push(`${describe("databaseHostPort", databaseHostPort)}: collides with the node ports ${nodePorts}; choose a port outside that range`);
    }
    if (databaseHostPort !== undefined && databaseHostPort === loadBalancerPort) {
        problems.push(`${describe("databaseHostPort", databaseHostPort)}: is also the loadBalancerPort; choose another port`);
    }

    const tlsCertificate = valueOf("tlsCertificate");
    const tlsKey = valueOf("tlsKey");
    let tls: TlsMaterial | undefined;
    if (typeof tlsCertificate !== "string" || typeof tlsKey !== "string") {
        problems.push("tlsCertificate and tlsKey must be text (PEM)");
    } else if ((tlsCertificate === "") !== (tlsKey === "")) {
        problems.push(`${describe(tlsCertificate === "" ? "tlsKey" : "tlsCertificate", tlsCertificate || tlsKey)}: set without ${tlsCertificate === "" ? "tlsCertificate" : "tlsKey"}; TLS needs both the certificate and its key (PEM), or neither`);
    } else if (tlsCertificate !== "") {
        tls = { certificatePem: tlsCertificate, keyPem: tlsKey };
    }
    const scheme = tls ? "https" : "http";

    const hostnameValue = valueOf("hostname");
    let hostname = "";
    if (hostnameValue === "") {
        if (bindAddress === "0.0.0.0") {
            problems.push(
                `${describe("bindAddress", bindAddress)} needs hostname: published on every interface, no address can go into the URLs Keycloak issues; set hostname to the URL clients use, e.g. ${scheme}://<this host's address>:${loadBalancerPort ?? 8000}`,
            );
        } else if (bindAddress !== undefined && loadBalancerPort !== undefined) {
            hostname = `${scheme}://${publicHost(bindAddress)}:${loadBalancerPort}`;
        }
    } else {
        const problem = typeof hostnameValue === "string" ? publicUrlProblem(hostnameValue) : "is not a string";
        if (problem) problems.push(`${describe("hostname", hostnameValue)}: ${problem}`);
        else if (tls && !(hostnameValue as string).startsWith("https://")) {
            problems.push(`${describe("hostname", hostnameValue)}: must be an https:// URL while the load balancer serves TLS (tlsCertificate and tlsKey are set)`);
        } else hostname = (hostnameValue as string).replace(/\/$/, "");
    }
    if (tls && hostname !== "") {
        for (const problem of tlsMaterialProblems(tls, new URL(hostname).hostname)) problems.push(`${problem} (values not shown)`);
    }

    const httpRedirectPort = valueOf("httpRedirectPort") === 0 ? undefined : port("httpRedirectPort");
    if (httpRedirectPort !== undefined) {
        if (!tls) problems.push(`${describe("httpRedirectPort", httpRedirectPort)}: needs tlsCertificate and tlsKey (it redirects plain HTTP to the HTTPS URL); set it to 0 without TLS`);
        const taken: [string, number | undefined][] = [
            ["loadBalancerPort", loadBalancerPort],
            ["databaseHostPort", databaseHostPort],
        ];
        for (const [other, value] of taken) if (value === httpRedirectPort) problems.push(`${describe("httpRedirectPort", httpRedirectPort)}: is also the ${other}; choose another port`);
        if (inNodePorts(httpRedirectPort)) {
            problems.push(`${describe("httpRedirectPort", httpRedirectPort)}: collides with the node ports ${nodePorts}; choose a port outside that range`);
        }
    }

    if (adminThroughLoadBalancer && !tls && bindAddress !== undefined && !isLoopback(bindAddress)) {
        problems.push(
            `${describe("adminThroughLoadBalancer", true)}: with bindAddress ${bindAddress} the admin console, the admin API and admin passwords would cross the network in plain HTTP; set tlsCertificate and tlsKey, or keep the admin console on the nodes' loopback ports (false)`,
        );
    }

    const externalDatabaseValue = valueOf("externalDatabase");
    let externalDatabase: { host: string; port: number } | undefined;
    if (externalDatabaseValue !== "") {
        const match = typeof externalDatabaseValue === "string" ? /^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*):(\d{1,5})$/.exec(externalDatabaseValue) : null;
        if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
            problems.push(`${describe("externalDatabase", externalDatabaseValue)}: must be host:port of a PostgreSQL server, e.g. keycloak-db.internal:5432 (a lowercase host name or an IPv4 address)`);
        } else {
            externalDatabase = { host: match[1], port: Number(match[2]) };
            if (databasePassword === "") problems.push(`${describe("externalDatabase", externalDatabaseValue)}: needs databasePassword, the password of databaseUser on that server (set it with config set --secret)`);
            if (databaseHostPort !== undefined) problems.push(`${describe("databaseHostPort", databaseHostPort)}: publishes the cluster's own PostgreSQL, which externalDatabase replaces; set it to 0`);
            if (valueOf("postgresHost") !== "") problems.push(`${describe("postgresHost", valueOf("postgresHost"))}: places the cluster's own PostgreSQL, which externalDatabase replaces; leave it empty`);
        }
    }

    const hostsValue = valueOf("hosts");
    const parsedHosts = hostsValue === "" ? { hosts: [], problems: [] } : parseHosts(hostsValue);
    problems.push(...parsedHosts.problems);
    const hosts = parsedHosts.hosts;
    const homeHost = (key: "postgresHost" | "loadBalancerHost"): string | undefined => {
        const value = valueOf(key);
        if (value === "") return hosts[0]?.name;
        if (hostsValue === "") {
            problems.push(`${describe(key, value)}: places a part of the cluster on one of several hosts, but hosts is not set; set hosts, or leave ${key} empty`);
            return undefined;
        }
        if (parsedHosts.problems.length > 0) return undefined;
        if (!hosts.some((host) => host.name === value)) problems.push(`${describe(key, value)}: names no host; hosts are ${hosts.map((host) => host.name).join(", ")}`);
        return value as string;
    };
    const postgresHost = externalDatabase ? undefined : homeHost("postgresHost");
    const loadBalancerHost = homeHost("loadBalancerHost");
    if (hosts.length > 0 && databaseHostPort !== undefined && !externalDatabase) {
        problems.push(`${describe("databaseHostPort", databaseHostPort)}: not available with hosts; PostgreSQL is published on its host's private address, port ${POSTGRES_CLUSTER_PORT}, for the nodes of every host`);
    }
    if (hosts.length > 0 && replicas !== undefined && basePort !== undefined && loadBalancerPort !== undefined) {
        const uses: HostPortUse[] = [
            { host: loadBalancerHost!, port: loadBalancerPort, what: "the load balancer (loadBalancerPort)" },
            ...(httpRedirectPort !== undefined ? [{ host: loadBalancerHost!, port: httpRedirectPort, what: "the load balancer's redirect (httpRedirectPort)" }] : []),
            ...(postgresHost !== undefined ? [{ host: postgresHost, port: POSTGRES_CLUSTER_PORT, what: "PostgreSQL for the other hosts" }] : []),
        ];
        for (let index = 1; index <= replicas; index++) {
            const host = hosts[nodeHostPosition(index, hosts.length)].name;
            const ports = nodeClusterPorts(index);
            uses.push(
                { host, port: basePort + index - 1, what: `node ${index} HTTP (basePort + ${index - 1})` },
                { host, port: ports.transport, what: `node ${index} JGroups transport` },
                { host, port: ports.failureDetection, what: `node ${index} JGroups failure detection` },
                { host, port: ports.management, what: `node ${index} management` },
            );
        }
        problems.push(...hostPortCollisions(uses));
    }

    if (problems.length > 0) throw new ClusterConfigError(problems);

    return {
        clusterName,
        replicas: replicas!,
        maxUnavailable: maxUnavailable!,
        basePort: basePort!,
        bindAddress: bindAddress!,
        loadBalancerPort: loadBalancerPort!,
        subnet: parsedSubnet!.cidr,
        keycloakImage,
        keycloakBuild,
        updateStrategy,
        postgresImage,
        loadBalancerImage,
        hostname,
        tls,
        httpRedirectPort,
        adminUsername,
        databaseName,
        databaseUser,
        adminThroughLoadBalancer,
        retainDatabaseVolume,
        databaseHostPort,
        keycloakMemoryMb: keycloakMemoryMb!,
        startupTimeoutSeconds: startupTimeoutSeconds!,
        externalDatabase,
        hosts,
        postgresHost,
        loadBalancerHost,
        databasePassword,
        adminPassword,
    };
}

/**
 * The startup-timeout range. Lower bound: a cold start of the official image measured at about 200 s on a
 * loaded 2-core host. Upper bound: the provider's create step runs under the Terraform SDK's default 20-minute
 * timeout, and `customTimeouts` cannot raise it (docker_container has no timeouts block, so the bridge
 * ignores them with a warning), so the wait must end well before that.
 */
export const MIN_STARTUP_TIMEOUT_SECONDS = 240;
export const MAX_STARTUP_TIMEOUT_SECONDS = 1080;

/** The URL with any `user:password@` part masked, so an error never prints credentials. */
export function withoutCredentials(value: string): string {
    return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, "$1***@");
}

/**
 * Why Keycloak would refuse `value` as its `hostname` (or this cluster could not serve it), or undefined.
 * Keycloak needs a full URL while `hostname-admin` is set (which this program sets), tests the scheme
 * case-sensitively, and parses it with java.net.URI, to which a bare `?` or `#` is an empty query or
 * fragment. The load balancer serves Keycloak at the root, so a path cannot be honoured either.
 */
export function publicUrlProblem(value: string): string | undefined {
    const allowed = "must be a URL such as https://sso.example.com or http://sso.example.com:8000 (lowercase http:// or https://, a host, an optional port, nothing after it)";
    if (!/^https?:\/\//.test(value)) {
        if (/^https?:\/\//i.test(value)) return `has an uppercase scheme, which Keycloak does not recognise; ${allowed}`;
        if (/^[a-z0-9.-]+(:\d+)?$/i.test(value)) return `is a bare hostname; ${allowed}`;
        return allowed;
    }
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return allowed;
    }
    if (url.username !== "" || url.password !== "") return `contains credentials (user:password@), which would end up in every token; ${allowed}`;
    if (value.includes("?") || value.includes("#")) return `has a query or fragment (even an empty one), which Keycloak refuses; ${allowed}`;
    if (url.pathname !== "/") return `has a path (${url.pathname}), but the load balancer serves Keycloak at the root; ${allowed}`;
    if (url.hostname === "") return allowed;
    return undefined;
}

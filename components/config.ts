/**
 * The public interface of the program: every setting, its default, and the checks that run before any
 * resource is declared. Pure: no Pulumi calls, so it is tested directly.
 */
import { MAX_REPLICAS, nodeSlotCapacity, parseIPv4, parseSubnet, publicHost } from "./addressPlan";

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
    /** Host port of node 1's HTTP listener; node i gets `basePort + i - 1`. Default `8080`. */
    basePort?: number;
    /** Host address every published port binds to. Default `127.0.0.1` (nothing reachable from other machines). */
    bindAddress?: string;
    /** Host port of the load balancer. Default `8000`. */
    loadBalancerPort?: number;
    /** IPv4 subnet of the private cluster network, prefix /16 to /28; nodes take addresses from `.10` up. Default `10.231.0.0/24`. */
    subnet?: string;
    /** Keycloak image. Default `quay.io/keycloak/keycloak:26.7.3`. */
    keycloakImage?: string;
    /** PostgreSQL image (must behave like the official image). Default `postgres:17`. */
    postgresImage?: string;
    /** HAProxy image (must behave like the official image). Default `haproxy:3.0`. */
    loadBalancerImage?: string;
    /** Public URL (or bare hostname) of Keycloak, used for token issuers and redirects. Default `""`: `http://localhost:<loadBalancerPort>` (the bind address instead of `localhost` when it is a specific non-loopback address). */
    hostname?: string;
    /** Username of the bootstrap (temporary) admin in the master realm. Default `admin`. */
    adminUsername?: string;
    /** PostgreSQL database name. Default `keycloak`. */
    databaseName?: string;
    /** PostgreSQL user Keycloak connects as. Default `keycloak`. */
    databaseUser?: string;
    /** Route the admin console and admin REST API (`/admin/`) through the load balancer. Default `false`: the admin console is reached on a node's own port. */
    adminThroughLoadBalancer?: boolean;
    /** Keep the PostgreSQL data volume when the stack is destroyed. Default `true`. */
    retainDatabaseVolume?: boolean;
    /** Publish PostgreSQL on this host port (on `bindAddress`). Default `0`: not published. */
    databaseHostPort?: number;
    /** Memory limit of each Keycloak container in MB (768 to 65536); Keycloak sizes its heap at 70% of it. Default `2048`. */
    keycloakMemoryMb?: number;
    /** How long `pulumi up` waits for each container to become healthy, in seconds (30 to 3600). Default `300`. */
    startupTimeoutSeconds?: number;
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
    basePort: number;
    bindAddress: string;
    loadBalancerPort: number;
    subnet: string;
    keycloakImage: string;
    postgresImage: string;
    loadBalancerImage: string;
    hostname: string;
    adminUsername: string;
    databaseName: string;
    databaseUser: string;
    adminThroughLoadBalancer: boolean;
    retainDatabaseVolume: boolean;
    databaseHostPort: number | undefined;
    keycloakMemoryMb: number;
    startupTimeoutSeconds: number;
    /** "" means: generate one. */
    databasePassword: string;
    /** "" means: generate one. */
    adminPassword: string;
}

type SettingKey = keyof KeycloakClusterArgs;
type SettingType = "integer" | "string" | "boolean";

interface SettingSpec {
    type: SettingType;
    /** Pulumi.yaml declares the same default; "" and 0 stand for "derived" and "not set" where a setting has no value of its own. */
    default: string | number | boolean;
    description: string;
    /** Set with `pulumi config set --secret`; never shown in errors. */
    secret?: true;
}

/** Every stack-config key, in the order the README and Pulumi.yaml list them. */
export const SETTINGS: Record<SettingKey, SettingSpec> = {
    replicas: { type: "integer", default: 2, description: "Number of Keycloak nodes (1 to 32, fewer if the subnet or port range is smaller)." },
    basePort: { type: "integer", default: 8080, description: "Host port of node 1; node i listens on basePort + i - 1." },
    bindAddress: { type: "string", default: "127.0.0.1", description: "Host address every published port binds to." },
    loadBalancerPort: { type: "integer", default: 8000, description: "Host port of the HAProxy load balancer." },
    subnet: { type: "string", default: "10.231.0.0/24", description: "IPv4 subnet (/16 to /28) of the private cluster network; nodes take addresses from .10 up." },
    keycloakImage: { type: "string", default: `quay.io/keycloak/keycloak:${KEYCLOAK_VERSION}`, description: "Keycloak image." },
    postgresImage: { type: "string", default: "postgres:17", description: "PostgreSQL image (official-image compatible)." },
    loadBalancerImage: { type: "string", default: "haproxy:3.0", description: "HAProxy image (official-image compatible)." },
    hostname: { type: "string", default: "", description: "Public URL or hostname of Keycloak; empty means http://localhost:<loadBalancerPort>." },
    adminUsername: { type: "string", default: "admin", description: "Bootstrap admin username (master realm)." },
    databaseName: { type: "string", default: "keycloak", description: "PostgreSQL database name." },
    databaseUser: { type: "string", default: "keycloak", description: "PostgreSQL user for Keycloak." },
    adminThroughLoadBalancer: { type: "boolean", default: false, description: "Expose the admin console (/admin/) through the load balancer." },
    retainDatabaseVolume: { type: "boolean", default: true, description: "Keep the PostgreSQL data volume on pulumi destroy." },
    databaseHostPort: { type: "integer", default: 0, description: "Publish PostgreSQL on this host port; 0 means not published." },
    keycloakMemoryMb: { type: "integer", default: 2048, description: "Memory limit of each Keycloak container in MB (768 to 65536); the heap is 70% of it." },
    startupTimeoutSeconds: { type: "integer", default: 300, description: "Seconds pulumi up waits for each container to be healthy (30 to 3600)." },
    clusterName: { type: "string", default: "keycloak", description: "Prefix of every Docker object name." },
    databasePassword: { type: "string", default: "", secret: true, description: "PostgreSQL password; empty means generated. Set it to reuse a retained data volume." },
    adminPassword: { type: "string", default: "", secret: true, description: "Bootstrap admin password; empty means generated." },
};

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

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
        const spec = (SETTINGS as Record<string, SettingSpec | undefined>)[key];
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
        SETTINGS[key].secret ? `${key} (secret, ${typeof value === "string" ? value.length : 0} characters, not shown)` : `${key} = ${JSON.stringify(value)}`;
    const given = args as Record<string, unknown>;

    for (const key of Object.keys(given)) {
        if (!(key in SETTINGS)) problems.push(`${key} is not a setting of this program; valid keys: ${SETTING_KEYS.join(", ")}`);
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

    const imagePattern = /^[a-z0-9][a-z0-9._\-/:@]*$/i;
    const imageAllowed = "a non-empty image reference without spaces, e.g. name:tag";
    const identifierPattern = /^[a-z_][a-z0-9_]{0,62}$/;
    const identifierAllowed = "a lowercase PostgreSQL identifier: a letter or _, then letters, digits or _, at most 63 characters";

    const clusterName = text("clusterName", /^[a-z][a-z0-9-]{0,38}[a-z0-9]$|^[a-z]$/, "1 to 40 lowercase letters, digits or '-', starting with a letter and not ending with '-'");
    const keycloakImage = text("keycloakImage", imagePattern, imageAllowed);
    const postgresImage = text("postgresImage", imagePattern, imageAllowed);
    const loadBalancerImage = text("loadBalancerImage", imagePattern, imageAllowed);
    const adminUsername = text("adminUsername", /^[A-Za-z0-9][A-Za-z0-9._@-]{0,254}$/, "a non-empty username of letters, digits, '.', '_', '@' or '-'");
    const databaseName = text("databaseName", identifierPattern, identifierAllowed);
    const databaseUser = text("databaseUser", identifierPattern, identifierAllowed);
    const adminThroughLoadBalancer = boolean("adminThroughLoadBalancer");
    const retainDatabaseVolume = boolean("retainDatabaseVolume");
    const password = (key: SettingKey): string => {
        const value = valueOf(key);
        if (value === "") return "";
        return text(key, /^[\x21-\x7e]{16,128}$/, "empty (generate one) or 16 to 128 printable ASCII characters without spaces");
    };
    const databasePassword = password("databasePassword");
    const adminPassword = password("adminPassword");
    const keycloakMemoryMb = integer("keycloakMemoryMb", 768, 65536, "a whole number of MB from 768 to 65536") ?? 2048;
    const startupTimeoutSeconds = integer("startupTimeoutSeconds", 30, 3600, "a whole number of seconds from 30 to 3600") ?? 300;

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
    const replicas = integer("replicas", 1, capacity, `a whole number from 1 to ${capacity}; the most this stack can hold is the smallest of ${capacityLimits.join(", ")}`);

    if (replicas !== undefined && basePort !== undefined) {
        const lastNodePort = basePort + replicas - 1;
        const clashes = (candidate: number | undefined) => candidate !== undefined && candidate >= basePort && candidate <= lastNodePort;
        if (clashes(loadBalancerPort)) {
            problems.push(`${describe("loadBalancerPort", loadBalancerPort)}: collides with the node ports ${basePort}-${lastNodePort} (basePort ${basePort}, replicas ${replicas}); choose a port outside that range`);
        }
        if (clashes(databaseHostPort)) {
            problems.push(`${describe("databaseHostPort", databaseHostPort)}: collides with the node ports ${basePort}-${lastNodePort}; choose a port outside that range`);
        }
    }
    if (databaseHostPort !== undefined && databaseHostPort === loadBalancerPort) {
        problems.push(`${describe("databaseHostPort", databaseHostPort)}: is also the loadBalancerPort; choose another port`);
    }

    const hostnameValue = valueOf("hostname");
    let hostname = "";
    if (hostnameValue === "") {
        if (bindAddress !== undefined && loadBalancerPort !== undefined) hostname = `http://${publicHost(bindAddress)}:${loadBalancerPort}`;
    } else if (typeof hostnameValue !== "string" || !isHostnameOrUrl(hostnameValue)) {
        problems.push(`${describe("hostname", hostnameValue)}: must be a hostname (sso.example.com) or an http(s) URL without query or fragment (https://sso.example.com)`);
    } else {
        hostname = hostnameValue;
    }

    if (problems.length > 0) throw new ClusterConfigError(problems);

    return {
        clusterName,
        replicas: replicas!,
        basePort: basePort!,
        bindAddress: bindAddress!,
        loadBalancerPort: loadBalancerPort!,
        subnet: parsedSubnet!.cidr,
        keycloakImage,
        postgresImage,
        loadBalancerImage,
        hostname,
        adminUsername,
        databaseName,
        databaseUser,
        adminThroughLoadBalancer,
        retainDatabaseVolume,
        databaseHostPort,
        keycloakMemoryMb,
        startupTimeoutSeconds,
        databasePassword,
        adminPassword,
    };
}

function isHostnameOrUrl(value: string): boolean {
    const hostnamePattern = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
    if (hostnamePattern.test(value)) return true;
    if (!/^https?:\/\//i.test(value)) return false;
    try {
        const url = new URL(value);
        return url.hostname !== "" && url.search === "" && url.hash === "" && url.username === "" && url.password === "";
    } catch {
        return false;
    }
}

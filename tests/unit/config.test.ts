import * as path from "node:path";
import {
    ClusterConfigError,
    CONFIG_NAMESPACE,
    KeycloakClusterArgs,
    KEYCLOAK_VERSION,
    plainTextSecretWarnings,
    readStackConfig,
    resolveSettings,
    SETTINGS,
    SETTING_KEYS,
} from "../../components/config";
import { loadProject, loadStackFile, mergeStackConfig, projectProblems } from "../support/pulumiConfig";

function problemsOf(args: KeycloakClusterArgs): string[] {
    try {
        resolveSettings(args);
    } catch (error) {
        expect(error).toBeInstanceOf(ClusterConfigError);
        return (error as ClusterConfigError).problems;
    }
    throw new Error("expected resolveSettings to reject the settings");
}

describe("resolveSettings defaults", () => {
    test("an empty config gives the documented defaults", () => {
        expect(resolveSettings({})).toEqual({
            clusterName: "keycloak",
            replicas: 2,
            maxUnavailable: 1,
            basePort: 8080,
            bindAddress: "127.0.0.1",
            loadBalancerPort: 8000,
            subnet: "10.231.0.0/24",
            keycloakImage: `quay.io/keycloak/keycloak:${KEYCLOAK_VERSION}`,
            keycloakBuild: "optimize",
            updateStrategy: "auto",
            hosts: [],
            postgresHost: undefined,
            loadBalancerHost: undefined,
            postgresImage: "postgres:17",
            loadBalancerImage: "haproxy:3.0",
            hostname: "http://localhost:8000",
            adminUsername: "admin",
            databaseName: "keycloak",
            databaseUser: "keycloak",
            adminThroughLoadBalancer: false,
            retainDatabaseVolume: true,
            databaseHostPort: undefined,
            keycloakMemoryMb: 2048,
            startupTimeoutSeconds: 600,
            databasePassword: "",
            adminPassword: "",
        });
    });

    test("hostname defaults to the bind address when it is a specific address; only 127.0.0.1 is localhost", () => {
        expect(resolveSettings({ bindAddress: "192.0.2.10", loadBalancerPort: 9000 }).hostname).toBe("http://192.0.2.10:9000");
        // localhost resolves to 127.0.0.1, where nothing listens when another loopback address is bound.
        expect(resolveSettings({ bindAddress: "127.0.0.2" }).hostname).toBe("http://127.0.0.2:8000");
        expect(resolveSettings({ bindAddress: "127.0.0.1" }).hostname).toBe("http://localhost:8000");
    });

    test("an explicit hostname URL is kept, without a trailing slash; 0.0.0.0 works with one", () => {
        expect(resolveSettings({ hostname: "https://sso.example.com" }).hostname).toBe("https://sso.example.com");
        expect(resolveSettings({ hostname: "https://sso.example.com/" }).hostname).toBe("https://sso.example.com");
        expect(resolveSettings({ hostname: "http://sso.example.com:8000" }).hostname).toBe("http://sso.example.com:8000");
        expect(resolveSettings({ bindAddress: "0.0.0.0", hostname: "https://sso.example.com" }).hostname).toBe("https://sso.example.com");
    });

    test("image references Docker accepts are accepted", () => {
        for (const image of ["postgres:17", "quay.io/keycloak/keycloak:26.7.3", "localhost:5000/team/keycloak:26.7.3-custom", "haproxy@sha256:" + "a".repeat(64), "Registry.example.com/keycloak"]) {
            expect(resolveSettings({ keycloakImage: image }).keycloakImage).toBe(image);
        }
    });
});

describe("bad input: one error naming the setting, the value and what is allowed", () => {
    const cases: [string, KeycloakClusterArgs, RegExp][] = [
        ["keycloakBuild unknown", { keycloakBuild: "fast" }, /^keycloakBuild = "fast": must be optimize \(build an optimized image\), prebuilt \(keycloakImage already is one\) or auto/],
        ["updateStrategy unknown", { updateStrategy: "blue-green" }, /^updateStrategy = "blue-green": must be auto \(patch versions roll, other image changes stop every old node first\), recreate .* or rolling/],
        ["maxUnavailable zero", { maxUnavailable: 0 }, /^maxUnavailable = 0: must be a whole number from 1 to 32 \(nodes replaced at once\)/],
        ["replicas zero", { replicas: 0 }, /^replicas = 0: must be a whole number from 1 to 32/],
        ["replicas negative", { replicas: -3 }, /^replicas = -3: must be a whole number from 1 to 32/],
        ["replicas fractional", { replicas: 2.5 }, /^replicas = 2.5: must be a whole number/],
        ["replicas not a number", { replicas: "three" as unknown as number }, /^replicas = "three": must be a whole number/],
        ["replicas over the program limit", { replicas: 33 }, /^replicas = 33: must be a whole number from 1 to 32/],
        ["replicas over what the subnet holds", { subnet: "10.9.0.0/28", replicas: 6 }, /^replicas = 6: must be a whole number from 1 to 5.*addresses \.10 and up in 10\.9\.0\.0\/28/],
        ["replicas over what the port range holds", { basePort: 65534, replicas: 3 }, /^replicas = 3: must be a whole number from 1 to 2.*ports 65534 to 65535/],
        ["basePort zero", { basePort: 0 }, /^basePort = 0: must be a whole number from 1 to 65535/],
        ["basePort too big", { basePort: 70000 }, /^basePort = 70000: must be a whole number from 1 to 65535/],
        ["loadBalancerPort too big", { loadBalancerPort: 65536 }, /^loadBalancerPort = 65536: must be a whole number from 1 to 65535/],
        ["loadBalancerPort inside node ports", { basePort: 8080, replicas: 3, loadBalancerPort: 8082 }, /^loadBalancerPort = 8082: collides with the node ports 8080-8082/],
        ["databaseHostPort inside node ports", { databaseHostPort: 8081 }, /^databaseHostPort = 8081: collides with the node ports 8080-8081/],
        ["databaseHostPort equal to the load balancer port", { databaseHostPort: 8000 }, /^databaseHostPort = 8000: is also the loadBalancerPort/],
        ["malformed subnet", { subnet: "10.0.0.0" }, /^subnet = "10.0.0.0": must be an IPv4 network in CIDR form/],
        ["subnet with host bits", { subnet: "10.0.0.5/24" }, /^subnet = "10.0.0.5\/24": must be an IPv4 network/],
        ["subnet too small", { subnet: "10.0.0.0/29" }, /^subnet = "10.0.0.0\/29": .*prefix from \/16 to \/28/],
        ["subnet octet out of range", { subnet: "10.300.0.0/24" }, /^subnet = "10.300.0.0\/24"/],
        ["malformed bindAddress", { bindAddress: "localhost" }, /^bindAddress = "localhost": must be an IPv4 address/],
        ["bindAddress out of range", { bindAddress: "127.0.0.256" }, /^bindAddress = "127.0.0.256": must be an IPv4 address/],
        ["empty keycloakImage", { keycloakImage: "" }, /^keycloakImage = "": is empty; must be a Docker image reference such as quay.io\/keycloak\/keycloak:/],
        ["empty postgresImage", { postgresImage: "" }, /^postgresImage = "": is empty; must be a Docker image reference such as postgres:17/],
        ["loadBalancerImage with a space", { loadBalancerImage: "haproxy 3" }, /^loadBalancerImage = "haproxy 3": is not a valid Docker image reference/],
        ["image with an empty tag", { postgresImage: "postgres:" }, /^postgresImage = "postgres:": is not a valid Docker image reference/],
        ["image with uppercase in its path", { keycloakImage: "Quay.io/Keycloak/Keycloak:26.7.3" }, /^keycloakImage = "Quay.io\/Keycloak\/Keycloak:26.7.3": has uppercase letters in its repository name/],
        ["image with an empty path component", { keycloakImage: "a//b" }, /^keycloakImage = "a\/\/b": is not a valid Docker image reference/],
        ["hostname with a query", { hostname: "https://sso.example.com/?x=1" }, /^hostname = "https:\/\/sso.example.com\/\?x=1": has a query or fragment/],
        ["hostname with an empty query", { hostname: "https://sso.example.com/?" }, /^hostname = "https:\/\/sso.example.com\/\?": has a query or fragment \(even an empty one\)/],
        ["hostname with an empty fragment", { hostname: "https://sso.example.com/#" }, /^hostname = "https:\/\/sso.example.com\/#": has a query or fragment/],
        ["hostname with an uppercase scheme", { hostname: "HTTPS://SSO.EXAMPLE.COM" }, /^hostname = "HTTPS:\/\/SSO.EXAMPLE.COM": has an uppercase scheme, which Keycloak does not recognise/],
        ["bare hostname", { hostname: "sso.example.com" }, /^hostname = "sso.example.com": is a bare hostname; must be a URL such as https:\/\/sso.example.com/],
        ["hostname with a path", { hostname: "https://sso.example.com/auth" }, /^hostname = "https:\/\/sso.example.com\/auth": has a path \(\/auth\), but the load balancer serves Keycloak at the root/],
        ["hostname of another scheme", { hostname: "ftp://sso.example.com" }, /^hostname = "ftp:\/\/sso.example.com": must be a URL such as/],
        ["bindAddress 0.0.0.0 without hostname", { bindAddress: "0.0.0.0" }, /^bindAddress = "0.0.0.0" needs hostname: published on every interface/],
        ["startupTimeoutSeconds above what the provider's create timeout allows", { startupTimeoutSeconds: 1200 }, /^startupTimeoutSeconds = 1200: must be a whole number of seconds from 240 .* to 1080/],
        ["databasePassword with $, without showing it", { databasePassword: "abcdefgh$ijklmnop" }, /^databasePassword \(secret, 17 characters, not shown\): must be empty \(generate one\) or 16 to 128 printable ASCII characters without spaces or '\$' \(Keycloak expands '\$'/],
        ["adminPassword with ${...}, without showing it", { adminPassword: "abc${env:HOME}defghijk" }, /^adminPassword \(secret, 22 characters, not shown\): must be empty/],
        ["a key named like an Object.prototype member", { constructor: 1 } as unknown as KeycloakClusterArgs, /^constructor is not a setting of this program/],
        ["empty adminUsername", { adminUsername: "" }, /^adminUsername = "": must be a non-empty username/],
        ["databaseName not an identifier", { databaseName: "key-cloak" }, /^databaseName = "key-cloak": must be a lowercase PostgreSQL identifier/],
        ["databaseUser uppercase", { databaseUser: "Keycloak" }, /^databaseUser = "Keycloak": must be a lowercase PostgreSQL identifier/],
        ["clusterName with uppercase", { clusterName: "Prod" }, /^clusterName = "Prod": must be 1 to 40 lowercase letters/],
        ["adminThroughLoadBalancer not a boolean", { adminThroughLoadBalancer: "yes" as unknown as boolean }, /^adminThroughLoadBalancer = "yes": must be true or false/],
        ["keycloakMemoryMb too small for Keycloak", { keycloakMemoryMb: 512 }, /^keycloakMemoryMb = 512: must be a whole number of MB from 768 to 65536/],
        ["startupTimeoutSeconds too short for a cold start", { startupTimeoutSeconds: 180 }, /^startupTimeoutSeconds = 180: must be a whole number of seconds from 240 \(a measured cold start/],
        ["databasePassword too short, without showing it", { databasePassword: "hunter2" }, /^databasePassword \(secret, 7 characters, not shown\): must be empty \(generate one\) or 16 to 128 printable ASCII/],
        ["adminPassword with a space, without showing it", { adminPassword: "correct horse battery staple" }, /^adminPassword \(secret, 28 characters, not shown\): must be empty/],
        ["an unknown argument", { replica: 3 } as KeycloakClusterArgs, /^replica is not a setting of this program; valid keys: replicas, maxUnavailable, basePort/],
    ];

    test.each(cases)("%s", (_name, args, expected) => {
        const problems = problemsOf(args);
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(expected);
    });

    test("a rejected password never appears in the error", () => {
        expect(() => resolveSettings({ databasePassword: "hunter2", adminPassword: "short pw" })).toThrow(ClusterConfigError);
        const message = problemsOf({ databasePassword: "hunter2", adminPassword: "short pw" }).join("\n");
        expect(message).not.toContain("hunter2");
        expect(message).not.toContain("short pw");
    });

    test("credentials in a hostname URL never appear in the error", () => {
        const message = problemsOf({ hostname: "https://admin:hunter2-secret@sso.example.com" }).join("\n");
        expect(message).toMatch(/contains credentials/);
        expect(message).toContain("https://***@sso.example.com");
        expect(message).not.toContain("hunter2-secret");
        expect(message).not.toContain("admin:");
    });

    test("given passwords are kept as they are", () => {
        const settings = resolveSettings({ databasePassword: "a-database-password-1", adminPassword: "An-Admin-Password-22" });
        expect([settings.databasePassword, settings.adminPassword]).toEqual(["a-database-password-1", "An-Admin-Password-22"]);
    });

    test("several bad settings are reported together in one error", () => {
        const problems = problemsOf({ replicas: 0, basePort: 0, subnet: "nope" });
        expect(problems.map((problem) => problem.split(" ")[0])).toEqual(["subnet", "basePort", "replicas"]);
        expect(() => resolveSettings({ replicas: 0, basePort: 0 })).toThrow(/^Invalid keycloak-cluster configuration:\n {2}- basePort = 0/);
    });

    test("the largest replica count that fits is accepted", () => {
        expect(resolveSettings({ subnet: "10.9.0.0/28", replicas: 5 }).replicas).toBe(5);
        expect(resolveSettings({ replicas: 32 }).replicas).toBe(32);
    });
});

describe("readStackConfig", () => {
    test("converts namespaced string values to typed arguments and ignores other namespaces", () => {
        expect(
            readStackConfig({
                "keycloak-cluster:replicas": "3",
                "keycloak-cluster:adminThroughLoadBalancer": "true",
                "keycloak-cluster:bindAddress": "0.0.0.0",
                "docker:host": "unix:///var/run/docker.sock",
            }),
        ).toEqual({ replicas: 3, adminThroughLoadBalancer: true, bindAddress: "0.0.0.0" });
    });

    test("keys named like Object.prototype members are unknown keys, not silently ignored", () => {
        for (const key of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
            expect(() => readStackConfig({ [`keycloak-cluster:${key}`]: "1" })).toThrow(new RegExp(`keycloak-cluster:${key.replace(/_/g, "_")} is not a setting of this program`));
        }
    });

    test("a typo in a key is an error that lists the valid keys", () => {
        expect(() => readStackConfig({ "keycloak-cluster:replica": "3" })).toThrow(
            new RegExp(`keycloak-cluster:replica is not a setting of this program; valid keys: ${SETTING_KEYS.join(", ")}`),
        );
    });

    test("values that do not parse reach validation as given, so the error shows them", () => {
        const args = readStackConfig({ "keycloak-cluster:replicas": "two", "keycloak-cluster:retainDatabaseVolume": "yes" });
        expect(problemsOf(args)).toEqual([
            'retainDatabaseVolume = "yes": must be true or false',
            expect.stringMatching(/^replicas = "two": must be a whole number/),
        ]);
    });
});

describe("Pulumi.yaml under the Pulumi CLI's config rules", () => {
    const project = loadProject();
    const dev = loadStackFile(path.join(__dirname, "../../Pulumi.dev.yaml"));

    test("declares exactly the program's settings with their types and defaults", () => {
        expect(project.name).toBe(CONFIG_NAMESPACE);
        expect(Object.keys(project.config!)).toEqual(SETTING_KEYS);
        for (const key of SETTING_KEYS) {
            // A json setting stays untyped: Pulumi.yaml has no object type.
            const type = SETTINGS[key].type === "json" ? undefined : SETTINGS[key].type;
            expect({ key, type: project.config![key].type, default: project.config![key].default }).toEqual({ key, type, default: SETTINGS[key].default });
            expect(project.config![key].description!.length).toBeGreaterThan(10);
        }
        expect(projectProblems(project)).toEqual([]);
    });

    test("no key is `secret: true`: with a default the CLI refuses it as unencrypted, without one it is required", () => {
        for (const key of SETTING_KEYS) expect({ key, secret: project.config![key].secret }).toEqual({ key, secret: undefined });
        // The two ways it fails under the real CLI (pulumi/pulumi#21865 and mergeConfig's missing-key check):
        const withDefault = { name: "p", config: { adminPassword: { type: "string", default: "", secret: true } } };
        expect(() => mergeStackConfig(withDefault, "dev", {})).toThrow("validating stack config: Stack 'dev' with configuration key 'adminPassword' must be encrypted as it's secret");
        const withoutDefault = { name: "p", config: { adminPassword: { type: "string", secret: true } } };
        expect(() => mergeStackConfig(withoutDefault, "dev", {})).toThrow("validating stack config: Stack 'dev' is missing configuration value 'adminPassword'");
    });

    test("a fresh dev stack passes the CLI's checks, and the program accepts what the CLI hands it", () => {
        const merged = mergeStackConfig(project, "dev", dev);
        expect(Object.keys(merged.config).sort()).toEqual(SETTING_KEYS.map((key) => `${CONFIG_NAMESPACE}:${key}`).sort());
        expect(merged.secretKeys).toEqual([]);
        const settings = resolveSettings(readStackConfig(merged.config));
        expect(settings.replicas).toBe(2);
        expect([settings.databasePassword, settings.adminPassword]).toEqual(["", ""]);
    });

    test("passwords set with --secret pass; values of the wrong type are refused by the CLI with its own message", () => {
        const withSecrets = mergeStackConfig(project, "dev", { ...dev, adminPassword: { value: "An-Admin-Password-22", secure: true } });
        expect(withSecrets.secretKeys).toEqual([`${CONFIG_NAMESPACE}:adminPassword`]);
        expect(() => mergeStackConfig(project, "dev", { replicas: { value: "3.5", secure: false } })).toThrow("Stack 'dev' with configuration key 'replicas' must be of type 'integer'");
        expect(() => mergeStackConfig(project, "dev", { retainDatabaseVolume: { value: "yes", secure: false } })).toThrow("key 'retainDatabaseVolume' must be of type 'boolean'");
    });

    test("a password stored in plain text is a warning naming the key and the fix, never the value", () => {
        const config = { "keycloak-cluster:adminPassword": "An-Admin-Password-22", "keycloak-cluster:databasePassword": "" };
        const warnings = plainTextSecretWarnings(config, () => false);
        expect(warnings).toEqual([
            "keycloak-cluster:adminPassword is stored in plain text in the stack config; set it again with `pulumi config set --secret adminPassword <value>` so the stack file holds it encrypted",
        ]);
        expect(plainTextSecretWarnings(config, (key) => key === "keycloak-cluster:adminPassword")).toEqual([]);
    });
});

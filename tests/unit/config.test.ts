import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { ClusterConfigError, KeycloakClusterArgs, KEYCLOAK_VERSION, readStackConfig, resolveSettings, SETTINGS, SETTING_KEYS } from "../../components/config";

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
            basePort: 8080,
            bindAddress: "127.0.0.1",
            loadBalancerPort: 8000,
            subnet: "10.231.0.0/24",
            keycloakImage: `quay.io/keycloak/keycloak:${KEYCLOAK_VERSION}`,
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
            startupTimeoutSeconds: 300,
            databasePassword: "",
            adminPassword: "",
        });
    });

    test("hostname defaults to the bind address when it is a specific host address", () => {
        expect(resolveSettings({ bindAddress: "192.0.2.10", loadBalancerPort: 9000 }).hostname).toBe("http://192.0.2.10:9000");
        expect(resolveSettings({ bindAddress: "0.0.0.0" }).hostname).toBe("http://localhost:8000");
    });

    test("an explicit hostname is kept as given", () => {
        expect(resolveSettings({ hostname: "https://sso.example.com" }).hostname).toBe("https://sso.example.com");
        expect(resolveSettings({ hostname: "sso.example.com" }).hostname).toBe("sso.example.com");
    });
});

describe("bad input: one error naming the setting, the value and what is allowed", () => {
    const cases: [string, KeycloakClusterArgs, RegExp][] = [
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
        ["empty keycloakImage", { keycloakImage: "" }, /^keycloakImage = "": must be a non-empty image reference/],
        ["empty postgresImage", { postgresImage: "" }, /^postgresImage = "": must be a non-empty image reference/],
        ["loadBalancerImage with a space", { loadBalancerImage: "haproxy 3" }, /^loadBalancerImage = "haproxy 3": must be a non-empty image reference/],
        ["hostname with a query", { hostname: "https://sso.example.com/?x=1" }, /^hostname = "https:\/\/sso.example.com\/\?x=1": must be a hostname/],
        ["hostname of another scheme", { hostname: "ftp://sso.example.com" }, /^hostname = "ftp:\/\/sso.example.com": must be a hostname/],
        ["empty adminUsername", { adminUsername: "" }, /^adminUsername = "": must be a non-empty username/],
        ["databaseName not an identifier", { databaseName: "key-cloak" }, /^databaseName = "key-cloak": must be a lowercase PostgreSQL identifier/],
        ["databaseUser uppercase", { databaseUser: "Keycloak" }, /^databaseUser = "Keycloak": must be a lowercase PostgreSQL identifier/],
        ["clusterName with uppercase", { clusterName: "Prod" }, /^clusterName = "Prod": must be 1 to 40 lowercase letters/],
        ["adminThroughLoadBalancer not a boolean", { adminThroughLoadBalancer: "yes" as unknown as boolean }, /^adminThroughLoadBalancer = "yes": must be true or false/],
        ["keycloakMemoryMb too small for Keycloak", { keycloakMemoryMb: 512 }, /^keycloakMemoryMb = 512: must be a whole number of MB from 768 to 65536/],
        ["startupTimeoutSeconds too short", { startupTimeoutSeconds: 5 }, /^startupTimeoutSeconds = 5: must be a whole number of seconds from 30 to 3600/],
        ["databasePassword too short, without showing it", { databasePassword: "hunter2" }, /^databasePassword \(secret, 7 characters, not shown\): must be empty \(generate one\) or 16 to 128 printable ASCII/],
        ["adminPassword with a space, without showing it", { adminPassword: "correct horse battery staple" }, /^adminPassword \(secret, 28 characters, not shown\): must be empty/],
        ["an unknown argument", { replica: 3 } as KeycloakClusterArgs, /^replica is not a setting of this program; valid keys: replicas, basePort/],
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

describe("Pulumi.yaml", () => {
    const project = yaml.load(fs.readFileSync(path.join(__dirname, "../../Pulumi.yaml"), "utf8")) as {
        name: string;
        config: Record<string, { type: string; default: unknown; description: string; secret?: boolean }>;
    };

    test("declares exactly the program's settings with their types and defaults", () => {
        expect(project.name).toBe("keycloak-cluster");
        expect(Object.keys(project.config)).toEqual(SETTING_KEYS);
        for (const key of SETTING_KEYS) {
            expect({ key, type: project.config[key].type, default: project.config[key].default, secret: project.config[key].secret ?? false }).toEqual({
                key,
                type: SETTINGS[key].type,
                default: SETTINGS[key].default,
                secret: SETTINGS[key].secret ?? false,
            });
            expect(project.config[key].description.length).toBeGreaterThan(10);
        }
    });

    test("the dev stack is valid and has two nodes", () => {
        const dev = yaml.load(fs.readFileSync(path.join(__dirname, "../../Pulumi.dev.yaml"), "utf8")) as { config: Record<string, string> };
        const settings = resolveSettings(readStackConfig(dev.config));
        expect(settings.replicas).toBe(2);
    });
});

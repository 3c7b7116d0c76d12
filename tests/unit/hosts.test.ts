import { resolveSettings } from "../../components/config";
import { nodeClusterPorts, parseHosts } from "../../components/hosts";
import { loadBalancerConfig } from "../../components/loadBalancer";
import { planCluster } from "../../components/addressPlan";
import { Declaration, DeclaredResource, ofType, TYPES } from "../support/declaration";
import { declareStack } from "../support/program";

const HOSTS = [
    { name: "a", engine: "unix:///run/kc-mh-h1/docker.sock", address: "192.168.77.1" },
    { name: "b", engine: "ssh://admin@192.168.77.2", address: "192.168.77.2" },
];
const hosts = JSON.stringify(HOSTS);

type Container = DeclaredResource & { inputs: { name: string; envs: string[]; ports: { internal: number; external: number; ip: string }[]; uploads?: { file: string; content: string }[] } };
/** The problems resolveSettings names for these arguments (none: []). */
function problemsOf(args: Record<string, unknown>): string[] {
    try {
        resolveSettings(args);
        return [];
    } catch (error) {
        return (error as { problems: string[] }).problems;
    }
}

const container = (declaration: Declaration, name: string) => declaration.resources.find((resource) => resource.name === name) as Container;
const envOf = (resource: Container) => Object.fromEntries(resource.inputs.envs.map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]));

describe("parseHosts", () => {
    test("a JSON list, or the same list as structured config, of unique names and private addresses", () => {
        expect(parseHosts(hosts)).toEqual({ hosts: HOSTS, problems: [] });
        expect(parseHosts(HOSTS)).toEqual({ hosts: HOSTS, problems: [] });
        expect(parseHosts("")).toEqual({ hosts: [], problems: [] });
    });

    test("each bad entry is named with what is allowed, and never shows key material", () => {
        const problems = parseHosts([
            { name: "A", engine: "unix:///x.sock", address: "10.0.0.1" },
            { name: "b", engine: "http://x", address: "10.0.0.1" },
            { name: "b", engine: "tcp://10.0.0.3:2376", address: "127.0.0.1" },
            { name: "c", engine: "ssh://me@c", address: "10.0.0.4", keyPem: "-----BEGIN PRIVATE KEY-----secret", color: "red" },
        ]).problems;
        expect(problems).toEqual([
            expect.stringMatching(/^hosts\[0\]\.name = "A": must be 1 to 20 lowercase letters/),
            expect.stringMatching(/^hosts\[1\]\.engine = "http:\/\/x": must be unix:\/\/\/path\/docker.sock, tcp:\/\/host:port \(with caPem, certPem, keyPem\) or ssh:\/\/user@host/),
            expect.stringMatching(/^hosts\[1\]\.address = "10.0.0.1": another host has this address/),
            expect.stringMatching(/^hosts\[2\]\.name = "b": another host has this name/),
            expect.stringMatching(/^hosts\[2\]\.engine = "tcp:\/\/10.0.0.3:2376": a tcp:\/\/ engine needs caPem, certPem and keyPem/),
            expect.stringMatching(/^hosts\[2\]\.address = "127.0.0.1": must be the IPv4 address the other hosts reach this host on/),
            expect.stringMatching(/^hosts\[3\]\.color: not a host field/),
            expect.stringMatching(/^hosts\[3\]: caPem, certPem and keyPem are only for a tcp:\/\/ engine/),
        ]);
        expect(problems.join("\n")).not.toContain("secret");
        expect(parseHosts("[{")).toEqual({ hosts: [], problems: [expect.stringMatching(/^hosts: is not JSON/)] });
    });
});

describe("settings across hosts", () => {
    test("home hosts default to the first host and must name a host; they need hosts at all", () => {
        const settings = resolveSettings({ hosts, postgresHost: "b" });
        expect([settings.postgresHost, settings.loadBalancerHost]).toEqual(["b", "a"]);
        expect(problemsOf({ hosts, loadBalancerHost: "c" })).toEqual([expect.stringMatching(/^loadBalancerHost = "c": names no host; hosts are a, b$/)]);
        expect(problemsOf({ postgresHost: "a" })).toEqual([expect.stringMatching(/^postgresHost = "a": places a part of the cluster on one of several hosts, but hosts is not set/)]);
    });

    test("two uses of one port on one host are refused, naming both", () => {
        // Node 1 (on a) publishes management on 9000 and node 3 (on a) would take HTTP 9002 from basePort 9000 … and 9000 itself.
        expect(problemsOf({ hosts, replicas: 3, basePort: 9000 })).toEqual([
            expect.stringMatching(/^host a: port 9000 would be used by both node 1 HTTP \(basePort \+ 0\) and node 1 management/),
            expect.stringMatching(/^host b: port 9001 would be used by both node 2 HTTP \(basePort \+ 1\) and node 2 management/),
            expect.stringMatching(/^host a: port 9002 would be used by both node 3 HTTP \(basePort \+ 2\) and node 3 management/),
        ]);
        expect(problemsOf({ hosts, loadBalancerPort: 7800 })).toEqual([expect.stringMatching(/^host a: port 7800 would be used by both the load balancer \(loadBalancerPort\) and node 1 JGroups transport/)]);
    });

    test("cluster ports follow the node index: transport 7800 + i - 1, failure detection 50000 above it, management 9000 + i - 1", () => {
        expect(nodeClusterPorts(1)).toEqual({ transport: 7800, failureDetection: 57800, management: 9000 });
        expect(nodeClusterPorts(4)).toEqual({ transport: 7803, failureDetection: 57803, management: 9003 });
    });
});

describe("declared across hosts", () => {
    let three: Declaration;
    beforeAll(async () => {
        three = await declareStack({ hosts, replicas: 3 });
    });

    test("one provider per host; every Docker object on its host's provider, named with its host", () => {
        expect(ofType(three, TYPES.dockerProvider).map((provider) => [provider.name, provider.inputs.host])).toEqual([
            ["keycloak-a-engine", "unix:///run/kc-mh-h1/docker.sock"],
            ["keycloak-b-engine", "ssh://admin@192.168.77.2"],
        ]);
        const placed = three.resources.filter((resource) => resource.type.startsWith("docker:index")).map((resource) => [resource.name, resource.provider]);
        expect(Object.fromEntries(placed)).toEqual({
            "keycloak-a-network": "keycloak-a-engine",
            "keycloak-b-network": "keycloak-b-engine",
            "keycloak-a-keycloak-image": "keycloak-a-engine",
            "keycloak-b-keycloak-image": "keycloak-b-engine",
            "keycloak-a-keycloak-optimized": "keycloak-a-engine",
            "keycloak-b-keycloak-optimized": "keycloak-b-engine",
            "keycloak-a-postgres-image": "keycloak-a-engine",
            "keycloak-a-postgres-data": "keycloak-a-engine",
            "keycloak-a-postgres": "keycloak-a-engine",
            "keycloak-a-load-balancer-image": "keycloak-a-engine",
            "keycloak-a-load-balancer": "keycloak-a-engine",
            "keycloak-a-node-1": "keycloak-a-engine",
            "keycloak-b-node-2": "keycloak-b-engine",
            "keycloak-a-node-3": "keycloak-a-engine",
        });
    });

    test("a node on another host than PostgreSQL and the load balancer: cluster ports on its private address, advertised; database and trusted proxy across hosts", () => {
        const node2 = container(three, "keycloak-b-node-2");
        expect(node2.inputs.ports).toEqual([
            { internal: 7800, external: 7801, ip: "192.168.77.2", protocol: "tcp" },
            { internal: 8080, external: 8081, ip: "192.168.77.2", protocol: "tcp" },
            { internal: 9000, external: 9001, ip: "192.168.77.2", protocol: "tcp" },
            { internal: 57801, external: 57801, ip: "192.168.77.2", protocol: "tcp" },
        ]);
        expect(three.stackOutputs.nodeUrls).toEqual(["http://192.168.77.1:8080", "http://192.168.77.2:8081", "http://192.168.77.1:8082"]);
        const env = envOf(node2);
        expect(env).toMatchObject({
            KC_DB_URL_HOST: "192.168.77.1",
            KC_DB_URL_PORT: "5432",
            KC_CACHE_EMBEDDED_NETWORK_BIND_ADDRESS: "10.231.0.11",
            KC_CACHE_EMBEDDED_NETWORK_BIND_PORT: "7800",
            KC_CACHE_EMBEDDED_NETWORK_EXTERNAL_ADDRESS: "192.168.77.2",
            KC_CACHE_EMBEDDED_NETWORK_EXTERNAL_PORT: "7801",
            KC_PROXY_TRUSTED_ADDRESSES: "10.231.0.3,192.168.77.1",
        });
        // Beside PostgreSQL, node 1 reaches it on the host's own network.
        expect(envOf(container(three, "keycloak-a-node-1")).KC_DB_URL_HOST).toBe("postgres");
        expect(container(three, "keycloak-a-postgres").inputs.ports).toEqual([{ internal: 5432, external: 5432, ip: "192.168.77.1", protocol: "tcp" }]);
    });

    test("every container's ports are in the order the provider reads them back: by container port, one binding each", async () => {
        const tlsless = await declareStack({ hosts, replicas: 4, loadBalancerHost: "b", postgresHost: "b" });
        for (const declaration of [three, tlsless]) {
            for (const resource of declaration.resources.filter((candidate) => candidate.type === TYPES.container)) {
                const internal = ((resource.inputs.ports ?? []) as { internal: number }[]).map((port) => port.internal);
                expect({ name: resource.name, internal }).toEqual({ name: resource.name, internal: [...new Set(internal)].sort((a, b) => a - b) });
            }
        }
        expect(problemsOf({ hosts, databaseHostPort: 15432 })).toEqual([expect.stringMatching(/^databaseHostPort = 15432: not available with hosts; PostgreSQL is published on its host's private address, port 5432/)]);
    });

    test("the load balancer has a fixed server per possible node, the same for every replica count", () => {
        const settings = (replicas: number) => resolveSettings({ hosts, replicas });
        const config = loadBalancerConfig(settings(3), planCluster(settings(3)));
        expect(config).toContain("    server node1 10.231.0.10:8080 port 9000\n");
        expect(config).toContain("    server node2 192.168.77.2:8081 port 9001\n");
        expect(config).toContain("    server node3 10.231.0.12:8080 port 9000\n");
        expect(config).toContain("    server node32 192.168.77.2:8111 port 9031\n");
        expect(config).not.toMatch(/server-template|resolvers/);
        expect(loadBalancerConfig(settings(1), planCluster(settings(1)))).toBe(config);
        expect(loadBalancerConfig(settings(8), planCluster(settings(8)))).toBe(config);
    });

    test("scaling out adds one container on its host, and nothing else changes", async () => {
        const four = await declareStack({ hosts, replicas: 4 }, undefined, three);
        const names = (declaration: Declaration) => declaration.resources.map((resource) => resource.name);
        expect(names(four).filter((name) => !names(three).includes(name))).toEqual(["keycloak-b-node-4"]);
        for (const resource of three.resources) {
            const after = four.resources.find((candidate) => candidate.name === resource.name)!;
            expect({ name: resource.name, inputs: after.inputs }).toEqual({ name: resource.name, inputs: resource.inputs });
        }
    });

    test("pulumi up warns that plain HTTP admin ports and the database sit on the private addresses", () => {
        expect(three.warnings).toEqual([
            expect.stringMatching(/^keycloak-cluster: across hosts, the nodes' HTTP ports \(admin console and admin API included, plain HTTP\), their JGroups failure-detection ports and PostgreSQL are published on the hosts' private addresses \(192\.168\.77\.1, 192\.168\.77\.2\)/),
        ]);
    });

    test("without hosts, nothing changes: no provider, the names and inputs of one engine", async () => {
        const plain = await declareStack({ replicas: 3 });
        const explicitEmpty = await declareStack({ replicas: 3, hosts: "" });
        expect(ofType(plain, TYPES.dockerProvider)).toEqual([]);
        expect(plain.resources.every((resource) => resource.provider === undefined)).toBe(true);
        expect(explicitEmpty.resources.map((resource) => [resource.name, resource.inputs])).toEqual(plain.resources.map((resource) => [resource.name, resource.inputs]));
    });
});

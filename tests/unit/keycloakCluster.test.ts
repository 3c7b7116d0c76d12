import { Declaration, DeclaredResource, ofType, TYPES, unitProviderFake } from "../support/declaration";
import { declareStack } from "../support/program";
import { TestCertificate, TestCertificateAuthority } from "../support/testCertificates";

type Container = DeclaredResource & {
    inputs: {
        name: string;
        envs?: string[];
        ports?: { internal: number; external: number; ip: string; protocol: string }[];
        networksAdvanced: { name: string; ipv4Address: string; aliases?: string[] }[];
        healthcheck?: { tests: string[]; interval: string; timeout: string; retries: number };
        restart: string;
        wait: boolean;
        uploads?: { file: string; content: string }[];
        volumes?: { volumeName: string; containerPath: string }[];
    };
};

const containers = (declaration: Declaration) => ofType(declaration, TYPES.container) as Container[];
const byName = (declaration: Declaration) => new Map(declaration.resources.map((resource) => [resource.name, resource]));
const envOf = (container: Container) => Object.fromEntries((container.inputs.envs ?? []).map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]));
const nodeNames = (count: number) => Array.from({ length: count }, (_, i) => `keycloak-node-${i + 1}`);

describe("resources declared", () => {
    test.each([1, 2, 3, 5])("replicas=%i: network, volume, database, %i nodes, load balancer, images and two passwords", async (replicas) => {
        const declaration = await declareStack({ replicas });
        expect(declaration.resources.map((resource) => `${resource.type} ${resource.name}`).sort()).toEqual(
            [
                `${TYPES.cluster} keycloak`,
                `${TYPES.network} keycloak-network`,
                `${TYPES.volume} keycloak-postgres-data`,
                `${TYPES.remoteImage} keycloak-keycloak-image`,
                `${TYPES.remoteImage} keycloak-postgres-image`,
                `${TYPES.remoteImage} keycloak-load-balancer-image`,
                `${TYPES.image} keycloak-keycloak-optimized`,
                `${TYPES.randomPassword} keycloak-database-password`,
                `${TYPES.randomPassword} keycloak-admin-password`,
                `${TYPES.randomId} keycloak-update-stream`,
                `${TYPES.container} keycloak-postgres`,
                `${TYPES.container} keycloak-load-balancer`,
                ...nodeNames(replicas).map((name) => `${TYPES.container} ${name}`),
            ].sort(),
        );
        for (const resource of declaration.resources) {
            if (resource.type !== TYPES.cluster) expect({ name: resource.name, parent: resource.parent }).toEqual({ name: resource.name, parent: "keycloak" });
        }
    });

    test("the nodes run an optimized build of the Keycloak image, built with the options in their environment", async () => {
        const declaration = await declareStack({ replicas: 2 });
        const [optimized] = ofType(declaration, TYPES.image);
        const inputs = optimized.inputs as { imageName: string; build: { args: Record<string, string>; builderVersion: string; context: string; dockerfile: string }; skipPush: boolean };
        expect(inputs.imageName).toMatch(/^keycloak-keycloak:[0-9a-f]{16}$/);
        expect(inputs.build.builderVersion).toBe("BuilderV1");
        expect(inputs.skipPush).toBe(true);
        expect(inputs.build.args.KEYCLOAK_IMAGE).toBe("quay.io/keycloak/keycloak:26.7.3");
        expect(optimized.outputs.repoDigest).toBe(`sha256:fake-build-${inputs.imageName}`);
        expect(optimized.dependsOn).toEqual(["keycloak-keycloak-image"]);
        for (const node of containers(declaration).filter((container) => container.name.startsWith("keycloak-node-"))) {
            expect((node.inputs as unknown as { image: string }).image).toBe(optimized.outputs.repoDigest);
            expect((node.inputs as unknown as { command: string[] }).command).toEqual(["start", "--optimized"]);
            const env = envOf(node);
            for (const [key, value] of Object.entries(inputs.build.args).filter(([key]) => key.startsWith("KC_"))) expect({ key, value: env[key] }).toEqual({ key, value });
        }
    });

    test("a new base image, by name or by id, gives a new image name (and so a rebuild)", async () => {
        const name = async (config: Record<string, string>, fake = unitProviderFake) => (ofType(await declareStack(config, fake), TYPES.image)[0].inputs as { imageName: string }).imageName;
        const base = await name({});
        expect(await name({})).toBe(base);
        expect(await name({ keycloakImage: "quay.io/keycloak/keycloak:26.7.2" })).not.toBe(base);
        expect(await name({}, { ...unitProviderFake, imageId: (image) => `sha256:rebuilt-${image}` })).not.toBe(base);
    });

    test("prebuilt and auto build nothing; prebuilt starts optimized, auto re-augments", async () => {
        for (const [keycloakBuild, command] of [
            ["prebuilt", ["start", "--optimized"]],
            ["auto", ["start"]],
        ] as const) {
            const declaration = await declareStack({ keycloakBuild });
            expect(ofType(declaration, TYPES.image)).toEqual([]);
            const node = byName(declaration).get("keycloak-node-1") as Container;
            expect((node.inputs as unknown as { image: string; command: string[] }).image).toBe("sha256:fake-quay.io/keycloak/keycloak:26.7.3");
            expect((node.inputs as unknown as { command: string[] }).command).toEqual(command);
        }
    });

    test("official images by default", async () => {
        const images = ofType(await declareStack(), TYPES.remoteImage).map((image) => image.inputs);
        expect(images).toEqual(
            expect.arrayContaining([
                { name: "quay.io/keycloak/keycloak:26.7.3", keepLocally: true },
                { name: "postgres:17", keepLocally: true },
                { name: "haproxy:3.0", keepLocally: true },
            ]),
        );
    });

    test("a bad setting stops the program before any resource is declared", async () => {
        const attempt = declareStack({ replicas: 0, replica: 3 });
        await expect(attempt).rejects.toThrow(/keycloak-cluster:replica is not a setting of this program; valid keys: /);
        // A value that is not of the declared type never reaches the program: the CLI refuses it first.
        await expect(declareStack({ replicas: "many" })).rejects.toThrow(/^validating stack config: Stack 'test' with configuration key 'replicas' must be of type 'integer'$/);
        await expect(declareStack({ bindAddress: "0.0.0.0" })).rejects.toThrow(/bindAddress = "0.0.0.0" needs hostname/);
    });
});

describe("scaling touches only the delta", () => {
    const comparable = (resource: DeclaredResource) => JSON.stringify({ inputs: resource.inputs, dependsOn: resource.dependsOn, deleteBeforeReplace: resource.deleteBeforeReplace, retainOnDelete: resource.retainOnDelete, parent: resource.parent });

    test.each([1, 2, 3, 4])("k=%i -> k+1 adds exactly one node and changes nothing else; k+1 -> k removes exactly it", async (k) => {
        const [small, large] = [await declareStack({ replicas: k }), await declareStack({ replicas: k + 1 })];
        const smallByName = byName(small);
        const largeByName = byName(large);
        // Scale-out creates what only the larger declaration has; scale-in deletes exactly the same.
        const onlyInLarger = [...largeByName.keys()].filter((name) => !smallByName.has(name));
        expect(onlyInLarger).toEqual([`keycloak-node-${k + 1}`]);
        expect([...smallByName.keys()].filter((name) => !largeByName.has(name))).toEqual([]);
        for (const [name, resource] of smallByName) {
            expect({ name, state: comparable(largeByName.get(name)!) }).toEqual({ name, state: comparable(resource) });
        }
    });
});

describe("ports", () => {
    test("one HTTP port per node from basePort, plus the load balancer; all unique and on bindAddress", async () => {
        const declaration = await declareStack({ replicas: 4, basePort: 9080, loadBalancerPort: 9000, bindAddress: "127.0.0.2" });
        const published = containers(declaration).flatMap((container) => (container.inputs.ports ?? []).map((port) => ({ container: container.inputs.name, ...port })));
        expect(published.sort((a, b) => a.external - b.external)).toEqual([
            { container: "keycloak-lb", internal: 8080, external: 9000, ip: "127.0.0.2", protocol: "tcp" },
            { container: "keycloak-keycloak-1", internal: 8080, external: 9080, ip: "127.0.0.2", protocol: "tcp" },
            { container: "keycloak-keycloak-2", internal: 8080, external: 9081, ip: "127.0.0.2", protocol: "tcp" },
            { container: "keycloak-keycloak-3", internal: 8080, external: 9082, ip: "127.0.0.2", protocol: "tcp" },
            { container: "keycloak-keycloak-4", internal: 8080, external: 9083, ip: "127.0.0.2", protocol: "tcp" },
        ]);
    });

    test("management, JGroups, stats and PostgreSQL ports are never published by default", async () => {
        const published = containers(await declareStack({ replicas: 3 })).flatMap((container) => (container.inputs.ports ?? []).map((port) => port.internal));
        for (const privatePort of [9000, 7800, 57800, 8404, 5432]) expect(published).not.toContain(privatePort);
    });

    test("PostgreSQL is published only when databaseHostPort is set", async () => {
        const postgres = byName(await declareStack({ databaseHostPort: 15432 })).get("keycloak-postgres") as Container;
        expect(postgres.inputs.ports).toEqual([{ internal: 5432, external: 15432, ip: "127.0.0.1", protocol: "tcp" }]);
    });
});

describe("network and clustering", () => {
    test("a dedicated bridge network with the configured subnet; every container on a static address inside it", async () => {
        const declaration = await declareStack({ replicas: 3, subnet: "10.77.1.0/24", clusterName: "iam" });
        const [network] = ofType(declaration, TYPES.network);
        expect(network.inputs).toMatchObject({ name: "iam-net", driver: "bridge", ipamConfigs: [{ subnet: "10.77.1.0/24", gateway: "10.77.1.1" }] });
        const addresses = containers(declaration).map((container) => container.inputs.networksAdvanced[0].ipv4Address);
        expect(new Set(addresses).size).toBe(addresses.length);
        for (const container of containers(declaration)) {
            expect(container.inputs.networksAdvanced).toHaveLength(1);
            expect(container.inputs.networksAdvanced[0].name).toBe("iam-net");
            expect(container.inputs.networksAdvanced[0].ipv4Address).toMatch(/^10\.77\.1\.\d+$/);
        }
    });

    test("each node binds JGroups to its own network address and carries the alias the load balancer resolves", async () => {
        const nodes = containers(await declareStack({ replicas: 3 })).filter((container) => container.name.startsWith("keycloak-node-"));
        for (const node of nodes) {
            const env = envOf(node);
            expect(env.KC_CACHE_EMBEDDED_NETWORK_BIND_ADDRESS).toBe(node.inputs.networksAdvanced[0].ipv4Address);
            expect(env.KC_CACHE_STACK).toBe("jdbc-ping");
            expect(node.inputs.networksAdvanced[0].aliases).toEqual(["keycloak-nodes"]);
        }
        expect(new Set(nodes.map((node) => envOf(node).KC_CACHE_EMBEDDED_NETWORK_BIND_ADDRESS)).size).toBe(3);
    });

    test("nodes wait for node 1 and then for each other in a rolling order (maxUnavailable), besides PostgreSQL", async () => {
        const nodeDependencies = async (config: Record<string, number>) =>
            containers(await declareStack(config))
                .filter((container) => container.name.startsWith("keycloak-node-"))
                .map((node) => node.dependsOn.filter((name) => name.startsWith("keycloak-node-")));
        expect(await nodeDependencies({ replicas: 4 })).toEqual([[], ["keycloak-node-1"], ["keycloak-node-1", "keycloak-node-2"], ["keycloak-node-1", "keycloak-node-3"]]);
        expect(await nodeDependencies({ replicas: 4, maxUnavailable: 2 })).toEqual([[], ["keycloak-node-1"], ["keycloak-node-1"], ["keycloak-node-1", "keycloak-node-2"]]);
    });

    test("each node has a memory limit, which Keycloak sizes its heap from", async () => {
        const nodes = containers(await declareStack({ replicas: 2, keycloakMemoryMb: 3072 })).filter((container) => container.name.startsWith("keycloak-node-"));
        expect(nodes.map((node) => (node.inputs as unknown as { memory: number }).memory)).toEqual([3072, 3072]);
    });

    test("nodes run in production mode and start only after PostgreSQL is healthy", async () => {
        const declaration = await declareStack({ replicas: 2 });
        const postgres = byName(declaration).get("keycloak-postgres") as Container;
        expect(postgres.inputs.wait).toBe(true);
        for (const node of containers(declaration).filter((container) => container.name.startsWith("keycloak-node-"))) {
            expect((node.inputs as unknown as { command: string[] }).command).toEqual(["start", "--optimized"]);
            expect(node.dependsOn).toContain("keycloak-postgres");
            expect(node.inputs.wait).toBe(true);
        }
    });
});

describe("health, restart and replacement", () => {
    test("every container has a healthcheck, restarts unless stopped, and is replaced delete-first", async () => {
        for (const container of containers(await declareStack({ replicas: 2 }))) {
            expect(container.inputs.healthcheck?.tests.length).toBeGreaterThan(1);
            expect(container.inputs.restart).toBe("unless-stopped");
            expect(container.deleteBeforeReplace).toBe(true);
        }
    });

    test("every input the provider reads back is declared as it reads back: Go durations, memorySwap beside memory", async () => {
        const goDuration = /^(\d+h)?(\d+m)?\d+s$/;
        for (const container of containers(await declareStack({ replicas: 2 }))) {
            const healthcheck = container.inputs.healthcheck as unknown as Record<string, unknown>;
            for (const key of ["interval", "timeout", "startPeriod"]) {
                expect({ container: container.name, key, value: healthcheck[key] }).toEqual({ container: container.name, key, value: expect.stringMatching(goDuration) });
                expect(String(healthcheck[key])).not.toMatch(/^\d{3,}s$|^[6-9]\ds$/);
            }
            const memory = container.inputs as unknown as { memory?: number; memorySwap?: number };
            if (memory.memory !== undefined) expect({ container: container.name, memorySwap: memory.memorySwap }).toEqual({ container: container.name, memorySwap: -1 });
        }
    });

    test("the health start period is the startup timeout, so Docker never marks a slow first start unhealthy", async () => {
        const declaration = await declareStack({ startupTimeoutSeconds: 900 });
        for (const name of ["keycloak-node-1", "keycloak-node-2", "keycloak-postgres"]) {
            const container = byName(declaration).get(name) as Container;
            expect({ name, startPeriod: (container.inputs.healthcheck as unknown as { startPeriod: string }).startPeriod, waitTimeout: (container.inputs as unknown as { waitTimeout: number }).waitTimeout }).toEqual({
                name,
                startPeriod: "15m0s",
                waitTimeout: 900,
            });
        }
    });

    test("changes the provider would apply in place but a running container ignores replace the container instead", async () => {
        for (const container of containers(await declareStack({ replicas: 2 }))) {
            expect({ container: container.name, replaceOnChanges: container.replaceOnChanges }).toEqual({ container: container.name, replaceOnChanges: ["healthcheck", "memory", "memorySwap"] });
        }
    });

    test("the load balancer gets the rendered haproxy.cfg at the official image's path", async () => {
        const lb = byName(await declareStack()).get("keycloak-load-balancer") as Container;
        expect(lb.inputs.uploads).toHaveLength(1);
        expect(lb.inputs.uploads![0].file).toBe("/usr/local/etc/haproxy/haproxy.cfg");
        expect(lb.inputs.uploads![0].content).toContain("server-template node 1-32 keycloak-nodes:8080");
    });

    test("PostgreSQL keeps its data in the named volume, retained on destroy by default", async () => {
        const declaration = await declareStack();
        const postgres = byName(declaration).get("keycloak-postgres") as Container;
        expect(postgres.inputs.volumes).toEqual([{ volumeName: "keycloak-pgdata", containerPath: "/var/lib/postgresql/data" }]);
        expect(byName(declaration).get("keycloak-postgres-data")!.retainOnDelete).toBe(true);
        expect(byName(await declareStack({ retainDatabaseVolume: false })).get("keycloak-postgres-data")!.retainOnDelete).toBe(false);
    });
});

describe("secrets", () => {
    test("a password set without --secret is used, kept secret, and warned about through pulumi.log (never shown)", async () => {
        const plain = await declareStack({ adminPassword: "An-Admin-Password-22" });
        expect(plain.warnings).toEqual([expect.stringMatching(/^keycloak-cluster:adminPassword is stored in plain text in the stack config; set it again with `pulumi config set --secret adminPassword <value>`/)]);
        expect(plain.warnings.join("\n")).not.toContain("An-Admin-Password-22");
        expect(plain.stackOutputs.adminPassword).toBe("An-Admin-Password-22");
        expect(plain.secretStackOutputs).toContain("adminPassword");
        const secret = await declareStack({ adminPassword: "An-Admin-Password-22" }, undefined, undefined, { secretKeys: ["adminPassword"] });
        expect(secret.warnings).toEqual([]);
        expect((await declareStack()).warnings).toEqual([]);
    });

    test("passwords are generated, used, and secret wherever they appear", async () => {
        const declaration = await declareStack({ replicas: 2 });
        const resources = byName(declaration);
        const postgres = resources.get("keycloak-postgres") as Container;
        expect(envOf(postgres).POSTGRES_PASSWORD).toBe("generated-keycloak-database-password");
        for (const node of nodeNames(2).map((name) => resources.get(name) as Container)) {
            expect(envOf(node).KC_DB_PASSWORD).toBe("generated-keycloak-database-password");
            expect(envOf(node).KC_BOOTSTRAP_ADMIN_PASSWORD).toBe("generated-keycloak-admin-password");
            expect(node.secretInputs).toContain("envs");
        }
        expect(postgres.secretInputs).toContain("envs");
        expect(resources.get("keycloak-admin-password")!.inputs).toMatchObject({ length: 32, special: false });
    });

    test("passwords given as config replace the generated ones and stay secret", async () => {
        const declaration = await declareStack({ replicas: 2, databasePassword: "kept-database-password", adminPassword: "kept-admin-password-1" });
        expect(ofType(declaration, TYPES.randomPassword)).toEqual([]);
        const resources = byName(declaration);
        const postgres = resources.get("keycloak-postgres") as Container;
        expect(envOf(postgres).POSTGRES_PASSWORD).toBe("kept-database-password");
        expect(postgres.secretInputs).toContain("envs");
        for (const node of nodeNames(2).map((name) => resources.get(name) as Container)) {
            expect(envOf(node).KC_DB_PASSWORD).toBe("kept-database-password");
            expect(envOf(node).KC_BOOTSTRAP_ADMIN_PASSWORD).toBe("kept-admin-password-1");
            expect(node.secretInputs).toContain("envs");
        }
        expect(declaration.secretStackOutputs).toEqual(["adminPassword", "databasePassword"]);
        expect(declaration.stackOutputs.databasePassword).toBe("kept-database-password");
    });

    test("no password appears in a non-secret input or output", async () => {
        const declaration = await declareStack({ replicas: 2 });
        for (const resource of declaration.resources) {
            for (const [key, value] of Object.entries(resource.inputs)) {
                if (resource.secretInputs.includes(key)) continue;
                expect({ resource: resource.name, key, value: JSON.stringify(value) }).not.toEqual(expect.objectContaining({ value: expect.stringContaining("generated-") }));
            }
        }
        for (const [key, value] of Object.entries(declaration.stackOutputs)) {
            if (declaration.secretStackOutputs.includes(key)) continue;
            expect(JSON.stringify(value)).not.toContain("generated-");
        }
    });
});

describe("stack outputs", () => {
    test("URLs, names and the admin credentials, the password as a secret", async () => {
        const declaration = await declareStack({ replicas: 3 });
        expect(declaration.stackOutputs).toEqual({
            loadBalancerUrl: "http://localhost:8000",
            publicUrl: "http://localhost:8000",
            nodeUrls: ["http://localhost:8080", "http://localhost:8081", "http://localhost:8082"],
            adminConsoleUrl: "http://localhost:8080/admin/",
            adminUsername: "admin",
            adminPassword: "generated-keycloak-admin-password",
            databasePassword: "generated-keycloak-database-password",
            networkName: "keycloak-net",
            nodeContainerNames: ["keycloak-keycloak-1", "keycloak-keycloak-2", "keycloak-keycloak-3"],
            postgresContainerName: "keycloak-postgres",
            loadBalancerContainerName: "keycloak-lb",
            databaseVolumeName: "keycloak-pgdata",
        });
        expect(declaration.secretStackOutputs).toEqual(["adminPassword", "databasePassword"]);
    });

    test("with admin through the load balancer the console URL is the public one", async () => {
        const declaration = await declareStack({ adminThroughLoadBalancer: true, hostname: "https://sso.example.com/" });
        expect(declaration.stackOutputs.adminConsoleUrl).toBe("https://sso.example.com/admin/");
    });
});

describe("Keycloak version changes", () => {
    const streamOf = (declaration: Declaration) => ofType(declaration, TYPES.randomId)[0];
    const labelsOf = (node: DeclaredResource) => Object.fromEntries((node.inputs.labels as { label: string; value: string }[]).map(({ label, value }) => [label, value]));

    test("every node carries the update stream from the resource that holds it, replaced delete-before-replace once the new image is ready", async () => {
        const declaration = await declareStack({ replicas: 3 });
        const stream = streamOf(declaration);
        expect(stream.inputs).toEqual({ byteLength: 4, keepers: { stream: "26.7" } });
        expect(stream.deleteBeforeReplace).toBe(true);
        expect(stream.dependsOn).toEqual(["keycloak-keycloak-optimized"]);
        for (const node of containers(declaration).filter((container) => container.name.startsWith("keycloak-node-"))) {
            expect(labelsOf(node)["keycloak-cluster.update-stream"]).toBe("26.7");
            // A property dependency, not only dependsOn: that is what the engine's dependent replacement follows.
            expect(node.propertyDependencies.labels).toContain("keycloak-update-stream");
        }
    });

    test("the stream follows updateStrategy and the image tag; without an optimized build it waits for the pulled image", async () => {
        const keepers = async (config: Record<string, string>) => (streamOf(await declareStack(config)).inputs as { keepers: { stream: string } }).keepers.stream;
        expect(await keepers({ keycloakImage: "quay.io/keycloak/keycloak:26.7.2" })).toBe("26.7");
        expect(await keepers({ keycloakImage: "quay.io/keycloak/keycloak:26.5.6" })).toBe("quay.io/keycloak/keycloak:26.5.6");
        expect(await keepers({ keycloakImage: "quay.io/keycloak/keycloak:latest" })).toBe("quay.io/keycloak/keycloak:latest");
        expect(await keepers({ updateStrategy: "recreate" })).toBe("quay.io/keycloak/keycloak:26.7.3");
        const rolling = await declareStack({ updateStrategy: "rolling" });
        expect(ofType(rolling, TYPES.randomId)).toEqual([]);
        for (const node of containers(rolling).filter((container) => container.name.startsWith("keycloak-node-"))) expect(labelsOf(node)["keycloak-cluster.update-stream"]).toBeUndefined();
        expect(streamOf(await declareStack({ keycloakBuild: "prebuilt" })).dependsOn).toEqual(["keycloak-keycloak-image"]);
    });
});

describe("the edge: TLS at the load balancer and what is exposed where", () => {
    let ca: TestCertificateAuthority;
    let certificate: TestCertificate;
    beforeAll(() => {
        ca = new TestCertificateAuthority();
        certificate = ca.issue({ names: ["DNS:sso.example.com"] });
    });
    afterAll(() => ca.dispose());
    const portsOf = (container: Container) => container.inputs.ports ?? [];

    test("with TLS the load balancer publishes HTTPS on loadBalancerPort and the redirect port, and gets the PEM as a secret upload", async () => {
        const tls = { hostname: "https://sso.example.com:8443", loadBalancerPort: 8443, httpRedirectPort: 8081, basePort: 9080, tlsCertificate: certificate.certificatePem, tlsKey: certificate.keyPem };
        const declaration = await declareStack(tls, unitProviderFake, undefined, { secretKeys: ["tlsCertificate", "tlsKey"] });
        const lb = byName(declaration).get("keycloak-load-balancer") as Container;
        // By container port: the order the provider reads them back in.
        expect(portsOf(lb)).toEqual([
            { internal: 8080, external: 8081, ip: "127.0.0.1", protocol: "tcp" },
            { internal: 8443, external: 8443, ip: "127.0.0.1", protocol: "tcp" },
        ]);
        const pem = lb.inputs.uploads!.find((upload) => upload.file === "/usr/local/etc/haproxy/keycloak.pem")!;
        expect(pem.content).toBe(`${certificate.certificatePem.trim()}\n${certificate.keyPem.trim()}\n`);
        expect(lb.secretInputs).toContain("uploads");
        expect(lb.inputs.uploads!.find((upload) => upload.file.endsWith("haproxy.cfg"))!.content).toContain("bind :8443 ssl crt /usr/local/etc/haproxy/keycloak.pem alpn h2,http/1.1");
        expect(declaration.stackOutputs.loadBalancerUrl).toBe("https://localhost:8443");
        expect(declaration.stackOutputs.publicUrl).toBe("https://sso.example.com:8443");
        expect(declaration.warnings).toEqual([]);
        for (const node of containers(declaration).filter((container) => container.name.startsWith("keycloak-node-"))) expect(envOf(node).KC_HOSTNAME).toBe("https://sso.example.com:8443");
        // The key never reaches a plain output or a non-secret input.
        expect(JSON.stringify(declaration.stackOutputs)).not.toContain("PRIVATE KEY");
    });

    test("on an address other machines reach, node ports stay on 127.0.0.1, and plain HTTP is a warning in pulumi up", async () => {
        const declaration = await declareStack({ bindAddress: "0.0.0.0", hostname: "http://sso.example.com:8000" });
        for (const node of containers(declaration).filter((container) => container.name.startsWith("keycloak-node-"))) {
            expect(portsOf(node).map((port) => port.ip)).toEqual(["127.0.0.1"]);
        }
        expect(portsOf(byName(declaration).get("keycloak-load-balancer") as Container).map((port) => port.ip)).toEqual(["0.0.0.0"]);
        expect(declaration.stackOutputs.nodeUrls).toEqual(["http://localhost:8080", "http://localhost:8081"]);
        expect(declaration.warnings).toEqual([expect.stringMatching(/^keycloak-cluster: the load balancer serves plain HTTP on 0\.0\.0\.0:8000, reachable from other machines/)]);
    });

    test("bad TLS input stops the program before anything is declared", async () => {
        await expect(declareStack({ tlsCertificate: certificate.certificatePem, tlsKey: certificate.keyPem })).rejects.toThrow(/tlsCertificate: does not cover localhost/);
    });
});

describe("an existing PostgreSQL instead of the cluster's own", () => {
    const external = { externalDatabase: "keycloak-db.internal:6432", databasePassword: "A-Database-Password-1" };

    test("no PostgreSQL container, image or volume; every node connects there; outputs say so", async () => {
        const declaration = await declareStack({ ...external, replicas: 2 }, unitProviderFake, undefined, { secretKeys: ["databasePassword"] });
        expect(declaration.resources.filter((resource) => /postgres/.test(resource.name))).toEqual([]);
        for (const node of containers(declaration).filter((container) => container.name.startsWith("keycloak-node-"))) {
            expect(envOf(node)).toMatchObject({ KC_DB_URL_HOST: "keycloak-db.internal", KC_DB_URL_PORT: "6432", KC_DB_USERNAME: "keycloak", KC_DB_PASSWORD: "A-Database-Password-1" });
            expect(node.dependsOn.filter((name) => /postgres/.test(name))).toEqual([]);
        }
        expect([declaration.stackOutputs.postgresContainerName, declaration.stackOutputs.databaseVolumeName]).toEqual(["", ""]);
        const hosts = JSON.stringify([
            { name: "a", engine: "unix:///a.sock", address: "10.0.0.1" },
            { name: "b", engine: "unix:///b.sock", address: "10.0.0.2" },
        ]);
        const spread = await declareStack({ ...external, hosts, replicas: 2 }, unitProviderFake, undefined, { secretKeys: ["databasePassword"] });
        expect(envOf(byName(spread).get("keycloak-b-node-2") as Container).KC_DB_URL_HOST).toBe("keycloak-db.internal");
        expect(spread.resources.filter((resource) => /postgres/.test(resource.name))).toEqual([]);
    });

    test("bad or incomplete input is named before anything is declared", async () => {
        await expect(declareStack({ externalDatabase: "keycloak-db.internal" })).rejects.toThrow(/externalDatabase = "keycloak-db.internal": must be host:port of a PostgreSQL server/);
        await expect(declareStack({ externalDatabase: "db:5432" })).rejects.toThrow(/externalDatabase = "db:5432": needs databasePassword/);
        await expect(declareStack({ ...external, databaseHostPort: 15432 }, unitProviderFake, undefined, { secretKeys: ["databasePassword"] })).rejects.toThrow(/databaseHostPort = 15432: publishes the cluster's own PostgreSQL, which externalDatabase replaces/);
    });
});

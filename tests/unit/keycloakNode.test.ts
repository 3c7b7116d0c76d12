import { planCluster, planNode } from "../../components/addressPlan";
import { resolveSettings } from "../../components/config";
import { httpProbeTest } from "../../components/healthcheck";
import { envList } from "../../components/containerEnv";
import { keycloakNodeEnv } from "../../components/keycloakNode";
import { postgresEnv, postgresHealthTest } from "../../components/postgres";

const secrets = { databasePassword: "db-secret", adminPassword: "admin-secret" };

describe("keycloakNodeEnv", () => {
    const settings = resolveSettings({ replicas: 3, subnet: "10.40.0.0/24" });
    const plan = planCluster(settings);
    const env = keycloakNodeEnv(settings, plan, plan.nodes[1], secrets);

    test("production database settings with the generated password", () => {
        expect(env).toMatchObject({
            KC_DB: "postgres",
            KC_DB_URL_HOST: "postgres",
            KC_DB_URL_PORT: "5432",
            KC_DB_URL_DATABASE: "keycloak",
            KC_DB_USERNAME: "keycloak",
            KC_DB_PASSWORD: "db-secret",
        });
    });

    test("clustering through jdbc-ping, bound to the node's own address", () => {
        expect(env).toMatchObject({
            KC_CACHE: "ispn",
            KC_CACHE_STACK: "jdbc-ping",
            KC_CACHE_EMBEDDED_NETWORK_BIND_ADDRESS: "10.40.0.11",
            KC_CACHE_EMBEDDED_NETWORK_BIND_PORT: "7800",
            KC_CACHE_EMBEDDED_NETWORK_EXTERNAL_ADDRESS: "10.40.0.11",
            KC_CACHE_EMBEDDED_NETWORK_EXTERNAL_PORT: "7800",
            KC_SPI_CACHE_EMBEDDED__DEFAULT__NODE_NAME: "keycloak-keycloak-2",
        });
    });

    test("bind addresses and node names are distinct per node and inside the subnet", () => {
        const envs = plan.nodes.map((node) => keycloakNodeEnv(settings, plan, node, secrets));
        const addresses = envs.map((nodeEnv) => nodeEnv.KC_CACHE_EMBEDDED_NETWORK_BIND_ADDRESS);
        expect(new Set(addresses).size).toBe(3);
        for (const address of addresses) expect(address).toMatch(/^10\.40\.0\.\d+$/);
        expect(new Set(envs.map((nodeEnv) => nodeEnv.KC_SPI_CACHE_EMBEDDED__DEFAULT__NODE_NAME)).size).toBe(3);
    });

    test("health, metrics, HTTP behind a proxy that only the load balancer may speak for", () => {
        expect(env).toMatchObject({
            KC_HEALTH_ENABLED: "true",
            KC_METRICS_ENABLED: "true",
            KC_HTTP_ENABLED: "true",
            KC_HOSTNAME: "http://localhost:8000",
            KC_HOSTNAME_BACKCHANNEL_DYNAMIC: "true",
            KC_PROXY_HEADERS: "xforwarded",
            KC_PROXY_TRUSTED_ADDRESSES: "10.40.0.3",
            KC_BOOTSTRAP_ADMIN_USERNAME: "admin",
            KC_BOOTSTRAP_ADMIN_PASSWORD: "admin-secret",
        });
    });

    test("the admin console is served on the node's own port unless routed through the load balancer", () => {
        expect(env.KC_HOSTNAME_ADMIN).toBe("http://localhost:8081");
        const throughLb = resolveSettings({ adminThroughLoadBalancer: true });
        expect(keycloakNodeEnv(throughLb, planCluster(throughLb), planCluster(throughLb).nodes[0], secrets)).not.toHaveProperty("KC_HOSTNAME_ADMIN");
    });

    test("the public URL goes to KC_HOSTNAME as a full URL, without a trailing slash", () => {
        const publicUrl = resolveSettings({ hostname: "https://sso.example.com/" });
        expect(keycloakNodeEnv(publicUrl, planCluster(publicUrl), planCluster(publicUrl).nodes[0], secrets)).toMatchObject({
            KC_HOSTNAME: "https://sso.example.com",
            KC_HOSTNAME_BACKCHANNEL_DYNAMIC: "true",
        });
    });

    test("a node's environment is the same whatever the replica count", () => {
        const envFor = (replicas: number) => {
            const scaled = resolveSettings({ replicas, subnet: "10.40.0.0/24" });
            return keycloakNodeEnv(scaled, planCluster(scaled), planNode(scaled, 1), secrets);
        };
        expect(envFor(1)).toEqual(envFor(5));
    });

    test("envList is sorted KEY=value", () => {
        expect(envList({ B: "2", A: "x=y" })).toEqual(["A=x=y", "B=2"]);
    });
});

describe("healthchecks", () => {
    test("the HTTP probe needs only bash and passes only on a 200 status line", () => {
        const [form, shell, flag, script] = httpProbeTest(9000, "/health/ready");
        expect([form, shell, flag]).toEqual(["CMD", "bash", "-c"]);
        expect(script).toContain("/dev/tcp/127.0.0.1/9000");
        expect(script).toContain("GET /health/ready HTTP/1.1");
        expect(script).toContain("[[ $status == *' 200 '* ]]");
        expect(script).not.toMatch(/curl|wget/);
    });

    test("PostgreSQL is healthy only when it accepts TCP for our database", () => {
        const settings = resolveSettings({ databaseUser: "kc", databaseName: "iam" });
        expect(postgresHealthTest(settings)).toEqual(["CMD", "pg_isready", "-h", "127.0.0.1", "-p", "5432", "-U", "kc", "-d", "iam"]);
        expect(postgresEnv(settings, "pw")).toEqual({ POSTGRES_USER: "kc", POSTGRES_PASSWORD: "pw", POSTGRES_DB: "iam" });
    });
});

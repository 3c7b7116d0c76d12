import { ADMIN_PATH_PREFIXES, PUBLIC_PATH_PREFIXES, renderHaproxyConfig } from "../../components/haproxyConfig";
import { loadBalancerConfig } from "../../components/loadBalancer";
import { planCluster } from "../../components/addressPlan";
import { resolveSettings } from "../../components/config";

const input = {
    nodesAlias: "keycloak-nodes",
    serverSlots: 16,
    nodeHttpPort: 8080,
    nodeManagementPort: 9000,
    listenPort: 8080,
    statsPort: 8404,
    exposeAdmin: false,
    cookieKey: "kc",
};

function line(config: string, pattern: RegExp): string {
    const found = config.split("\n").filter((candidate) => pattern.test(candidate));
    expect(found).toHaveLength(1);
    return found[0].trim();
}

describe("renderHaproxyConfig", () => {
    const config = renderHaproxyConfig(input);

    test("fills a fixed number of server slots from the nodes' shared DNS alias", () => {
        expect(line(config, /server-template/)).toBe("server-template node 1-16 keycloak-nodes:8080");
        expect(line(config, /nameserver/)).toBe("nameserver embedded 127.0.0.11:53");
        expect(line(config, /default-server/)).toMatch(/check port 9000 .*resolvers docker .*init-addr none/);
    });

    test("health checks ask the management port for readiness", () => {
        expect(line(config, /http-check send/)).toBe("http-check send meth GET uri /health/ready");
        expect(line(config, /http-check expect/)).toBe("http-check expect status 200");
    });

    test("round robin with cookie affinity, retries and redispatch", () => {
        expect(line(config, /balance/)).toBe("balance roundrobin");
        expect(line(config, /^\s+cookie /)).toBe("cookie KC_ROUTE insert indirect nocache httponly dynamic");
        expect(line(config, /dynamic-cookie-key/)).toBe("dynamic-cookie-key kc");
        expect(line(config, /^\s+retries/)).toBe("retries 3");
        expect(line(config, /option redispatch/)).toBe("option redispatch 1");
        expect(line(config, /retry-on/)).toContain("conn-failure");
    });

    test("only the public Keycloak paths pass by default", () => {
        expect(line(config, /acl allowed_path/)).toBe(`acl allowed_path path_beg ${PUBLIC_PATH_PREFIXES.join(" ")}`);
        expect(line(config, /http-request deny/)).toBe("http-request deny deny_status 404 unless allowed_path");
        for (const prefix of ADMIN_PATH_PREFIXES) expect(line(config, /acl allowed_path/)).not.toContain(prefix);
    });

    test("admin paths pass only when admin access through the load balancer is on", () => {
        const withAdmin = renderHaproxyConfig({ ...input, exposeAdmin: true });
        expect(line(withAdmin, /acl allowed_path/)).toBe(`acl allowed_path path_beg ${[...PUBLIC_PATH_PREFIXES, ...ADMIN_PATH_PREFIXES].join(" ")}`);
        expect(line(withAdmin, /redirect/)).toBe("http-request redirect location /admin/ code 302 if { path / }");
        expect(config).not.toMatch(/redirect/);
    });

    test("the load balancer listens unprivileged and keeps stats on a separate port", () => {
        expect(config).toMatch(/frontend keycloak\n {4}bind :8080\n/);
        expect(config).toMatch(/frontend stats\n {4}bind :8404\n/);
        expect(config).not.toMatch(/^\s*(user|group) /m);
    });

    test("the rendered file is the same whatever the replica count", () => {
        const rendered = [1, 2, 3, 8].map((replicas) => {
            const settings = resolveSettings({ replicas });
            return loadBalancerConfig(settings, planCluster(settings));
        });
        expect(new Set(rendered).size).toBe(1);
    });
});

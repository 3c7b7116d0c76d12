import { ADMIN_PATH_PREFIXES, CLIENT_FORWARDING_HEADERS, PUBLIC_PATH_PREFIXES, REFUSED_ENCODINGS_PATTERN, renderHaproxyConfig } from "../../components/haproxyConfig";
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
    publicUrl: "http://localhost:8000",
    exposeAdmin: false,
    cookieKey: "kc",
};
const tlsInput = { ...input, listenPort: 8443, tls: { pemFile: "/usr/local/etc/haproxy/keycloak.pem" }, redirectListenPort: 8080, publicUrl: "https://sso.example.com" };

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

    test("only the public Keycloak paths pass by default, and not the master realm", () => {
        expect(line(config, /acl allowed_path/)).toBe(`acl allowed_path path_beg ${PUBLIC_PATH_PREFIXES.join(" ")}`);
        expect(config).toContain("    acl master_realm path -i /realms/master\n    acl master_realm path_beg -i /realms/master/\n");
        expect(line(config, /deny_status 404/)).toBe("http-request deny deny_status 404 if master_realm || !allowed_path");
        for (const prefix of ADMIN_PATH_PREFIXES) expect(line(config, /acl allowed_path/)).not.toContain(prefix);
    });

    test("admin paths and the master realm pass only when admin access through the load balancer is on", () => {
        const withAdmin = renderHaproxyConfig({ ...input, exposeAdmin: true });
        expect(line(withAdmin, /acl allowed_path/)).toBe(`acl allowed_path path_beg ${[...PUBLIC_PATH_PREFIXES, ...ADMIN_PATH_PREFIXES].join(" ")}`);
        expect(line(withAdmin, /deny_status 404/)).toBe("http-request deny deny_status 404 unless allowed_path");
        expect(line(withAdmin, /redirect/)).toBe("http-request redirect location /admin/ code 302 if { path / }");
        expect(config).not.toMatch(/redirect/);
    });

    test("every client-sent forwarding header is removed, then set from the connection and the public URL", () => {
        for (const header of ["Forwarded", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Proto", "X-Forwarded-Ssl", "X-Forwarded-Server", "X-Real-IP"]) {
            expect(CLIENT_FORWARDING_HEADERS).toContain(header);
            expect(line(config, new RegExp(`del-header ${header}$`))).toBe(`http-request del-header ${header}`);
        }
        const lines = config.split("\n");
        const lastDelete = Math.max(...lines.map((text, index) => (text.includes("del-header") ? index : -1)));
        const firstSet = lines.findIndex((text) => text.includes("set-header X-Forwarded"));
        expect(lastDelete).toBeLessThan(firstSet);
        expect(line(config, /set-header X-Forwarded-For/)).toBe("http-request set-header X-Forwarded-For %[src]");
        expect(line(config, /set-header X-Forwarded-Host/)).toBe("http-request set-header X-Forwarded-Host localhost");
        expect(line(config, /set-header X-Forwarded-Port/)).toBe("http-request set-header X-Forwarded-Port 8000");
        expect(line(config, /set-header X-Forwarded-Proto/)).toBe("http-request set-header X-Forwarded-Proto http");
        const tls = renderHaproxyConfig(tlsInput);
        expect(line(tls, /set-header X-Forwarded-Host/)).toBe("http-request set-header X-Forwarded-Host sso.example.com");
        expect(line(tls, /set-header X-Forwarded-Port/)).toBe("http-request set-header X-Forwarded-Port 443");
        expect(line(tls, /set-header X-Forwarded-Proto/)).toBe("http-request set-header X-Forwarded-Proto https");
    });

    test("dot segments, empty segments, refused encodings and path parameters are refused before the allow-list", () => {
        const lines = config.split("\n");
        const refusal = lines.findIndex((text) => text.includes("deny_status 400"));
        expect(refusal).toBeGreaterThan(-1);
        expect(refusal).toBeLessThan(lines.findIndex((text) => text.includes("deny_status 404")));
        expect(lines[refusal].trim()).toBe("http-request deny deny_status 400 if dot_segment || empty_segment || refused_encoding || path_parameter");
        // The same patterns HAProxy applies (PCRE, case-insensitive for the encodings), checked here on the paths of the review.
        const dotSegment = /(^|\/)\.\.?(\/|$)/;
        const refusedEncoding = new RegExp(REFUSED_ENCODINGS_PATTERN, "i");
        const refused = (path: string) => dotSegment.test(path) || path.includes("//") || refusedEncoding.test(path) || path.includes(";") || path.includes("\\");
        for (const path of ["/realms/../admin/master/console/", "/realms/%2e%2e/admin/", "/realms/%2E%2E/admin/", "/realms/..;/admin/", "/realms/m%61ster/", "/realms//master/", "/realms/x/..%2fadmin", "/realms/x\\..\\admin", "/realms/x/.", "/realms/%252e%252e/"]) {
            expect({ path, refused: refused(path) }).toEqual({ path, refused: true });
        }
        for (const path of ["/realms/myrealm/protocol/openid-connect/token", "/realms/my.realm/", "/realms/a%20b/", "/resources/abc/login/keycloak.v2/css/styles.css", "/.well-known/openid-configuration", "/realms/x/..well"]) {
            expect({ path, refused: refused(path) }).toEqual({ path, refused: false });
        }
        expect(config).toContain(`acl refused_encoding path -i -m reg '${REFUSED_ENCODINGS_PATTERN}'`);
        expect(config).toContain("acl dot_segment path -m reg '(^|/)\\.\\.?(/|$)'");
    });

    test("without TLS: plain HTTP only, no TLS settings, no HSTS", () => {
        expect(line(config, /^\s+bind :/)).toBe("bind :8080");
        expect(config).not.toMatch(/ssl|Strict-Transport-Security/);
    });

    test("with TLS: HTTPS with HTTP/2 and modern settings, HSTS, a secure affinity cookie, and a port that only redirects", () => {
        const tls = renderHaproxyConfig(tlsInput);
        expect(line(tls, /bind :8443/)).toBe("bind :8443 ssl crt /usr/local/etc/haproxy/keycloak.pem alpn h2,http/1.1");
        expect(line(tls, /ssl-default-bind-options/)).toBe("ssl-default-bind-options prefer-client-ciphers ssl-min-ver TLSv1.2 no-tls-tickets");
        // Forward secrecy and AEAD only: every TLS 1.2 cipher is ECDHE with GCM or ChaCha20-Poly1305.
        for (const cipher of line(tls, /ssl-default-bind-ciphers /).split(" ")[1].split(":")) expect(cipher).toMatch(/^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
        expect(line(tls, /Strict-Transport-Security/)).toBe('http-response set-header Strict-Transport-Security "max-age=63072000"');
        expect(line(tls, /^\s+cookie /)).toBe("cookie KC_ROUTE insert indirect nocache httponly dynamic secure");
        expect(tls).toMatch(/frontend keycloak_redirect\n {4}bind :8080\n {4}http-request redirect prefix https:\/\/sso\.example\.com code 301\n/);
        expect(renderHaproxyConfig({ ...tlsInput, redirectListenPort: undefined })).not.toContain("keycloak_redirect");
    });

    test("stats and liveness listen on the container's loopback only; the load balancer runs unprivileged", () => {
        expect(config).toMatch(/frontend keycloak\n {4}bind :8080\n/);
        expect(config).toMatch(/frontend stats\n {4}bind 127\.0\.0\.1:8404\n/);
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

/**
 * Renders haproxy.cfg for the load balancer. Pure, and independent of the node count: nodes are found
 * through Docker's embedded DNS (every node carries one shared alias), filling a fixed number of
 * `server-template` slots, so scaling never changes this file and never restarts the load balancer.
 */

export interface HaproxyConfigInput {
    /** DNS name that resolves to every node on the cluster network. */
    nodesAlias: string;
    /** Fixed number of server slots; at least the most nodes the cluster can have. */
    serverSlots: number;
    nodeHttpPort: number;
    nodeManagementPort: number;
    listenPort: number;
    statsPort: number;
    /** Also route the admin console and admin REST API. */
    exposeAdmin: boolean;
    /** Seeds the affinity cookie's hash, so cookies stay valid across load balancer restarts. */
    cookieKey: string;
}

/** Paths Keycloak's reverse-proxy guide recommends exposing publicly. */
export const PUBLIC_PATH_PREFIXES = ["/realms/", "/resources/", "/.well-known/"];
/** What the admin console and admin REST API need on top of the public paths. */
export const ADMIN_PATH_PREFIXES = ["/admin/", "/js/"];

export function renderHaproxyConfig(input: HaproxyConfigInput): string {
    const allowed = input.exposeAdmin ? [...PUBLIC_PATH_PREFIXES, ...ADMIN_PATH_PREFIXES] : PUBLIC_PATH_PREFIXES;
    const lines = [
        "# Rendered by keycloak-cluster; changes are overwritten on the next pulumi up.",
        "global",
        "    log stdout format raw local0 info",
        "    maxconn 4096",
        "",
        "# Docker's embedded DNS: every running node answers for the shared alias.",
        "resolvers docker",
        "    nameserver embedded 127.0.0.11:53",
        "    resolve_retries 3",
        "    timeout resolve 1s",
        "    timeout retry 1s",
        "    hold valid 5s",
        "    hold obsolete 5s",
        "    accepted_payload_size 8192",
        "",
        "defaults",
        "    mode http",
        "    log global",
        "    option httplog",
        "    option dontlognull",
        "    timeout connect 2s",
        "    timeout client 60s",
        "    timeout server 60s",
        "    timeout http-request 10s",
        "    timeout http-keep-alive 10s",
        // A dead node must cost no failed request: retry elsewhere when the connection fails or the
        // node closes without answering; redispatch on every retry, not only the last.
        "    retries 3",
        "    option redispatch 1",
        "    retry-on conn-failure empty-response response-timeout 503",
        "",
        "frontend keycloak",
        `    bind :${input.listenPort}`,
        "    http-request set-header X-Forwarded-For %[src]",
        "    http-request set-header X-Forwarded-Proto http",
        "    http-request set-header X-Forwarded-Host %[req.hdr(host)]",
        "    http-request del-header Forwarded",
        ...(input.exposeAdmin ? ["    http-request redirect location /admin/ code 302 if { path / }"] : []),
        `    acl allowed_path path_beg ${allowed.join(" ")}`,
        "    http-request deny deny_status 404 unless allowed_path",
        "    default_backend keycloak_nodes",
        "",
        "backend keycloak_nodes",
        "    balance roundrobin",
        // Affinity keeps a browser on the node that holds its authentication session; "dynamic" derives
        // the cookie from the server's address, so it survives slots being refilled from DNS.
        "    cookie KC_ROUTE insert indirect nocache httponly dynamic",
        `    dynamic-cookie-key ${input.cookieKey}`,
        "    option httpchk",
        "    http-check send meth GET uri /health/ready",
        "    http-check expect status 200",
        `    default-server check port ${input.nodeManagementPort} inter 2s fastinter 1s downinter 2s rise 2 fall 2 resolvers docker resolve-prefer ipv4 init-addr none`,
        `    server-template node 1-${input.serverSlots} ${input.nodesAlias}:${input.nodeHttpPort}`,
        "",
        "frontend stats",
        `    bind :${input.statsPort}`,
        "    http-request return status 200 content-type text/plain string ok if { path /healthz }",
        "    stats enable",
        "    stats uri /stats",
        "    stats refresh 5s",
        "",
    ];
    return lines.join("\n");
}

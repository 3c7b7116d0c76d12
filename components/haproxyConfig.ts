/**
 * Renders haproxy.cfg for the load balancer. Pure, and independent of the node count: nodes are found
 * through Docker's embedded DNS (every node carries one shared alias), filling a fixed number of
 * `server-template` slots, so scaling never changes this file and never restarts the load balancer.
 *
 * The edge rules follow Keycloak's reverse-proxy guide (expose only /realms/, /resources/, /.well-known/;
 * never /admin/, /metrics, /health or the management port) and HAProxy 3.0's configuration manual.
 */

export interface HaproxyConfigInput {
    /** DNS name that resolves to every node on the cluster network. */
    nodesAlias: string;
    /** Fixed number of server slots; at least the most nodes the cluster can have. */
    serverSlots: number;
    nodeHttpPort: number;
    nodeManagementPort: number;
    /** Port Keycloak is served on inside the container: HTTPS when `tls` is set, plain HTTP otherwise. */
    listenPort: number;
    /** TLS termination: the PEM file (certificate, chain, key) inside the container. */
    tls?: { pemFile: string };
    /** With TLS: a plain-HTTP port that only redirects to the public URL. */
    redirectListenPort?: number;
    /** Stats and liveness, bound to the container's own loopback: only the container healthcheck reaches it. */
    statsPort: number;
    /**
     * The URL clients use (scheme, host, port). The forwarding headers Keycloak trusts are set from it, never
     * from anything the client sent.
     */
    publicUrl: string;
    /** Also route the admin console, the admin REST API and the master realm. */
    exposeAdmin: boolean;
    /** Seeds the affinity cookie's hash, so cookies stay valid across load balancer restarts. */
    cookieKey: string;
    /**
     * Nodes on several hosts: one fixed server per possible node at a computed address, instead of the DNS
     * slots (Docker's DNS only knows the load balancer's own host). Nodes that do not exist fail their check.
     */
    staticServers?: StaticServer[];
}

export interface StaticServer {
    name: string;
    address: string;
    port: number;
    /** Where its /health/ready answers. */
    checkPort: number;
}

/** Paths Keycloak's reverse-proxy guide recommends exposing publicly. */
export const PUBLIC_PATH_PREFIXES = ["/realms/", "/resources/", "/.well-known/"];
/** What the admin console and admin REST API need on top of the public paths. */
export const ADMIN_PATH_PREFIXES = ["/admin/", "/js/"];

/**
 * Forwarding headers a client may send and Keycloak (or a library behind it) may read. All are removed;
 * the load balancer then sets its own. HAProxy matches header names case-insensitively.
 */
export const CLIENT_FORWARDING_HEADERS = [
    "Forwarded",
    "X-Forwarded-For",
    "X-Forwarded-Proto",
    "X-Forwarded-Host",
    "X-Forwarded-Port",
    "X-Forwarded-Prefix",
    "X-Forwarded-Ssl",
    "X-Forwarded-Server",
    "X-Forwarded-Scheme",
    "X-Real-IP",
    "X-Original-URL",
    "X-Rewrite-URL",
];

/**
 * Percent-encodings a legitimate Keycloak URL never needs, refused because the server would decode them into
 * something the path allow-list did not see: an unreserved character (`%2e` = `.`, `%61` = `a` in
 * `/realms/m%61ster/`), a separator (`%2f` `/`, `%5c` `\`, `%3b` `;`), `%25` (double encoding) and control
 * characters. Spaces and other reserved characters (`%20`) stay allowed.
 */
export const REFUSED_ENCODINGS_PATTERN = "%(0[0-9a-f]|1[0-9a-f]|2[5def]|3[0-9b]|4[1-9a-f]|5[0-9acf]|6[1-9a-f]|7[0-9ae])";

/** Mozilla's "intermediate" TLS configuration (guideline 6.0): TLS 1.2 and 1.3, ECDHE AEAD ciphers only. */
const TLS_GLOBALS = [
    "    ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305",
    "    ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
    "    ssl-default-bind-options prefer-client-ciphers ssl-min-ver TLSv1.2 no-tls-tickets",
];

/** HSTS for two years, Mozilla's recommendation; sent only on HTTPS responses. */
export const HSTS_MAX_AGE_SECONDS = 63072000;

export function renderHaproxyConfig(input: HaproxyConfigInput): string {
    const allowed = input.exposeAdmin ? [...PUBLIC_PATH_PREFIXES, ...ADMIN_PATH_PREFIXES] : PUBLIC_PATH_PREFIXES;
    const publicUrl = new URL(input.publicUrl);
    const publicPort = publicUrl.port || (publicUrl.protocol === "https:" ? "443" : "80");
    const publicOrigin = `${publicUrl.protocol}//${publicUrl.host}`;
    const lines = [
        "# Rendered by keycloak-cluster; changes are overwritten on the next pulumi up.",
        "global",
        "    log stdout format raw local0 info",
        "    maxconn 4096",
        ...(input.tls ? TLS_GLOBALS : []),
        "",
        ...(input.staticServers
            ? []
            : [
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
              ]),
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
        input.tls ? `    bind :${input.listenPort} ssl crt ${input.tls.pemFile} alpn h2,http/1.1` : `    bind :${input.listenPort}`,
        // Keycloak trusts these headers from the load balancer (proxy-headers xforwarded, trusted address), so
        // none may come from the client: the backchannel URLs it returns are built from them.
        ...CLIENT_FORWARDING_HEADERS.map((header) => `    http-request del-header ${header}`),
        "    http-request set-header X-Forwarded-For %[src]",
        `    http-request set-header X-Forwarded-Proto ${publicUrl.protocol.slice(0, -1)}`,
        `    http-request set-header X-Forwarded-Host ${publicUrl.hostname}`,
        `    http-request set-header X-Forwarded-Port ${publicPort}`,
        // Checked on the raw path, before the allow-list: anything that a server would normalise or decode into
        // another path is refused rather than rewritten (HAProxy 3.0's normalize-uri is still experimental), so a
        // dot segment, an empty segment or an encoding cannot reach a blocked prefix (CVE-2025-10939's pattern).
        // Browsers never send these forms.
        "    acl dot_segment path -m reg '(^|/)\\.\\.?(/|$)'",
        "    acl empty_segment path_sub //",
        `    acl refused_encoding path -i -m reg '${REFUSED_ENCODINGS_PATTERN}'`,
        "    acl path_parameter path_sub ';' '\\'",
        "    http-request deny deny_status 400 if dot_segment || empty_segment || refused_encoding || path_parameter",
        ...(input.exposeAdmin ? ["    http-request redirect location /admin/ code 302 if { path / }"] : []),
        `    acl allowed_path path_beg ${allowed.join(" ")}`,
        // The master realm holds the administrators: its login and token endpoints stay off the public URL.
        "    acl master_realm path -i /realms/master",
        "    acl master_realm path_beg -i /realms/master/",
        input.exposeAdmin ? "    http-request deny deny_status 404 unless allowed_path" : "    http-request deny deny_status 404 if master_realm || !allowed_path",
        ...(input.tls ? [`    http-response set-header Strict-Transport-Security "max-age=${HSTS_MAX_AGE_SECONDS}"`] : []),
        "    default_backend keycloak_nodes",
        "",
        ...(input.tls && input.redirectListenPort !== undefined
            ? [
                  "# Plain HTTP only sends clients to the HTTPS URL; nothing reaches Keycloak this way.",
                  "frontend keycloak_redirect",
                  `    bind :${input.redirectListenPort}`,
                  `    http-request redirect prefix ${publicOrigin} code 301`,
                  "",
              ]
            : []),
        "backend keycloak_nodes",
        "    balance roundrobin",
        // Affinity keeps a browser on the node that holds its authentication session; "dynamic" derives
        // the cookie from the server's address, so it survives slots being refilled from DNS.
        `    cookie KC_ROUTE insert indirect nocache httponly dynamic${input.tls ? " secure" : ""}`,
        `    dynamic-cookie-key ${input.cookieKey}`,
        "    option httpchk",
        "    http-check send meth GET uri /health/ready",
        "    http-check expect status 200",
        ...(input.staticServers
            ? [
                  "    default-server check inter 2s fastinter 1s downinter 2s rise 2 fall 2",
                  ...input.staticServers.map((server) => `    server ${server.name} ${server.address}:${server.port} port ${server.checkPort}`),
              ]
            : [
                  `    default-server check port ${input.nodeManagementPort} inter 2s fastinter 1s downinter 2s rise 2 fall 2 resolvers docker resolve-prefer ipv4 init-addr none`,
                  `    server-template node 1-${input.serverSlots} ${input.nodesAlias}:${input.nodeHttpPort}`,
              ]),
        "",
        "# Container-local only: the healthcheck runs inside the container, nothing outside can reach it.",
        "frontend stats",
        `    bind 127.0.0.1:${input.statsPort}`,
        "    http-request return status 200 content-type text/plain string ok if { path /healthz }",
        "    stats enable",
        "    stats uri /stats",
        "    stats refresh 5s",
        "",
    ];
    return lines.join("\n");
}

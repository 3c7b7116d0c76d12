/** Bounded HTTP with Node's fetch, and the Keycloak endpoints the suite uses. */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect as tlsConnect } from "node:tls";

export interface HttpResult {
    status: number;
    text: string;
    headers: Headers;
}

/** One request with a hard timeout; network errors become status 0 with the error text. */
export async function http(url: string, init: RequestInit = {}, timeoutMs = 10_000): Promise<HttpResult> {
    const host = new URL(url).hostname;
    // 192.168.77.0/24 is the private link between the engines the multi-host suite starts in its own namespaces.
    if (host !== "127.0.0.1" && !host.startsWith("10.") && !host.startsWith("192.168.77.")) throw new Error(`The suite only talks to 127.0.0.1, its own cluster networks and its own namespaces, not ${host}`);
    try {
        const response = await fetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
        return { status: response.status, text: await response.text(), headers: response.headers };
    } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause;
        return { status: 0, text: `${(error as Error).name}: ${(error as Error).message}${cause?.code ? ` (${cause.code})` : ""}`, headers: new Headers() };
    }
}

export function json<T = Record<string, unknown>>(result: HttpResult): T {
    try {
        return JSON.parse(result.text) as T;
    } catch {
        throw new Error(`Expected JSON (HTTP ${result.status}): ${result.text.slice(0, 300)}`);
    }
}

export interface TokenSet {
    access_token: string;
    refresh_token: string;
    id_token?: string;
}

const tokenUrl = (base: string, realm = "master") => `${base}/realms/${realm}/protocol/openid-connect/token`;

export async function passwordGrant(base: string, clientId: string, username: string, password: string, realm = "master"): Promise<HttpResult> {
    return http(tokenUrl(base, realm), {
        method: "POST",
        body: new URLSearchParams({ grant_type: "password", client_id: clientId, username, password, scope: "openid" }),
    });
}

export async function refreshGrant(base: string, clientId: string, refreshToken: string, realm = "master"): Promise<HttpResult> {
    return http(tokenUrl(base, realm), {
        method: "POST",
        body: new URLSearchParams({ grant_type: "refresh_token", client_id: clientId, refresh_token: refreshToken }),
    });
}

export async function userinfo(base: string, accessToken: string, realm = "master"): Promise<HttpResult> {
    return http(`${base}/realms/${realm}/protocol/openid-connect/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
}

/** A token set, or a thrown error naming the status (never the password). */
export async function token(base: string, clientId: string, username: string, password: string, realm = "master"): Promise<TokenSet> {
    const result = await passwordGrant(base, clientId, username, password, realm);
    if (result.status !== 200) throw new Error(`password grant for ${username} via ${base} with ${clientId}: HTTP ${result.status} ${result.text.slice(0, 200)}`);
    return json<TokenSet>(result);
}

export function jwtClaims(jwt: string): Record<string, unknown> {
    return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8")) as Record<string, unknown>;
}

export async function adminApi(base: string, accessToken: string, path: string, init: RequestInit = {}): Promise<HttpResult> {
    return http(`${base}/admin${path}`, {
        ...init,
        headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json", ...(init.headers as Record<string, string> | undefined) },
    });
}

/**
 * GET a `http://localhost:<port>/...` URL (as the stack outputs spell them) on 127.0.0.1 with its Host
 * header: `localhost` may resolve to ::1, where nothing is published.
 */
export function getViaLoopback(url: string, timeoutMs = 10_000): Promise<{ status: number; location?: string }> {
    const target = new URL(url);
    if (target.hostname !== "localhost" && target.hostname !== "127.0.0.1") throw new Error(`Not a loopback URL: ${url}`);
    return new Promise((resolve, reject) => {
        const request = httpRequest(
            { host: "127.0.0.1", port: Number(target.port || 80), path: target.pathname + target.search, headers: { host: target.host }, timeout: timeoutMs },
            (response) => {
                response.resume();
                response.on("end", () => resolve({ status: response.statusCode ?? 0, location: response.headers.location }));
            },
        );
        request.on("timeout", () => request.destroy(new Error(`GET ${url} timed out`)));
        request.on("error", reject);
        request.end();
    });
}

export interface RawRequest {
    /** `http` or `https` to 127.0.0.1. */
    scheme: "http" | "https";
    port: number;
    /** Sent exactly as given: no normalisation of dot segments or encodings (fetch would normalise them). */
    path: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    /** CA certificate(s) to verify the server with (https). */
    ca?: string;
    /** TLS server name (SNI and certificate check); default localhost. */
    servername?: string;
    timeoutMs?: number;
}

export interface RawResponse {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    text: string;
}

/** One request to 127.0.0.1 with the path byte for byte; TLS verified against `ca` only. */
export function rawRequest(options: RawRequest): Promise<RawResponse> {
    const common = {
        host: "127.0.0.1",
        port: options.port,
        path: options.path,
        method: options.method ?? "GET",
        headers: { ...(options.body ? { "content-type": "application/x-www-form-urlencoded" } : {}), ...options.headers },
        timeout: options.timeoutMs ?? 10_000,
    };
    return new Promise((resolve, reject) => {
        const onResponse = (response: import("node:http").IncomingMessage) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString("utf8") }));
        };
        const request =
            options.scheme === "https"
                ? httpsRequest({ ...common, ca: options.ca, servername: options.servername ?? "localhost", rejectUnauthorized: true }, onResponse)
                : httpRequest(common, onResponse);
        request.on("timeout", () => request.destroy(new Error(`${common.method} ${options.path} timed out`)));
        request.on("error", reject);
        request.end(options.body);
    });
}

/** What a TLS client negotiates with 127.0.0.1:port when it offers h2 and http/1.1 and trusts only `ca`. */
export function tlsHandshake(port: number, ca: string, servername = "localhost"): Promise<{ protocol: string | null; alpn: string | false | null; authorized: boolean }> {
    return new Promise((resolve, reject) => {
        const socket = tlsConnect({ host: "127.0.0.1", port, ca, servername, ALPNProtocols: ["h2", "http/1.1"], rejectUnauthorized: true }, () => {
            resolve({ protocol: socket.getProtocol(), alpn: socket.alpnProtocol, authorized: socket.authorized });
            socket.end();
        });
        socket.setTimeout(10_000, () => socket.destroy(new Error("TLS handshake timed out")));
        socket.on("error", reject);
    });
}

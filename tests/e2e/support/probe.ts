/**
 * The realm the suite's clients log in to through the load balancer. The master realm holds the
 * administrators and is not routed through the load balancer (haproxyConfig.ts), so load and failover
 * tests use a realm of their own, as real applications do: a public client with direct grants and one user.
 */
import { randomBytes } from "node:crypto";
import { adminApi, token, TokenSet } from "./http";

export interface ProbeRealm {
    realm: string;
    clientId: string;
    username: string;
    password: string;
}

export function probeRealm(name: string): ProbeRealm {
    return { realm: name, clientId: `${name}-client`, username: `${name}-user`, password: randomBytes(18).toString("base64url") };
}

/** Creates the realm with its client and user through the admin API of one node; a realm already there is kept. */
export async function createProbeRealm(nodeUrl: string, adminAccessToken: string, probe: ProbeRealm): Promise<"created" | "existed"> {
    const created = await adminApi(nodeUrl, adminAccessToken, "/realms", {
        method: "POST",
        body: JSON.stringify({
            realm: probe.realm,
            enabled: true,
            clients: [{ clientId: probe.clientId, publicClient: true, directAccessGrantsEnabled: true, standardFlowEnabled: false }],
            // A complete profile (Keycloak 26 requires email and names by default), so the password grant works.
            users: [
                {
                    username: probe.username,
                    enabled: true,
                    email: `${probe.username}@example.com`,
                    emailVerified: true,
                    firstName: "Probe",
                    lastName: "User",
                    credentials: [{ type: "password", value: probe.password, temporary: false }],
                },
            ],
        }),
    });
    if (created.status === 201) return "created";
    if (created.status === 409) return "existed";
    throw new Error(`creating realm ${probe.realm}: HTTP ${created.status} ${created.text.slice(0, 200)}`);
}

export function probeToken(base: string, probe: ProbeRealm): Promise<TokenSet> {
    return token(base, probe.clientId, probe.username, probe.password, probe.realm);
}

/**
 * Bounded load through the load balancer while something breaks: concurrent clients, each alternating a
 * refresh_token grant and a userinfo call, with a hard cap on requests and time.
 */
import { sleep } from "../harness/docker";
import { json, refreshGrant, TokenSet, userinfo } from "./http";

export interface LoadOptions {
    baseUrl: string;
    realm: string;
    clientId: string;
    /** One logged-in session per client. */
    sessions: TokenSet[];
    maxRequests: number;
    maxMs: number;
    /** Pause after each request; longer after a failure so an outage does not burn the request budget. */
    pauseMs: number;
    pauseAfterFailureMs: number;
    /** Checked before every request: stop when it returns true. */
    done: (result: LoadResult) => boolean;
    /** Phase label per request (e.g. before/after the kill). */
    phase: () => string;
}

export interface Failure {
    /** Epoch ms the request was sent. */
    at: number;
    phase: string;
    kind: "refresh" | "userinfo";
    status: number;
    body: string;
}

export interface LoadResult {
    requests: number;
    byPhase: Record<string, number>;
    failures: Failure[];
    latenciesMs: number[];
    /** The newest tokens of each client (refreshed during the run). */
    sessions: TokenSet[];
    stoppedBy: "done" | "maxRequests" | "maxMs";
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
    const started = Date.now();
    const result: LoadResult = { requests: 0, byPhase: {}, failures: [], latenciesMs: [], sessions: [...options.sessions], stoppedBy: "done" };
    const stop = (): boolean => {
        if (result.requests >= options.maxRequests) return (result.stoppedBy = "maxRequests"), true;
        if (Date.now() - started >= options.maxMs) return (result.stoppedBy = "maxMs"), true;
        return options.done(result);
    };
    const client = async (index: number) => {
        let refreshNext = index % 2 === 0;
        while (!stop()) {
            const phase = options.phase();
            result.requests++;
            result.byPhase[phase] = (result.byPhase[phase] ?? 0) + 1;
            const sent = Date.now();
            const tokens = result.sessions[index];
            const response = refreshNext
                ? await refreshGrant(options.baseUrl, options.clientId, tokens.refresh_token, options.realm)
                : await userinfo(options.baseUrl, tokens.access_token, options.realm);
            result.latenciesMs.push(Date.now() - sent);
            const ok = response.status === 200;
            if (ok && refreshNext) result.sessions[index] = json<TokenSet>(response);
            if (!ok) result.failures.push({ at: sent, phase, kind: refreshNext ? "refresh" : "userinfo", status: response.status, body: response.text.slice(0, 160) });
            refreshNext = !refreshNext;
            await sleep(ok ? options.pauseMs : options.pauseAfterFailureMs);
        }
    };
    await Promise.all(options.sessions.map((_, index) => client(index)));
    return result;
}

export function percentile(values: number[], p: number): number | undefined {
    if (values.length === 0) return undefined;
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/**
 * Runs `action` while two logged-in clients put bounded load on the load balancer (refresh grants and
 * userinfo, 20 ms apart), and returns the action's result with the load it saw. The load stops with the action.
 */
export async function underLoad<T>(
    options: { baseUrl: string; realm: string; clientId: string; sessions: TokenSet[]; maxRequests?: number; maxMs?: number },
    action: () => Promise<T>,
): Promise<{ value: T; load: LoadResult; startedAt: number; seconds: number }> {
    let finished = false;
    const loadRun = runLoad({
        baseUrl: options.baseUrl,
        realm: options.realm,
        clientId: options.clientId,
        sessions: options.sessions,
        maxRequests: options.maxRequests ?? 12_000,
        maxMs: options.maxMs ?? 600_000,
        pauseMs: 20,
        pauseAfterFailureMs: 250,
        done: () => finished,
        phase: () => "duringAction",
    });
    const startedAt = Date.now();
    let value: T;
    try {
        value = await action();
    } finally {
        finished = true;
    }
    const load = await loadRun;
    return { value, load, startedAt, seconds: Math.round((Date.now() - startedAt) / 100) / 10 };
}

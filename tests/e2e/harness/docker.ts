/** Docker engine access for the harness and the suite: connection check, logs, exec. */
import Docker from "dockerode";
import { PassThrough } from "node:stream";

export function connectDocker(): Docker {
    return process.env.DOCKER_HOST ? new Docker() : new Docker({ socketPath: "/var/run/docker.sock" });
}

const engineClients = new Map<string, Docker>();

/**
 * The client for a docker.Provider's `host`, or `local` for the default provider. The harness speaks to
 * engines through their unix sockets only (ssh:// and tcp:// need what the CLI and provider bring).
 */
export function engineClient(local: Docker, host: string | undefined): Docker {
    if (host === undefined) return local;
    if (!host.startsWith("unix://")) throw new Error(`The e2e harness reaches Docker engines through unix:// sockets only, not ${host}`);
    let client = engineClients.get(host);
    if (!client) {
        client = new Docker({ socketPath: host.slice("unix://".length) });
        engineClients.set(host, client);
    }
    return client;
}

/** Fails with a clear message when the engine cannot be reached. */
export async function ensureEngine(docker: Docker): Promise<{ serverVersion: string; apiVersion: string }> {
    try {
        const version = await docker.version();
        return { serverVersion: version.Version, apiVersion: version.ApiVersion };
    } catch (error) {
        throw new Error(
            `The Docker engine is not reachable (${process.env.DOCKER_HOST ?? "/var/run/docker.sock"}): ${(error as Error).message}. ` +
                "The end-to-end suite needs a running Docker engine.",
        );
    }
}

export function statusCode(error: unknown): number | undefined {
    return typeof error === "object" && error !== null && "statusCode" in error ? Number((error as { statusCode: unknown }).statusCode) : undefined;
}

export const isNotFound = (error: unknown) => statusCode(error) === 404;

/** Splits Docker's multiplexed (non-TTY) log/exec stream into its text. */
export function demultiplex(buffer: Buffer): { stdout: string; stderr: string } {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let offset = 0;
    while (offset + 8 <= buffer.length) {
        const kind = buffer[offset];
        const size = buffer.readUInt32BE(offset + 4);
        const chunk = buffer.subarray(offset + 8, offset + 8 + size);
        (kind === 2 ? err : out).push(chunk);
        offset += 8 + size;
    }
    return { stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}

/** The last `lines` lines of a container's stdout and stderr, interleaved as Docker stores them. */
export async function containerLogs(docker: Docker, nameOrId: string, lines = 60): Promise<string> {
    try {
        const raw = (await docker.getContainer(nameOrId).logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
        const all: string[] = [];
        let offset = 0;
        while (offset + 8 <= raw.length) {
            const size = raw.readUInt32BE(offset + 4);
            all.push(raw.subarray(offset + 8, offset + 8 + size).toString("utf8"));
            offset += 8 + size;
        }
        return all.join("");
    } catch (error) {
        return `(logs unavailable: ${(error as Error).message})`;
    }
}

/** Every log line since the container started (for scanning, e.g. for ISPN000094). */
export async function allContainerLogs(docker: Docker, nameOrId: string): Promise<string> {
    const raw = (await docker.getContainer(nameOrId).logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    const { stdout, stderr } = demultiplex(raw);
    return stdout + stderr;
}

export interface ExecResult {
    exitCode: number;
    stdout: string;
    stderr: string;
}

/** Runs a command (argv, no shell) in a running container and collects its output, bounded in time. */
export async function execIn(
    docker: Docker,
    nameOrId: string,
    cmd: string[],
    options: { env?: string[]; user?: string; timeoutMs?: number } = {},
): Promise<ExecResult> {
    const exec = await docker.getContainer(nameOrId).exec({
        Cmd: cmd,
        Env: options.env,
        User: options.user,
        AttachStdout: true,
        AttachStderr: true,
    });
    const stream = await exec.start({ hijack: true, stdin: false });
    const out = new PassThrough();
    const err = new PassThrough();
    const outChunks: Buffer[] = [];
    const errChunks: Buffer[] = [];
    out.on("data", (chunk: Buffer) => outChunks.push(chunk));
    err.on("data", (chunk: Buffer) => errChunks.push(chunk));
    docker.modem.demuxStream(stream, out, err);
    const timeoutMs = options.timeoutMs ?? 30_000;
    await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
            stream.destroy();
            reject(new Error(`exec ${cmd[0]} in ${nameOrId} did not finish within ${timeoutMs} ms`));
        }, timeoutMs);
        stream.on("end", () => {
            clearTimeout(timer);
            resolve();
        });
        stream.on("close", () => {
            clearTimeout(timer);
            resolve();
        });
        stream.on("error", (error: Error) => {
            clearTimeout(timer);
            reject(error);
        });
    });
    // The exit code is recorded a moment after the stream ends.
    let exitCode: number | null = null;
    for (let attempt = 0; attempt < 50; attempt++) {
        const info = await exec.inspect();
        if (!info.Running && info.ExitCode !== null) {
            exitCode = info.ExitCode;
            break;
        }
        await sleep(100);
    }
    return {
        exitCode: exitCode ?? -1,
        stdout: Buffer.concat(outChunks).toString("utf8"),
        stderr: Buffer.concat(errChunks).toString("utf8"),
    };
}

export function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

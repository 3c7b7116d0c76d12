/**
 * How each declared resource type becomes Docker objects: create, delete, and check-and-heal ("refresh")
 * for resources whose inputs did not change. Inputs have already passed the allow-list in schema.ts.
 */
import type Docker from "dockerode";
import type { DeclaredResource } from "../../support/declaration";
import { TYPES } from "../../support/declaration";
import { containerLogs, isNotFound, sleep, statusCode } from "./docker";
import { durationToNanoseconds } from "./durations";
import { ContainerInputs, labelMap, NetworkInputs, RemoteImageInputs, VolumeInputs } from "./schema";
import { createTar } from "./tar";

export interface ResourceTiming {
    /** Epoch ms. */
    createdAt?: number;
    startedAt?: number;
    healthyAt?: number;
}

export interface HarnessContext {
    docker: Docker;
    log: (message: string) => void;
    timings: Map<string, ResourceTiming>;
}

export type DeleteOutcome = "deleted" | "retained" | "absent" | "nothing-to-delete";
export type RefreshOutcome = "ok" | "started" | "recreated";

interface Handler {
    create(ctx: HarnessContext, resource: DeclaredResource): Promise<void>;
    remove(ctx: HarnessContext, resource: DeclaredResource): Promise<DeleteOutcome>;
    /** For an untouched resource: make the live object match the declaration's intent again. */
    refresh(ctx: HarnessContext, resource: DeclaredResource): Promise<RefreshOutcome>;
}

const nothing: Handler = {
    create: async () => undefined,
    remove: async () => "nothing-to-delete",
    refresh: async () => "ok",
};

function timing(ctx: HarnessContext, name: string): ResourceTiming {
    let entry = ctx.timings.get(name);
    if (!entry) {
        entry = {};
        ctx.timings.set(name, entry);
    }
    return entry;
}

// ---------------------------------------------------------------- images

const remoteImage: Handler = {
    async create(ctx, resource) {
        await resolveImage(ctx, resource);
    },
    // keepLocally is required to be true: the image stays.
    remove: async () => "nothing-to-delete",
    async refresh(ctx, resource) {
        await resolveImage(ctx, resource);
        return "ok";
    },
};

/**
 * The declared image id must exist locally (containers are created from it). Like `pulumi up` without
 * --refresh, a tag moved since the declaration does not change the resource: it is only reported.
 */
async function resolveImage(ctx: HarnessContext, resource: DeclaredResource): Promise<void> {
    const inputs = resource.inputs as unknown as RemoteImageInputs;
    const declaredId = String(resource.outputs.imageId);
    try {
        await ctx.docker.getImage(declaredId).inspect();
    } catch (error) {
        if (isNotFound(error)) {
            throw new Error(
                `${resource.name}: image ${inputs.name} (${declaredId}) is not present locally and the harness never pulls; run bash tests/e2e/images/build.sh and declare again`,
            );
        }
        throw error;
    }
    const currentId = await ctx.docker
        .getImage(inputs.name)
        .inspect()
        .then((image) => image.Id)
        .catch(() => undefined);
    if (currentId !== declaredId) {
        ctx.log(`note: ${inputs.name} now points to ${currentId ?? "nothing"}; ${resource.name} keeps ${declaredId} as declared`);
    }
}

/** Deletes an engine object; one that is already gone is reported as absent, as Pulumi treats it. */
async function removeIfPresent(remove: () => Promise<unknown>): Promise<"deleted" | "absent"> {
    try {
        await remove();
        return "deleted";
    } catch (error) {
        if (isNotFound(error)) return "absent";
        throw error;
    }
}

/** Creates an engine object again when it has disappeared since it was applied. */
async function recreateIfMissing(inspect: () => Promise<unknown>, create: () => Promise<void>): Promise<"ok" | "recreated"> {
    try {
        await inspect();
        return "ok";
    } catch (error) {
        if (!isNotFound(error)) throw error;
    }
    await create();
    return "recreated";
}

// ---------------------------------------------------------------- networks

const network: Handler = {
    async create(ctx, resource) {
        const inputs = resource.inputs as unknown as NetworkInputs;
        ctx.log(`create network ${inputs.name}`);
        await ctx.docker.createNetwork({
            Name: inputs.name,
            Driver: inputs.driver ?? "bridge",
            CheckDuplicate: true,
            IPAM: {
                Driver: "default",
                Config: (inputs.ipamConfigs ?? []).map((config) => ({ Subnet: config.subnet, ...(config.gateway ? { Gateway: config.gateway } : {}) })),
            },
            Labels: labelMap(inputs.labels),
        });
    },
    async remove(ctx, resource) {
        const inputs = resource.inputs as unknown as NetworkInputs;
        ctx.log(`delete network ${inputs.name}`);
        return removeIfPresent(() => ctx.docker.getNetwork(inputs.name).remove());
    },
    async refresh(ctx, resource) {
        const inputs = resource.inputs as unknown as NetworkInputs;
        return recreateIfMissing(() => ctx.docker.getNetwork(inputs.name).inspect(), () => network.create(ctx, resource));
    },
};

// ---------------------------------------------------------------- volumes

const volume: Handler = {
    async create(ctx, resource) {
        const inputs = resource.inputs as unknown as VolumeInputs;
        ctx.log(`create volume ${inputs.name}`);
        // Like the provider: Docker hands back an existing volume of that name (e.g. one retained earlier).
        await ctx.docker.createVolume({ Name: inputs.name, Labels: labelMap(inputs.labels) });
    },
    async remove(ctx, resource) {
        const inputs = resource.inputs as unknown as VolumeInputs;
        if (resource.retainOnDelete) {
            ctx.log(`retain volume ${inputs.name} (retainOnDelete)`);
            return "retained";
        }
        ctx.log(`delete volume ${inputs.name}`);
        return removeIfPresent(() => ctx.docker.getVolume(inputs.name).remove());
    },
    async refresh(ctx, resource) {
        const inputs = resource.inputs as unknown as VolumeInputs;
        return recreateIfMissing(() => ctx.docker.getVolume(inputs.name).inspect(), () => volume.create(ctx, resource));
    },
};

// ---------------------------------------------------------------- containers

function containerCreateOptions(inputs: ContainerInputs): Docker.ContainerCreateOptions {
    const exposedPorts: Record<string, object> = {};
    const portBindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const port of inputs.ports ?? []) {
        const key = `${port.internal}/${port.protocol ?? "tcp"}`;
        exposedPorts[key] = {};
        (portBindings[key] ??= []).push({ HostIp: port.ip ?? "0.0.0.0", HostPort: port.external === undefined ? "" : String(port.external) });
    }
    const networks = inputs.networksAdvanced ?? [];
    const first = networks[0];
    const healthcheck = inputs.healthcheck;
    return {
        name: inputs.name,
        Hostname: inputs.hostname,
        Image: inputs.image,
        Cmd: inputs.command,
        Entrypoint: inputs.entrypoints,
        Env: inputs.envs,
        Labels: labelMap(inputs.labels),
        ExposedPorts: exposedPorts,
        Healthcheck: healthcheck && {
            Test: healthcheck.tests,
            Interval: healthcheck.interval === undefined ? undefined : durationToNanoseconds(healthcheck.interval),
            Timeout: healthcheck.timeout === undefined ? undefined : durationToNanoseconds(healthcheck.timeout),
            Retries: healthcheck.retries,
            StartPeriod: healthcheck.startPeriod === undefined ? undefined : durationToNanoseconds(healthcheck.startPeriod),
        },
        HostConfig: {
            PortBindings: portBindings,
            RestartPolicy: { Name: inputs.restart ?? "no" },
            Memory: inputs.memory === undefined ? undefined : inputs.memory * 1024 * 1024,
            Mounts: (inputs.volumes ?? []).map((mount) => ({
                Type: "volume" as const,
                Source: mount.volumeName,
                Target: mount.containerPath,
                ReadOnly: mount.readOnly ?? false,
            })),
            NetworkMode: first?.name ?? "default",
        },
        NetworkingConfig: first ? { EndpointsConfig: { [first.name]: endpointConfig(first) } } : undefined,
    };
}

function endpointConfig(attachment: NonNullable<ContainerInputs["networksAdvanced"]>[number]) {
    return {
        ...(attachment.ipv4Address ? { IPAMConfig: { IPv4Address: attachment.ipv4Address } } : {}),
        Aliases: attachment.aliases ?? [],
    };
}

async function createContainer(ctx: HarnessContext, resource: DeclaredResource): Promise<void> {
    const inputs = resource.inputs as unknown as ContainerInputs;
    ctx.log(`create container ${inputs.name}`);
    const container = await ctx.docker.createContainer(containerCreateOptions(inputs));
    timing(ctx, resource.name).createdAt = Date.now();
    for (const extra of (inputs.networksAdvanced ?? []).slice(1)) {
        await ctx.docker.getNetwork(extra.name).connect({ Container: container.id, EndpointConfig: endpointConfig(extra) });
    }
    if ((inputs.uploads ?? []).length > 0) {
        const archive = createTar(
            (inputs.uploads ?? []).map((upload) => ({
                path: upload.file.replace(/^\/+/, ""),
                content: Buffer.from(upload.content, "utf8"),
                mode: upload.executable ? 0o744 : 0o644,
            })),
        );
        await container.putArchive(archive, { path: "/" });
    }
    if (inputs.mustRun !== false) await startContainer(ctx, resource);
}

async function startContainer(ctx: HarnessContext, resource: DeclaredResource): Promise<void> {
    const inputs = resource.inputs as unknown as ContainerInputs;
    try {
        await ctx.docker.getContainer(inputs.name).start();
    } catch (error) {
        if (statusCode(error) !== 304) throw error; // 304: already started
    }
    timing(ctx, resource.name).startedAt = Date.now();
    if (inputs.wait) {
        await waitHealthy(ctx, resource);
    } else {
        const state = (await ctx.docker.getContainer(inputs.name).inspect()).State;
        if (!state.Running) throw new Error(`${inputs.name}: not running after start (${state.Status}, exit code ${state.ExitCode})\n${await containerLogs(ctx.docker, inputs.name)}`);
    }
}

/** Polls the container's health until healthy; fails fast when it goes unhealthy or stops running. */
export async function waitHealthy(ctx: HarnessContext, resource: DeclaredResource): Promise<void> {
    const inputs = resource.inputs as unknown as ContainerInputs;
    const timeoutSeconds = inputs.waitTimeout ?? 60;
    const deadline = Date.now() + timeoutSeconds * 1000;
    const container = ctx.docker.getContainer(inputs.name);
    let restartsAtStart: number | undefined;
    for (;;) {
        const info = await container.inspect();
        const state = info.State;
        restartsAtStart ??= info.RestartCount;
        const health = state.Health?.Status;
        let problem: string | undefined;
        if (health === "healthy") {
            timing(ctx, resource.name).healthyAt = Date.now();
            ctx.log(`container ${inputs.name} is healthy`);
            return;
        }
        if (health === "unhealthy") problem = "became unhealthy";
        else if (!state.Running || state.Restarting) problem = `stopped running (${state.Status}, exit code ${state.ExitCode})`;
        else if (info.RestartCount > restartsAtStart) problem = `exited and was restarted by its restart policy (exit code ${state.ExitCode})`;
        else if (Date.now() > deadline) problem = `not healthy after waitTimeout ${timeoutSeconds}s (health: ${health ?? "none"})`;
        if (problem) {
            const probes = state.Health?.Log ?? [];
            const lastProbe = probes[probes.length - 1];
            throw new Error(
                `${inputs.name}: ${problem}` +
                    (lastProbe ? `\nLast health probe (exit ${lastProbe.ExitCode}): ${lastProbe.Output.trim()}` : "") +
                    `\nLast log lines:\n${await containerLogs(ctx.docker, inputs.name)}`,
            );
        }
        await sleep(1000);
    }
}

const container: Handler = {
    create: createContainer,
    async remove(ctx, resource) {
        const inputs = resource.inputs as unknown as ContainerInputs;
        const handle = ctx.docker.getContainer(inputs.name);
        let running: boolean;
        try {
            running = (await handle.inspect()).State.Running;
        } catch (error) {
            if (isNotFound(error)) return "absent";
            throw error;
        }
        if (running && inputs.destroyGraceSeconds !== undefined) {
            ctx.log(`stop container ${inputs.name} (grace ${inputs.destroyGraceSeconds}s)`);
            try {
                await handle.stop({ t: inputs.destroyGraceSeconds });
            } catch (error) {
                if (statusCode(error) !== 304 && !isNotFound(error)) throw error;
            }
        }
        ctx.log(`delete container ${inputs.name}`);
        try {
            await handle.remove({ force: true, v: true });
        } catch (error) {
            if (isNotFound(error)) return "absent";
            throw error;
        }
        return "deleted";
    },
    async refresh(ctx, resource) {
        const inputs = resource.inputs as unknown as ContainerInputs;
        let state: Docker.ContainerInspectInfo["State"];
        try {
            state = (await ctx.docker.getContainer(inputs.name).inspect()).State;
        } catch (error) {
            if (!isNotFound(error)) throw error;
            ctx.log(`container ${inputs.name} is gone: create it again`);
            await createContainer(ctx, resource);
            return "recreated";
        }
        if (inputs.mustRun === false || (state.Running && !state.Restarting)) return "ok";
        ctx.log(`container ${inputs.name} is ${state.Status}: start it (mustRun)`);
        await startContainer(ctx, resource);
        return "started";
    },
};

export const HANDLERS: Record<string, Handler> = {
    [TYPES.cluster]: nothing,
    [TYPES.randomPassword]: nothing,
    [TYPES.remoteImage]: remoteImage,
    [TYPES.network]: network,
    [TYPES.volume]: volume,
    [TYPES.container]: container,
};

/** The Docker object name a resource creates (for messages and name-clash checks). */
export function dockerName(resource: DeclaredResource): string | undefined {
    return [TYPES.network, TYPES.volume, TYPES.container].includes(resource.type as never) ? String(resource.inputs.name) : undefined;
}

/**
 * The provider side of the harness: what the real providers do to the Docker engine for each resource type
 * (Create, Read, Update, Delete) and what state they hand back to the engine. Each behaviour carries its
 * source; the engine side (when each operation runs) is in apply.ts.
 *
 * Docker types: kreuzwerker/terraform-provider-docker v4 line (bridged by @pulumi/docker 5.x),
 * internal/provider/resource_docker_container_funcs.go (commit f7ce7273, same logic at 4834197),
 * resource_docker_network_funcs.go, resource_docker_volume.go, resource_docker_image_funcs.go.
 * RandomPassword: hashicorp/terraform-provider-random internal/provider/resource_password.go.
 */
import type Docker from "dockerode";
import type { DeclaredResource } from "../../support/declaration";
import { TYPES } from "../../support/declaration";
import { containerLogs, isNotFound, sleep, statusCode } from "./docker";
import { durationToNanoseconds, formatGoDuration } from "./durations";
import { ContainerInputs, HealthcheckInputs, labelMap, NetworkInputs, RemoteImageInputs, VolumeInputs } from "./schema";
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

/** State the provider hands back; undefined from read() means the object is gone (dropped from state). */
export type ProviderState = Record<string, unknown>;

/** A create that made the object but then failed: the engine keeps it in state with init errors. */
export class PartialCreateError extends Error {
    constructor(
        message: string,
        readonly state: ProviderState,
        readonly diagnostics: string,
    ) {
        super(`${message}${diagnostics ? `\n${diagnostics}` : ""}`);
        this.name = "PartialCreateError";
    }
}

interface Provider {
    create(ctx: HarnessContext, resource: DeclaredResource): Promise<ProviderState>;
    read(ctx: HarnessContext, state: DeclaredResource): Promise<ProviderState | undefined>;
    /** `planned`: the new inputs with schema defaults, as the engine will store them. */
    update(ctx: HarnessContext, old: DeclaredResource, next: DeclaredResource, planned: ProviderState): Promise<ProviderState>;
    delete(ctx: HarnessContext, state: DeclaredResource): Promise<void>;
}

function timing(ctx: HarnessContext, name: string): ResourceTiming {
    let entry = ctx.timings.get(name);
    if (!entry) {
        entry = {};
        ctx.timings.set(name, entry);
    }
    return entry;
}

/** Retries `operation` while Docker answers with `busy` in its message, up to `seconds` (the provider's StateChangeConf loops). */
async function retryWhileBusy(operation: () => Promise<unknown>, busy: RegExp, seconds: number): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
        try {
            await operation();
            return;
        } catch (error) {
            if (!busy.test(String((error as Error).message)) || Date.now() > deadline) throw error;
            await sleep(1000);
        }
    }
}

/** Inspects an engine object; undefined when it is gone, which every provider Read turns into "drop from state". */
async function inspectOrGone<T>(inspect: () => Promise<T>): Promise<T | undefined> {
    try {
        return await inspect();
    } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
    }
}

/** Removes an engine object, taking one that is already gone as removed, and retrying while Docker says `busy`. */
async function removeRetryingWhileBusy(remove: () => Promise<unknown>, busy: RegExp): Promise<void> {
    await retryWhileBusy(
        async () => {
            try {
                await remove();
            } catch (error) {
                if (!isNotFound(error)) throw error;
            }
        },
        busy,
        30,
    );
}

/** The Docker name of a network or volume as the state knows it. */
const objectName = (state: DeclaredResource) => String(state.outputs.name ?? state.inputs.name);

const labelList = (labels: Record<string, string> | undefined) => Object.entries(labels ?? {}).map(([label, value]) => ({ label, value }));

// ---------------------------------------------------------------- component and random

const noProvider: Provider = {
    create: async (_ctx, resource) => resource.outputs,
    read: async (_ctx, state) => state.outputs,
    update: async (_ctx, _old, next) => next.outputs,
    delete: async () => undefined,
};

/**
 * resource_password.go: Create generates `result` (here the mocked provider already did, and the program
 * used it); Read does nothing ("Read does not need to perform any operations"); Delete does nothing; every
 * argument RequiresReplace.
 */
const randomPassword: Provider = noProvider;

/** resource_id.go: the same shape (Create generates bytes, which the mocked provider did; Read and Delete do nothing). */
const randomId: Provider = noProvider;

// ---------------------------------------------------------------- images

/**
 * docker_image: Create finds the image locally or pulls it (findImage); the harness never pulls, so a
 * missing image is an error naming the build script. Read looks the image up by name and drops the
 * resource when it is gone; image_id is the local id. Delete removes nothing while keep_locally is true.
 */
const remoteImage: Provider = {
    async create(ctx, resource) {
        const inputs = resource.inputs as unknown as RemoteImageInputs;
        const imageId = await localImage(ctx, inputs.name);
        if (!imageId) {
            throw new Error(`${resource.name}: image ${inputs.name} is not present locally and the harness never pulls; run bash tests/e2e/images/build.sh`);
        }
        return { ...resource.inputs, imageId, repoDigest: "" };
    },
    async read(ctx, state) {
        const imageId = await localImage(ctx, String(state.outputs.name));
        return imageId ? { ...state.outputs, imageId } : undefined;
    },
    async update(ctx, _old, next) {
        return remoteImage.create(ctx, next);
    },
    delete: async () => undefined,
};

async function localImage(ctx: HarnessContext, name: string): Promise<string | undefined> {
    return (await inspectOrGone(() => ctx.docker.getImage(name).inspect()))?.Id;
}

// ---------------------------------------------------------------- built images

/**
 * pulumi-docker's native Image (provider/image.go). Create and Update build (here the provider fake already
 * built at registration, as the real engine does when the program registers the image; the step checks that
 * the tag holds that build); Read does nothing ("we do no reconciliation"); Delete does nothing (tags stay).
 */
const builtImage: Provider = {
    async create(ctx, resource) {
        const imageName = String(resource.inputs.imageName);
        const id = await localImage(ctx, imageName);
        if (id !== resource.outputs.repoDigest) throw new Error(`${resource.name}: ${imageName} is ${id ?? "missing"}, not the build ${String(resource.outputs.repoDigest)} the program saw`);
        return resource.outputs;
    },
    read: async (_ctx, state) => state.outputs,
    async update(ctx, _old, next) {
        return builtImage.create(ctx, next);
    },
    delete: async () => undefined,
};

// ---------------------------------------------------------------- networks

/**
 * docker_network: Create = NetworkCreate (no check_duplicate since v4), then Read. Read drops the resource
 * when the network is gone ("Network (%s) not found, removing from state"). Delete retries while the network
 * "has active endpoints" (30 s) and takes a missing network as removed.
 */
const network: Provider = {
    async create(ctx, resource) {
        const inputs = resource.inputs as unknown as NetworkInputs;
        ctx.log(`create network ${inputs.name}`);
        await ctx.docker.createNetwork({
            Name: inputs.name,
            Driver: inputs.driver ?? "bridge",
            IPAM: {
                Driver: "default",
                Config: (inputs.ipamConfigs ?? []).map((config) => ({ Subnet: config.subnet, ...(config.gateway ? { Gateway: config.gateway } : {}) })),
            },
            Labels: labelMap(inputs.labels),
        });
        return (await network.read(ctx, resource))!;
    },
    async read(ctx, state) {
        const info = await inspectOrGone<Docker.NetworkInspectInfo>(() => ctx.docker.getNetwork(objectName(state)).inspect());
        if (!info) return undefined;
        return {
            ...state.outputs,
            name: info.Name,
            driver: info.Driver,
            labels: labelList(info.Labels),
            ipamConfigs: (info.IPAM?.Config ?? []).map((config) => ({ subnet: config.Subnet ?? "", gateway: config.Gateway ?? "", ipRange: config.IPRange ?? "" })),
        };
    },
    async update() {
        throw new Error("docker_network has no Update: every argument is ForceNew");
    },
    async delete(ctx, state) {
        ctx.log(`delete network ${objectName(state)}`);
        await removeRetryingWhileBusy(() => ctx.docker.getNetwork(objectName(state)).remove(), /has active endpoints/);
    },
};

// ---------------------------------------------------------------- volumes

/**
 * docker_volume: Create = VolumeCreate (Docker hands back an existing volume of that name, e.g. one kept by
 * retainOnDelete), then Read. Read drops the resource when the volume is gone (errdefs.IsNotFound, since
 * PR #749). Delete = VolumeRemove(force) retried while "volume is in use" (30 s).
 */
const volume: Provider = {
    async create(ctx, resource) {
        const inputs = resource.inputs as unknown as VolumeInputs;
        ctx.log(`create volume ${inputs.name}`);
        await ctx.docker.createVolume({ Name: inputs.name, Labels: labelMap(inputs.labels) });
        return (await volume.read(ctx, resource))!;
    },
    async read(ctx, state) {
        const info = await inspectOrGone<Docker.VolumeInspectInfo>(() => ctx.docker.getVolume(objectName(state)).inspect());
        return info && { ...state.outputs, name: info.Name, labels: labelList(info.Labels) };
    },
    async update() {
        throw new Error("docker_volume updates only swarm cluster volumes in place; the harness models none");
    },
    async delete(ctx, state) {
        ctx.log(`delete volume ${objectName(state)}`);
        await removeRetryingWhileBusy(() => ctx.docker.getVolume(objectName(state)).remove({ force: true }), /in use/);
    },
};

// ---------------------------------------------------------------- containers

/** Memory inputs in MB as the provider sends them: memory × 1 MiB when set; memory_swap × 1 MiB when > 0, -1 as is, 0 not sent. */
function memoryBytes(inputs: ContainerInputs): { Memory?: number; MemorySwap?: number } {
    return {
        ...(inputs.memory ? { Memory: inputs.memory * 1024 * 1024 } : {}),
        ...(inputs.memorySwap ? { MemorySwap: inputs.memorySwap > 0 ? inputs.memorySwap * 1024 * 1024 : inputs.memorySwap } : {}),
    };
}

/** resourceDockerContainerCreate: healthcheck durations via time.ParseDuration (errors ignored: 0). */
function healthcheckConfig(healthcheck: HealthcheckInputs | undefined) {
    if (!healthcheck) return undefined;
    const nanoseconds = (value: string | undefined) => {
        if (value === undefined) return 0;
        try {
            return durationToNanoseconds(value);
        } catch {
            return 0;
        }
    };
    return {
        Test: healthcheck.tests,
        Interval: nanoseconds(healthcheck.interval),
        Timeout: nanoseconds(healthcheck.timeout),
        StartPeriod: nanoseconds(healthcheck.startPeriod),
        Retries: healthcheck.retries ?? 0,
    };
}

/**
 * resourceDockerContainerCreate, in its order: ContainerCreate on the default network mode ("bridge"), the id
 * is recorded at once; then, with networks_advanced, disconnect "bridge" and connect each network with its
 * aliases and IPv4 address; then uploads (CopyToContainer, mode 0744 when executable, else 0644); then
 * ContainerStart (start defaults to true) and, with wait, a poll of State.Health.Status every second until
 * "healthy" — it does not stop on "unhealthy" or on an exit, only on wait_timeout ("container failed to be in
 * healthy state"), leaving the container where it is; the Terraform SDK bounds the whole create by its
 * default 20-minute timeout. It ends with Read.
 */
async function createContainer(ctx: HarnessContext, resource: DeclaredResource): Promise<ProviderState> {
    const inputs = resource.inputs as unknown as ContainerInputs;
    const startedCreate = Date.now();
    if (!(await localImage(ctx, inputs.image))) {
        throw new Error(`${resource.name}: image ${inputs.image} is not present locally and the harness never pulls`);
    }
    ctx.log(`create container ${inputs.name}`);
    const exposedPorts: Record<string, object> = {};
    const portBindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const port of inputs.ports ?? []) {
        const key = `${port.internal}/${port.protocol ?? "tcp"}`;
        exposedPorts[key] = {};
        (portBindings[key] ??= []).push({ HostIp: port.ip ?? "0.0.0.0", HostPort: port.external === undefined ? "" : String(port.external) });
    }
    const created = await ctx.docker.createContainer({
        name: inputs.name,
        Hostname: inputs.hostname,
        Image: inputs.image,
        Cmd: inputs.command,
        Entrypoint: inputs.entrypoints,
        Env: inputs.envs,
        Labels: labelMap(inputs.labels),
        ExposedPorts: exposedPorts,
        Healthcheck: healthcheckConfig(inputs.healthcheck),
        HostConfig: {
            PortBindings: portBindings,
            RestartPolicy: { Name: inputs.restart ?? "no", MaximumRetryCount: 0 },
            ...memoryBytes(inputs),
            Binds: (inputs.volumes ?? []).map((mount) => `${mount.volumeName}:${mount.containerPath}${mount.readOnly ? ":ro" : ""}`),
            NetworkMode: "bridge",
        },
    });
    timing(ctx, resource.name).createdAt = Date.now();
    const planned = plannedContainerState(inputs);

    if ((inputs.networksAdvanced ?? []).length > 0) {
        await ctx.docker
            .getNetwork("bridge")
            .disconnect({ Container: created.id })
            .catch((error: Error) => {
                if (!/is not connected to the network bridge/.test(error.message)) throw error;
            });
        for (const attachment of inputs.networksAdvanced ?? []) {
            await ctx.docker.getNetwork(attachment.name).connect({
                Container: created.id,
                EndpointConfig: { Aliases: attachment.aliases ?? [], ...(attachment.ipv4Address ? { IPAMConfig: { IPv4Address: attachment.ipv4Address } } : {}) },
            });
        }
    }
    if ((inputs.uploads ?? []).length > 0) {
        const archive = createTar(
            (inputs.uploads ?? []).map((upload) => ({
                path: upload.file.replace(/^\/+/, ""),
                content: Buffer.from(upload.content, "utf8"),
                mode: upload.executable ? 0o744 : 0o644,
            })),
        );
        await created.putArchive(archive, { path: "/" });
    }

    await created.start();
    timing(ctx, resource.name).startedAt = Date.now();
    if (inputs.wait) {
        const waitSeconds = Math.min(inputs.waitTimeout ?? 60, CREATE_TIMEOUT_SECONDS - (Date.now() - startedCreate) / 1000);
        const deadline = Date.now() + waitSeconds * 1000;
        for (;;) {
            const info = await created.inspect();
            if (!info.State.Health) {
                throw new PartialCreateError("you have supplied a 'wait' argument, but the container does not have a healthcheck defined", planned, "");
            }
            if (info.State.Health.Status === "healthy") break;
            if (Date.now() > deadline) {
                throw new PartialCreateError(`container failed to be in healthy state`, planned, await waitDiagnostics(ctx, inputs.name, info));
            }
            await sleep(1000);
        }
        timing(ctx, resource.name).healthyAt = Date.now();
        ctx.log(`container ${inputs.name} is healthy`);
    }
    return (await readContainer(ctx, { ...resource, outputs: planned }))!;
}

/** The Terraform SDK's default create timeout (helper/schema ResourceData.Timeout: 20 minutes); docker_container sets none. */
export const CREATE_TIMEOUT_SECONDS = 20 * 60;

/** Not provider behaviour: what the harness adds to the provider's error so a failed run can be diagnosed. */
async function waitDiagnostics(ctx: HarnessContext, name: string, info: Docker.ContainerInspectInfo): Promise<string> {
    const probes = info.State.Health?.Log ?? [];
    const lastProbe = probes[probes.length - 1];
    return (
        `[harness diagnostics for ${name}] state ${info.State.Status}, health ${info.State.Health?.Status}, restarts ${info.RestartCount}` +
        (lastProbe ? `\nLast health probe (exit ${lastProbe.ExitCode}): ${lastProbe.Output.trim()}` : "") +
        `\nLast log lines:\n${await containerLogs(ctx.docker, name)}`
    );
}

/** The inputs with the schema defaults the plan fills in (restart "no", must_run true, wait false, wait_timeout 60, port ip/protocol). */
export function plannedContainerState(inputs: ContainerInputs): ProviderState {
    return {
        ...inputs,
        restart: inputs.restart ?? "no",
        mustRun: inputs.mustRun ?? true,
        wait: inputs.wait ?? false,
        waitTimeout: inputs.waitTimeout ?? 60,
        ports: (inputs.ports ?? []).map((port) => ({ ...port, ip: port.ip ?? "0.0.0.0", protocol: port.protocol ?? "tcp" })),
    };
}

/**
 * resourceDockerContainerRead. Gone → dropped from state. Sets name, hostname, image (the container's image
 * id when the configured image is a sha256 id), command, entrypoint, restart, memory (bytes / 1 MiB),
 * memory_swap (/ 1 MiB when > 0, else as is), healthcheck (durations with time.Duration.String()), and ports
 * from NetworkSettings.Ports — only while the container runs or must_run is true, so a stopped container
 * reads back with no ports; a stopped container with must_run true reads back must_run false ("Setting
 * must_run to false in state to trigger update"). env, labels, volumes, upload, networks_advanced, wait,
 * wait_timeout and destroy_grace_seconds are never read: the state keeps what was planned.
 */
async function readContainer(ctx: HarnessContext, state: DeclaredResource): Promise<ProviderState | undefined> {
    const info = await inspectOrGone(() => ctx.docker.getContainer(objectName(state)).inspect());
    if (!info) return undefined;
    const read: ProviderState = { ...state.outputs };
    read.name = info.Name.replace(/^\//, "");
    read.hostname = info.Config.Hostname;
    read.image = String(state.outputs.image ?? "").startsWith("sha256:") ? info.Image : info.Config.Image;
    read.command = info.Config.Cmd ?? [];
    read.entrypoints = info.Config.Entrypoint ?? [];
    read.restart = info.HostConfig.RestartPolicy?.Name ?? "no";
    read.memory = Math.trunc((info.HostConfig.Memory ?? 0) / (1024 * 1024));
    const swap = info.HostConfig.MemorySwap ?? 0;
    read.memorySwap = swap > 0 ? Math.trunc(swap / (1024 * 1024)) : swap;
    const healthcheck = (info.Config as { Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number } }).Healthcheck;
    if (healthcheck) {
        read.healthcheck = {
            tests: healthcheck.Test ?? [],
            interval: formatGoDuration(healthcheck.Interval ?? 0),
            timeout: formatGoDuration(healthcheck.Timeout ?? 0),
            startPeriod: formatGoDuration(healthcheck.StartPeriod ?? 0),
            startInterval: formatGoDuration(healthcheck.StartInterval ?? 0),
            retries: healthcheck.Retries ?? 0,
        };
    }
    const mustRun = state.outputs.mustRun !== false;
    if (info.State.Running || mustRun) read.ports = flattenContainerPorts(info.NetworkSettings.Ports ?? {});
    if (!info.State.Running && mustRun) read.mustRun = false;
    return read;
}

/**
 * resource_docker_container_structures.go flattenContainerPorts: the port keys sorted by port number (byPortAndProtocol),
 * then one entry per host binding in the order Docker lists them (Docker 20.10 lists several bindings of one port
 * in the reverse of their creation order, measured here).
 */
function flattenContainerPorts(ports: Record<string, { HostIp: string; HostPort: string }[] | null>): ProviderState[] {
    return Object.entries(ports)
        .sort(([a], [b]) => Number(a.split("/")[0]) - Number(b.split("/")[0]))
        .flatMap(([key, bindings]) => {
            const [internal, protocol] = key.split("/");
            return (bindings ?? []).map((binding) => ({ internal: Number(internal), external: Number(binding.HostPort), ip: binding.HostIp, protocol }));
        });
}

/**
 * resourceDockerContainerUpdate: starts the container when must_run goes false → true; when restart,
 * max_retry_count, cpu_shares, memory, memory_reservation, cpu_set or memory_swap changed, one ContainerUpdate
 * with the restart policy and the resources (memory_swap only when non-zero). It never restarts the container,
 * never applies a healthcheck, and does not Read afterwards: the state is the plan.
 */
async function updateContainer(ctx: HarnessContext, old: DeclaredResource, _next: DeclaredResource, planned: ProviderState): Promise<ProviderState> {
    const before = old.outputs as unknown as ContainerInputs;
    const after = planned as unknown as ContainerInputs;
    const name = String(after.name);
    if (before.mustRun === false && after.mustRun !== false) {
        ctx.log(`start container ${name} (must_run false → true)`);
        await ctx.docker.getContainer(name).start();
    }
    const changed = (key: keyof ContainerInputs) => JSON.stringify(before[key] ?? null) !== JSON.stringify(after[key] ?? null);
    if (changed("restart") || changed("memory") || changed("memorySwap")) {
        ctx.log(`update container ${name} in place (docker update: restart policy, memory)`);
        await ctx.docker.getContainer(name).update({
            RestartPolicy: { Name: after.restart ?? "no", MaximumRetryCount: 0 },
            CpuShares: 0,
            Memory: (after.memory ?? 0) * 1024 * 1024,
            MemoryReservation: 0,
            CpusetCpus: "",
            ...(after.memorySwap ? { MemorySwap: after.memorySwap > 0 ? after.memorySwap * 1024 * 1024 : after.memorySwap } : {}),
        });
    }
    return planned;
}

/**
 * resourceDockerContainerDelete: ContainerStop with destroy_grace_seconds (0 when unset) — an error here is
 * not ignored, so deleting a container that is already gone fails until a refresh drops it — then
 * ContainerRemove with force and remove_volumes (default true).
 */
async function deleteContainer(ctx: HarnessContext, state: DeclaredResource): Promise<void> {
    const inputs = state.outputs as unknown as ContainerInputs;
    const handle = ctx.docker.getContainer(inputs.name);
    ctx.log(`stop container ${inputs.name} (grace ${inputs.destroyGraceSeconds ?? 0}s)`);
    try {
        await handle.stop({ t: inputs.destroyGraceSeconds ?? 0 });
    } catch (error) {
        // 304: already stopped, which the Docker client reports as success.
        if (statusCode(error) !== 304) throw new Error(`Error stopping container ${inputs.name}: ${(error as Error).message}`);
    }
    ctx.log(`delete container ${inputs.name}`);
    try {
        await handle.remove({ force: true, v: true });
    } catch (error) {
        if (!isNotFound(error) && !/already in progress/.test(String((error as Error).message))) throw error;
    }
}

const container: Provider = { create: createContainer, read: readContainer, update: updateContainer, delete: deleteContainer };

export const PROVIDERS: Record<string, Provider> = {
    [TYPES.cluster]: noProvider,
    [TYPES.randomPassword]: randomPassword,
    [TYPES.randomId]: randomId,
    // An explicit provider holds configuration only: nothing to create, read or delete on an engine.
    [TYPES.dockerProvider]: noProvider,
    [TYPES.remoteImage]: remoteImage,
    [TYPES.image]: builtImage,
    [TYPES.network]: network,
    [TYPES.volume]: volume,
    [TYPES.container]: container,
};

/** The state the engine stores for a new resource before its create returns: the plan (inputs with defaults). */
export function plannedState(resource: DeclaredResource): ProviderState {
    if (resource.type === TYPES.container) return plannedContainerState(resource.inputs as unknown as ContainerInputs);
    if (resource.type === TYPES.randomPassword || resource.type === TYPES.randomId || resource.type === TYPES.remoteImage || resource.type === TYPES.image) return resource.outputs;
    return { ...resource.inputs };
}

/** The Docker object name a resource creates (for messages and name-clash checks). */
export function dockerName(resource: DeclaredResource): string | undefined {
    return [TYPES.network, TYPES.volume, TYPES.container].includes(resource.type as never) ? String(resource.inputs.name) : undefined;
}

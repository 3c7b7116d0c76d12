/**
 * The provider schemas the harness models, per resource type and attribute (Pulumi's camelCase names):
 * what it understands (anything else in a declaration is an error before anything is applied, so no
 * configuration is ever silently dropped), and how the real provider diffs each attribute: ForceNew
 * (a change replaces), Computed (no diff while the program leaves it unset), and the schema default.
 *
 * Sources, read for this model (kreuzwerker/terraform-provider-docker v4 line, bridged by @pulumi/docker 5.x):
 *  - Container: internal/provider/resource_docker_container.go, resourceDockerContainer() (commit 4834197).
 *  - Network: resource_docker_network.go (no UpdateContext: every argument ForceNew).
 *  - Volume: resource_docker_volume.go (name, labels, driver ForceNew; Update covers only swarm clusters).
 *  - RemoteImage = TF docker_image: resource_docker_image.go (name ForceNew, keep_locally in place).
 *  - RandomPassword: hashicorp/terraform-provider-random internal/provider/resource_password.go
 *    (every argument RequiresReplace).
 *  - docker Provider: @pulumi/docker 5.2.0 provider.d.ts (ProviderArgs).
 *  - RandomId: the same repository, internal/provider/resource_id.go (byte_length and prefix RequiresReplace,
 *    keepers RequiresReplaceIfValuesNotNull: a changed non-null keeper replaces).
 * SDKv2 has no null for primitives: an unset string/number/bool is "", 0, false and an unset list/set is empty,
 * which is how values are compared here.
 */
import type { Declaration, DeclaredResource } from "../../support/declaration";
import { TYPES } from "../../support/declaration";
import { durationToNanoseconds } from "./durations";

interface Rules {
    /** A change replaces the resource (schema ForceNew / RequiresReplace). */
    forceNew?: boolean;
    /** Optional+Computed: while the program leaves it unset, whatever the state holds is kept (no diff). */
    computed?: boolean;
    /** Schema default, planned when the program leaves it unset. */
    default?: unknown;
}

export type Spec = Rules &
    (
        | { kind: "string"; oneOf?: string[]; check?: (value: string) => string | undefined }
        | { kind: "number"; integer?: boolean; min?: number; max?: number }
        | { kind: "boolean"; only?: boolean; why?: string }
        /** `set`: TypeSet, compared without order. */
        | { kind: "list"; of: Spec; set?: boolean }
        | { kind: "object"; fields: Record<string, Spec>; required?: string[] }
        /** A map of string values under any keys. */
        | { kind: "map" }
    );

const str = (rules: Rules & { oneOf?: string[]; check?: (value: string) => string | undefined } = {}): Spec => ({ kind: "string", ...rules });
const int = (min?: number, max?: number, rules: Rules = {}): Spec => ({ kind: "number", integer: true, min, max, ...rules });
const bool = (rules: Rules = {}): Spec => ({ kind: "boolean", ...rules });
const list = (of: Spec, rules: Rules = {}): Spec => ({ kind: "list", of, ...rules });
const set = (of: Spec, rules: Rules = {}): Spec => ({ kind: "list", of, set: true, ...rules });
const obj = (fields: Record<string, Spec>, required: string[] = [], rules: Rules = {}): Spec => ({ kind: "object", fields, required, ...rules });

const duration = (rules: Rules = {}) =>
    str({
        ...rules,
        check: (value) => {
            try {
                durationToNanoseconds(value);
                return undefined;
            } catch (error) {
                return (error as Error).message;
            }
        },
    });
const labelSet = (rules: Rules) => set(obj({ label: str({ forceNew: true }), value: str({ forceNew: true }) }, ["label", "value"]), rules);

const FN = { forceNew: true } as const;
const stringMap: Spec = { kind: "map" };

export const INPUT_SPECS: Record<string, Spec> = {
    [TYPES.cluster]: obj({}),
    // pulumi-docker's explicit provider (ProviderArgs in @pulumi/docker 5.2.0): the SDK hands non-string
    // provider inputs over JSON-encoded, so sshOpts arrives as text. Only unix:// hosts are reachable here.
    [TYPES.dockerProvider]: obj(
        {
            host: str({ check: (value) => (value.startsWith("unix://") ? undefined : "the harness reaches engines through unix:// sockets only") }),
            sshOpts: str(),
            caMaterial: str(),
            certMaterial: str(),
            keyMaterial: str(),
        },
        ["host"],
    ),
    // resource_password.go: length RequiresReplace; special/upper/lower/numeric Optional+Computed, default true, RequiresReplace.
    [TYPES.randomPassword]: obj(
        {
            length: int(1, 4096, FN),
            special: bool({ forceNew: true, default: true }),
            upper: bool({ forceNew: true, default: true }),
            lower: bool({ forceNew: true, default: true }),
            numeric: bool({ forceNew: true, default: true }),
        },
        ["length"],
    ),
    // resource_id.go: every argument replaces (keepers as long as its values are set, as ours always are).
    [TYPES.randomId]: obj({ byteLength: int(1, 1024, FN), keepers: { ...stringMap, forceNew: true }, prefix: str(FN) }, ["byteLength"]),
    // resource_docker_image.go: name ForceNew; keep_locally not ForceNew (Update re-finds the image).
    [TYPES.remoteImage]: obj(
        {
            name: str(FN),
            keepLocally: { kind: "boolean", only: true, why: "the harness never removes images, so keepLocally must be true" },
        },
        ["name"],
    ),
    // pulumi-docker's native Image (provider/image.go): its Diff never asks for a replacement (every change is
    // an in-place rebuild) and compares the checked inputs, contextDigest included. The harness builds with
    // the classic builder only (the engine here has no BuildKit) and never pushes.
    [TYPES.image]: obj(
        {
            imageName: str(),
            skipPush: { kind: "boolean", only: true, why: "the harness never pushes, so skipPush must be true" },
            // The SDK sends its default (false): no build during a preview, which the harness never runs.
            buildOnPreview: { kind: "boolean", only: false, why: "the harness does not build during previews" },
            build: obj(
                {
                    context: str(),
                    dockerfile: str(),
                    args: stringMap,
                    builderVersion: str({ oneOf: ["BuilderV1"] }),
                    platform: str(),
                    contextDigest: str(),
                },
                ["context", "dockerfile", "contextDigest"],
            ),
        },
        ["imageName", "build"],
    ),
    // resource_docker_network.go: no UpdateContext, so every argument is ForceNew; driver and ipam_config Computed.
    [TYPES.network]: obj(
        {
            name: str(FN),
            driver: str({ forceNew: true, computed: true, oneOf: ["bridge"] }),
            ipamConfigs: set(obj({ subnet: str(FN), gateway: str(FN), ipRange: str(FN) }, ["subnet"]), { forceNew: true, computed: true }),
            labels: labelSet(FN),
        },
        ["name"],
    ),
    // resource_docker_volume.go: name Optional+Computed+ForceNew, labels ForceNew (not Computed).
    [TYPES.volume]: obj({ name: str({ forceNew: true, computed: true }), labels: labelSet(FN) }, ["name"]),
    // resource_docker_container.go.
    [TYPES.container]: obj(
        {
            name: str(FN),
            hostname: str({ forceNew: true, computed: true }),
            image: str(FN),
            command: list(str(), { forceNew: true, computed: true }),
            entrypoints: list(str(), { forceNew: true, computed: true }),
            envs: set(str({ check: (value) => (value.includes("=") ? undefined : "must be KEY=value") }), { forceNew: true, computed: true }),
            networksAdvanced: set(obj({ name: str(FN), ipv4Address: str(FN), aliases: set(str(), FN) }, ["name"]), FN),
            ports: list(
                obj(
                    {
                        internal: int(1, 65535, FN),
                        external: int(1, 65535, { forceNew: true, computed: true }),
                        ip: str({ forceNew: true, default: "0.0.0.0" }),
                        protocol: str({ forceNew: true, default: "tcp", oneOf: ["tcp", "udp"] }),
                    },
                    ["internal"],
                ),
                FN,
            ),
            // Optional+Computed, MaxItems 1, not ForceNew — and Update never applies it to the container.
            healthcheck: list(
                obj(
                    {
                        tests: list(str()),
                        interval: duration({ default: "0s" }),
                        timeout: duration({ default: "0s" }),
                        startPeriod: duration({ default: "0s" }),
                        startInterval: duration({ default: "0s" }),
                        retries: int(0, undefined, { default: 0 }),
                    },
                    ["tests"],
                ),
                { computed: true },
            ),
            restart: str({ default: "no", oneOf: ["no", "on-failure", "always", "unless-stopped"] }),
            volumes: set(obj({ volumeName: str(FN), containerPath: str(FN), readOnly: bool(FN) }, ["volumeName", "containerPath"]), FN),
            uploads: set(
                obj(
                    {
                        file: str({ forceNew: true, check: (value) => (value.startsWith("/") ? undefined : "must be an absolute path") }),
                        content: str(FN),
                        executable: bool({ forceNew: true, default: false }),
                    },
                    ["file", "content"],
                ),
                FN,
            ),
            labels: labelSet({ forceNew: true, computed: true }),
            wait: bool({ default: false }),
            waitTimeout: int(1, undefined, { default: 60 }),
            destroyGraceSeconds: int(0),
            memory: int(6),
            // validateIntegerGeqThan(-1): -1 is unlimited swap.
            memorySwap: int(-1),
            mustRun: bool({ default: true }),
        },
        ["name", "image"],
    ),
};

/**
 * The healthcheck is declared as one object but is a MaxItems-1 list in the provider schema; the harness
 * works on the list form internally. These helpers keep that detail in one place.
 */
export function schemaValue(type: string, key: string, value: unknown): unknown {
    if (type === TYPES.container && key === "healthcheck" && value !== undefined && value !== null && !Array.isArray(value)) return [value];
    return value;
}

function check(spec: Spec, value: unknown, path: string, problems: string[]): void {
    if (value === undefined || value === null) return;
    switch (spec.kind) {
        case "string":
            if (typeof value !== "string") return void problems.push(`${path}: expected a string, got ${JSON.stringify(value)}`);
            if (spec.oneOf && !spec.oneOf.includes(value)) problems.push(`${path}: "${value}" is not supported (one of ${spec.oneOf.join(", ")})`);
            {
                const message = spec.check?.(value);
                if (message) problems.push(`${path}: ${message}`);
            }
            return;
        case "number":
            if (typeof value !== "number" || Number.isNaN(value)) return void problems.push(`${path}: expected a number, got ${JSON.stringify(value)}`);
            if (spec.integer && !Number.isInteger(value)) problems.push(`${path}: expected a whole number, got ${value}`);
            if (spec.min !== undefined && value < spec.min) problems.push(`${path}: ${value} is below ${spec.min}`);
            if (spec.max !== undefined && value > spec.max) problems.push(`${path}: ${value} is above ${spec.max}`);
            return;
        case "boolean":
            if (typeof value !== "boolean") return void problems.push(`${path}: expected true or false, got ${JSON.stringify(value)}`);
            if (spec.only !== undefined && value !== spec.only) problems.push(`${path}: ${spec.why ?? `only ${spec.only} is supported`}`);
            return;
        case "list":
            if (!Array.isArray(value)) return void problems.push(`${path}: expected a list, got ${JSON.stringify(value)}`);
            value.forEach((item, index) => check(spec.of, item, `${path}[${index}]`, problems));
            return;
        case "map":
            if (typeof value !== "object" || Array.isArray(value) || Object.values(value as object).some((item) => typeof item !== "string")) {
                problems.push(`${path}: expected a map of strings`);
            }
            return;
        case "object": {
            if (typeof value !== "object" || Array.isArray(value)) return void problems.push(`${path}: expected an object`);
            const record = value as Record<string, unknown>;
            for (const key of Object.keys(record)) {
                if (!Object.hasOwn(spec.fields, key)) problems.push(`${path}.${key}: not understood by the e2e harness (it would be silently dropped)`);
                else check(spec.fields[key], record[key], `${path}.${key}`, problems);
            }
            for (const key of spec.required ?? []) {
                if (record[key] === undefined || record[key] === null) problems.push(`${path}.${key}: required by the e2e harness`);
            }
            return;
        }
    }
}

/** The spec of a top-level attribute, in the provider's (list) shape. */
export function attributeSpec(type: string, key: string): Spec | undefined {
    const spec = INPUT_SPECS[type];
    return spec?.kind === "object" ? spec.fields[key] : undefined;
}

/** Every problem with one resource: unknown type, unknown or unmappable inputs, missing outputs we rely on. */
export function resourceProblems(resource: DeclaredResource): string[] {
    const where = `${resource.name} (${resource.type})`;
    const spec = INPUT_SPECS[resource.type];
    if (!spec) return [`${where}: resource type not understood by the e2e harness`];
    const problems: string[] = [];
    const asDeclared = { ...resource.inputs };
    if (resource.type === TYPES.container && asDeclared.healthcheck !== undefined) {
        // Declared as an object (the Pulumi SDK's shape); checked against the list element's fields.
        const healthcheckSpec = attributeSpec(TYPES.container, "healthcheck") as Extract<Spec, { kind: "list" }>;
        check(healthcheckSpec.of, asDeclared.healthcheck, `${where} inputs.healthcheck`, problems);
        delete asDeclared.healthcheck;
    }
    check(spec, asDeclared, `${where} inputs`, problems);
    if (resource.type === TYPES.remoteImage && typeof resource.outputs.imageId !== "string") {
        problems.push(`${where}: outputs.imageId missing (declare with a ProviderFake that resolves local images)`);
    }
    if (resource.type === TYPES.image && !/^sha256:/.test(String(resource.outputs.repoDigest))) {
        problems.push(`${where}: outputs.repoDigest missing (declare with a ProviderFake that builds images)`);
    }
    if (resource.type === TYPES.randomPassword && typeof resource.outputs.result !== "string") {
        problems.push(`${where}: outputs.result missing`);
    }
    if (resource.type === TYPES.randomId && !/^[0-9a-f]+$/.test(String(resource.outputs.hex))) {
        problems.push(`${where}: outputs.hex missing`);
    }
    if (resource.type === TYPES.container) {
        const inputs = resource.inputs as { wait?: boolean; healthcheck?: unknown; mustRun?: boolean };
        if (inputs.wait && !inputs.healthcheck) problems.push(`${where}: wait=true needs a healthcheck (the provider fails without one)`);
    }
    for (const path of resource.replaceOnChanges) {
        if (!/^[A-Za-z]+$/.test(path) || !attributeSpec(resource.type, path)) problems.push(`${where}: replaceOnChanges "${path}" is not a top-level attribute the harness models`);
    }
    return problems;
}

/** Throws one error listing every problem of the declaration. */
export function validateDeclaration(declaration: Declaration): void {
    const problems = declaration.resources.flatMap(resourceProblems);
    const names = new Set<string>();
    for (const resource of declaration.resources) {
        const key = `${resource.type}::${resource.name}`;
        if (names.has(key)) problems.push(`${resource.name} (${resource.type}): declared twice`);
        names.add(key);
    }
    const declared = new Set(declaration.resources.map((resource) => resource.name));
    for (const resource of declaration.resources) {
        for (const dependency of resource.dependsOn) {
            if (!declared.has(dependency)) problems.push(`${resource.name}: depends on ${dependency}, which is not declared`);
        }
    }
    if (problems.length > 0) throw new Error(`The e2e harness cannot apply this declaration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
}

export interface LabelInput {
    label: string;
    value: string;
}

export interface HealthcheckInputs {
    tests: string[];
    interval?: string;
    timeout?: string;
    retries?: number;
    startPeriod?: string;
    startInterval?: string;
}

export interface ContainerInputs {
    name: string;
    hostname?: string;
    image: string;
    command?: string[];
    entrypoints?: string[];
    envs?: string[];
    networksAdvanced?: { name: string; ipv4Address?: string; aliases?: string[] }[];
    ports?: { internal: number; external?: number; ip?: string; protocol?: string }[];
    healthcheck?: HealthcheckInputs;
    restart?: string;
    volumes?: { volumeName: string; containerPath: string; readOnly?: boolean }[];
    uploads?: { file: string; content: string; executable?: boolean }[];
    labels?: LabelInput[];
    wait?: boolean;
    waitTimeout?: number;
    destroyGraceSeconds?: number;
    /** Memory limit in MB, as the Docker provider takes it. */
    memory?: number;
    /** Memory plus swap in MB; -1 is unlimited. */
    memorySwap?: number;
    mustRun?: boolean;
}

export interface NetworkInputs {
    name: string;
    driver?: string;
    ipamConfigs?: { subnet: string; gateway?: string }[];
    labels?: LabelInput[];
}

export interface VolumeInputs {
    name: string;
    labels?: LabelInput[];
}

export interface RemoteImageInputs {
    name: string;
    keepLocally?: boolean;
}

export function labelMap(labels: LabelInput[] | undefined): Record<string, string> {
    return Object.fromEntries((labels ?? []).map(({ label, value }) => [label, value]));
}

/**
 * What the harness understands, per resource type, as an explicit allow-list. Anything else in a
 * declaration (an unknown type, an unknown input, a nested field we do not map, a value we cannot honour)
 * is an error before anything is applied, so configuration can never be silently dropped.
 */
import type { Declaration, DeclaredResource } from "../../support/declaration";
import { TYPES } from "../../support/declaration";
import { durationToNanoseconds } from "./durations";

type Spec =
    | { kind: "string"; oneOf?: string[]; check?: (value: string) => string | undefined }
    | { kind: "number"; integer?: boolean; min?: number; max?: number }
    | { kind: "boolean"; only?: boolean; why?: string }
    | { kind: "list"; of: Spec }
    | { kind: "object"; fields: Record<string, Spec>; required?: string[] };

const str = (extra: Omit<Extract<Spec, { kind: "string" }>, "kind"> = {}): Spec => ({ kind: "string", ...extra });
const int = (min?: number, max?: number): Spec => ({ kind: "number", integer: true, min, max });
const bool: Spec = { kind: "boolean" };
const list = (of: Spec): Spec => ({ kind: "list", of });
const obj = (fields: Record<string, Spec>, required: string[] = []): Spec => ({ kind: "object", fields, required });

const duration = str({
    check: (value) => {
        try {
            durationToNanoseconds(value);
            return undefined;
        } catch (error) {
            return (error as Error).message;
        }
    },
});
const labels = list(obj({ label: str(), value: str() }, ["label", "value"]));

export const INPUT_SPECS: Record<string, Spec> = {
    [TYPES.cluster]: obj({}),
    [TYPES.randomPassword]: obj({ length: int(1, 4096), special: bool, upper: bool, lower: bool, numeric: bool }, ["length"]),
    [TYPES.remoteImage]: obj(
        {
            name: str(),
            keepLocally: { kind: "boolean", only: true, why: "the harness never removes images, so keepLocally must be true" },
        },
        ["name"],
    ),
    [TYPES.network]: obj(
        {
            name: str(),
            driver: str({ oneOf: ["bridge"] }),
            ipamConfigs: list(obj({ subnet: str(), gateway: str() }, ["subnet"])),
            labels,
        },
        ["name"],
    ),
    [TYPES.volume]: obj({ name: str(), labels }, ["name"]),
    [TYPES.container]: obj(
        {
            name: str(),
            hostname: str(),
            image: str(),
            command: list(str()),
            entrypoints: list(str()),
            envs: list(str({ check: (value) => (value.includes("=") ? undefined : "must be KEY=value") })),
            networksAdvanced: list(obj({ name: str(), ipv4Address: str(), aliases: list(str()) }, ["name"])),
            ports: list(obj({ internal: int(1, 65535), external: int(1, 65535), ip: str(), protocol: str({ oneOf: ["tcp", "udp"] }) }, ["internal"])),
            healthcheck: obj(
                {
                    tests: list(str()),
                    interval: duration,
                    timeout: duration,
                    retries: int(0),
                    startPeriod: duration,
                },
                ["tests"],
            ),
            restart: str({ oneOf: ["no", "on-failure", "always", "unless-stopped"] }),
            volumes: list(obj({ volumeName: str(), containerPath: str(), readOnly: bool }, ["volumeName", "containerPath"])),
            uploads: list(
                obj(
                    {
                        file: str({ check: (value) => (value.startsWith("/") ? undefined : "must be an absolute path") }),
                        content: str(),
                        executable: bool,
                    },
                    ["file", "content"],
                ),
            ),
            labels,
            wait: bool,
            waitTimeout: int(1),
            destroyGraceSeconds: int(0),
            memory: int(6),
            mustRun: bool,
        },
        ["name", "image"],
    ),
};

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
        case "object": {
            if (typeof value !== "object" || Array.isArray(value)) return void problems.push(`${path}: expected an object`);
            const record = value as Record<string, unknown>;
            for (const key of Object.keys(record)) {
                if (!(key in spec.fields)) problems.push(`${path}.${key}: not understood by the e2e harness (it would be silently dropped)`);
                else check(spec.fields[key], record[key], `${path}.${key}`, problems);
            }
            for (const key of spec.required ?? []) {
                if (record[key] === undefined || record[key] === null) problems.push(`${path}.${key}: required by the e2e harness`);
            }
            return;
        }
    }
}

/** Every problem with one resource: unknown type, unknown or unmappable inputs, missing outputs we rely on. */
export function resourceProblems(resource: DeclaredResource): string[] {
    const where = `${resource.name} (${resource.type})`;
    const spec = INPUT_SPECS[resource.type];
    if (!spec) return [`${where}: resource type not understood by the e2e harness`];
    const problems: string[] = [];
    check(spec, resource.inputs, `${where} inputs`, problems);
    if (resource.type === TYPES.remoteImage && typeof resource.outputs.imageId !== "string") {
        problems.push(`${where}: outputs.imageId missing (declare with a ProviderFake that resolves local images)`);
    }
    if (resource.type === TYPES.randomPassword && typeof resource.outputs.result !== "string") {
        problems.push(`${where}: outputs.result missing`);
    }
    if (resource.type === TYPES.container) {
        const inputs = resource.inputs as { wait?: boolean; healthcheck?: unknown; mustRun?: boolean };
        if (inputs.wait && !inputs.healthcheck) problems.push(`${where}: wait=true needs a healthcheck the harness can poll`);
        if (inputs.wait && inputs.mustRun === false) problems.push(`${where}: wait=true with mustRun=false cannot be honoured`);
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

export interface ContainerInputs {
    name: string;
    hostname?: string;
    image: string;
    command?: string[];
    entrypoints?: string[];
    envs?: string[];
    networksAdvanced?: { name: string; ipv4Address?: string; aliases?: string[] }[];
    ports?: { internal: number; external?: number; ip?: string; protocol?: string }[];
    healthcheck?: { tests: string[]; interval?: string; timeout?: string; retries?: number; startPeriod?: string };
    restart?: string;
    volumes?: { volumeName: string; containerPath: string; readOnly?: boolean }[];
    uploads?: { file: string; content: string; executable?: boolean }[];
    labels?: LabelInput[];
    wait?: boolean;
    waitTimeout?: number;
    destroyGraceSeconds?: number;
    /** Memory limit in MB, as the Docker provider takes it. */
    memory?: number;
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

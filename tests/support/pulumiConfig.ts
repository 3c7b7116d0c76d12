/**
 * What the Pulumi CLI (v3.248) does with Pulumi.yaml's `config:` block and a stack's config before the
 * program runs, modelled on pulumi/pulumi sdk/go/common/workspace/config.go (`mergeConfig`,
 * `validateStackConfigValues`, `validateStackConfigValue`, `parseConfigKey`) and project.go
 * (`ValidateConfigValue`, `Project.Validate`). Every up/preview/destroy runs this through
 * `ValidateStackConfigAndApplyProjectConfig` and prefixes failures with "validating stack config: ".
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as yaml from "js-yaml";

export interface ProjectConfigType {
    type?: string;
    default?: unknown;
    value?: unknown;
    secret?: boolean;
    description?: string;
    items?: unknown;
}

export interface Project {
    name: string;
    config?: Record<string, ProjectConfigType>;
}

/** One stack config value as the stack file holds it: `secure` is a value set with `config set --secret`. */
export interface StackValue {
    value: string;
    secure: boolean;
}

export class PulumiConfigError extends Error {}

const ROOT = join(__dirname, "../..");

export function loadProject(file = join(ROOT, "Pulumi.yaml")): Project {
    return yaml.load(readFileSync(file, "utf8")) as Project;
}

/** A stack file's `config:` block; `secure:` entries (ciphertext) are taken as set with --secret. */
export function loadStackFile(file: string): Record<string, StackValue> {
    const parsed = (yaml.load(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | undefined)?.config ?? {};
    const values: Record<string, StackValue> = {};
    for (const [key, raw] of Object.entries(parsed)) {
        if (raw !== null && typeof raw === "object" && "secure" in raw) values[key] = { value: String((raw as { secure: unknown }).secure), secure: true };
        else values[key] = { value: String(raw), secure: false };
    }
    return values;
}

/** config.go parseConfigKey: a key without a namespace belongs to the project. */
export function namespacedKey(projectName: string, key: string): string {
    return key.includes(":") ? key : `${projectName}:${key}`;
}

/** project.go Project.Validate: checks made when Pulumi.yaml is loaded, before any stack is read. */
export function projectProblems(project: Project): string[] {
    const problems: string[] = [];
    for (const [key, spec] of Object.entries(project.config ?? {})) {
        const ownKey = !key.includes(":") || key.startsWith(`${project.name}:`);
        if (!ownKey) {
            if (spec.type !== undefined) problems.push(`Configuration key '${key}' is not namespaced by the project and should not define a type`);
            if (spec.default !== undefined) problems.push(`Configuration key '${key}' is not namespaced by the project and should not define a default value`);
            continue;
        }
        if (spec.default !== undefined && spec.value !== undefined) problems.push(`project config '${key}' cannot have both a 'default' and 'value' attribute`);
        if (spec.type !== undefined && spec.default !== undefined && !valueHasType(spec.type, spec.default)) {
            problems.push(`The default value specified for configuration key '${key}' is not of the expected type '${spec.type}'`);
        }
    }
    return problems;
}

/** project.go ValidateConfigValue for the scalar types this project uses. */
function valueHasType(type: string, value: unknown): boolean {
    switch (type) {
        case "string":
            return typeof value === "string";
        case "integer":
            if (typeof value === "number") return Number.isInteger(value);
            // "Allow strings here if they parse as integers" (strconv.Atoi: optional sign, digits).
            return typeof value === "string" && /^[+-]?\d+$/.test(value);
        case "boolean":
            return typeof value === "boolean" || value === "true" || value === "false";
        default:
            throw new PulumiConfigError(`the config model does not cover type '${type}'`);
    }
}

/**
 * config.go mergeConfig: fills project defaults into the stack as plain values, reports keys with neither,
 * then validates every typed key (encrypted when `secret: true`, of its declared type). Returns the config
 * the program sees (every project key, namespaced) and which keys are secret.
 */
export function mergeStackConfig(project: Project, stackName: string, stack: Record<string, StackValue>): { config: Record<string, string>; secretKeys: string[] } {
    const problems = projectProblems(project);
    if (problems.length > 0) throw new PulumiConfigError(problems.join("\n"));
    const merged = new Map<string, StackValue>();
    for (const [key, value] of Object.entries(stack)) merged.set(namespacedKey(project.name, key), value);

    const missing: string[] = [];
    const projectKeys = Object.keys(project.config ?? {}).sort();
    for (const key of projectKeys) {
        const spec = project.config![key];
        const fullKey = namespacedKey(project.name, key);
        if (merged.has(fullKey)) continue;
        const fallback = spec.value ?? spec.default;
        if (fallback === undefined) {
            if (fullKey.startsWith(`${project.name}:`)) missing.push(key);
            continue;
        }
        // createConfigValue: fmt.Sprintf("%v", raw), never secure.
        merged.set(fullKey, { value: String(fallback), secure: false });
    }
    if (missing.length > 0) {
        const quoted = missing.map((key) => `'${key}'`);
        const list = quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(", ")} and ${quoted[quoted.length - 1]}`;
        throw new PulumiConfigError(`validating stack config: Stack '${stackName}' is missing configuration ${missing.length === 1 ? "value" : "values"} ${list}`);
    }

    for (const key of projectKeys) {
        const spec = project.config![key];
        if (spec.type === undefined) continue; // IsExplicitlyTyped: untyped keys are never checked
        const value = merged.get(namespacedKey(project.name, key));
        if (!value) continue;
        if (spec.secret && !value.secure) {
            throw new PulumiConfigError(`validating stack config: Stack '${stackName}' with configuration key '${key}' must be encrypted as it's secret`);
        }
        if (!valueHasType(spec.type, value.value)) {
            throw new PulumiConfigError(`validating stack config: Stack '${stackName}' with configuration key '${key}' must be of type '${spec.type}'`);
        }
    }
    return {
        config: Object.fromEntries([...merged].map(([key, value]) => [key, value.value])),
        secretKeys: [...merged].filter(([, value]) => value.secure).map(([key]) => key).sort(),
    };
}

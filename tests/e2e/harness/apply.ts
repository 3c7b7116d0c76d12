/**
 * The engine side of the harness: what `pulumi up`, `pulumi up --refresh`, `pulumi up --replace` and
 * `pulumi destroy` do with a deployment's state and a new declaration. Each rule names its source in
 * pulumi/pulumi (pkg/resource/deploy/step_generator.go, deployment_executor.go, step.go) and in the
 * Terraform bridge (pulumi-terraform-bridge pkg/tfbridge/provider.go); the provider side is resources.ts.
 *
 * - Diff: new inputs against the STATE (old outputs), never the live object: no Read runs during `up`
 *   unless --refresh (step_generator.go diffResource → provider Diff with Olds = old.Outputs).
 * - A changed ForceNew attribute replaces; any other change updates in place; `replaceOnChanges` turns a
 *   change of a listed input into a replacement (applyReplaceOnChanges).
 * - Replacement is delete-before-replace when the resource asks for it, and always for docker.Container
 *   (pulumi-docker provider/resources.go: "docker_container": {DeleteBeforeReplace: true}). Otherwise the new
 *   object is created first and the old one deleted at the end.
 * - A delete-before-replace also deletes first, in reverse dependency order, every resource whose inputs are
 *   computed from the replaced one and would be replaced by that (calculateDependentReplacements); a plain
 *   `dependsOn` edge never does.
 * - Each resource's steps run when everything it depends on has finished (the SDK registers a resource only
 *   once its dependencies are done); independent resources run in parallel (unbounded parallelism).
 * - Deletes of removed resources and of the old halves of create-before-delete replacements run last, in
 *   reverse dependency order (performDeletes); retainOnDelete skips the provider's delete.
 * - A create that fails after the object exists leaves it in state with InitErrors; the next `up` with the
 *   same inputs sends it an empty update, which clears them ("generate an empty update step").
 * - Refresh: provider Read for every resource; gone ones are dropped (and created by the next `up`); refresh
 *   clears InitErrors (deployment_executor.go refresh, step.go RefreshStep).
 * - On a failed step no new step starts, running ones finish, and pending deletes do not run; the state keeps
 *   what was done.
 * - A resource with an explicit provider is created, read, updated and deleted on that provider's engine (its
 *   `host`). A resource whose provider changes is not modelled: newer engines ask the new provider's
 *   DiffConfig whether to replace (step_generator.go providerChanged, pulumi/pulumi#18509), and the docker
 *   provider does not force a replacement for `host`, so the object would stay on the old engine. The program
 *   never does it: a resource's name carries its host.
 */
import type { Declaration, DeclaredResource } from "../../support/declaration";
import { TYPES } from "../../support/declaration";
import { engineClient } from "./docker";
import { HarnessContext, PartialCreateError, plannedState, PROVIDERS, ProviderState, ResourceTiming } from "./resources";
import { attributeSpec, schemaValue, Spec, validateDeclaration } from "./schema";

export type StepKind = "same" | "create" | "update" | "replace";

export interface ResourceDiff {
    /** Top-level attributes whose planned value differs from the state. */
    changed: string[];
    /** The changed attributes that force a replacement (ForceNew, or listed in replaceOnChanges). */
    replaceKeys: string[];
}

export interface PreviewResult {
    created: string[];
    updated: string[];
    replaced: string[];
    deleted: string[];
    untouched: string[];
    /** Why each updated or replaced resource changes: its changed attributes. */
    changes: Record<string, ResourceDiff>;
}

export interface ApplyResult extends PreviewResult {
    /** The deployment's state after the apply (what Pulumi's checkpoint would hold). */
    state: Declaration;
    /** Container timings of this apply, epoch ms. */
    timings: Record<string, ResourceTiming>;
    /** Names in the order their steps ran, e.g. "delete kc-node-1", "create kc-node-1". */
    operations: string[];
    seconds: number;
}

export interface RefreshResult {
    state: Declaration;
    /** Resources whose state the Read changed. */
    changed: string[];
    /** Resources whose object is gone: dropped from the state. */
    removed: string[];
}

export interface DestroyResult {
    deleted: string[];
    retained: string[];
}

/** An apply that failed part-way: `state` is what the deployment holds now. */
export class ApplyError extends Error {
    constructor(
        message: string,
        readonly state: Declaration,
        readonly operations: string[],
    ) {
        super(message);
        this.name = "ApplyError";
    }
}

/**
 * Deep equality of JSON-like values that ignores which realm created the objects (a declaration may come
 * from a saved JSON file or from a jest sandbox) and the order of object keys.
 */
export function sameValue(a: unknown, b: unknown): boolean {
    if (a === b) return true;
    if (Array.isArray(a) || Array.isArray(b)) {
        return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, index) => sameValue(item, b[index]));
    }
    if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
    const left = a as Record<string, unknown>;
    const right = b as Record<string, unknown>;
    const keys = Object.keys(left).filter((key) => left[key] !== undefined);
    return keys.length === Object.keys(right).filter((key) => right[key] !== undefined).length && keys.every((key) => sameValue(left[key], right[key]));
}

/**
 * A value as the Terraform SDK (v2) plans it: unset primitives are their zero value, unset lists empty,
 * schema defaults filled in, sets ordered canonically. Computed attributes the program leaves unset are
 * handled by the caller (they keep the state's value).
 */
function normalize(spec: Spec, value: unknown): unknown {
    if (value === undefined || value === null) {
        if (spec.default !== undefined) return normalize(spec, spec.default);
        switch (spec.kind) {
            case "string":
                return "";
            case "number":
                return 0;
            case "boolean":
                return false;
            case "list":
                return [];
            case "object":
                return normalize(spec, {});
        }
    }
    switch (spec.kind) {
        case "list": {
            const items = (value as unknown[]).map((item) => normalize(spec.of, item));
            return spec.set ? items.map((item) => JSON.stringify(item)).sort().map((item) => JSON.parse(item)) : items;
        }
        case "object": {
            const record = value as Record<string, unknown>;
            return Object.fromEntries(Object.keys(spec.fields).sort().map((key) => [key, normalize(spec.fields[key], record[key])]));
        }
        case "map":
            return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)));
        default:
            return value;
    }
}

/** The provider's Diff for one resource: new inputs against the state it holds (bridge: TF plan vs prior state). */
export function diffResource(type: string, stateOutputs: Record<string, unknown>, newInputs: Record<string, unknown>, replaceOnChanges: string[]): ResourceDiff {
    const changed: string[] = [];
    const replaceKeys: string[] = [];
    const keys = new Set([...Object.keys(newInputs), ...Object.keys(stateOutputs)]);
    for (const key of [...keys].sort()) {
        const spec = attributeSpec(type, key);
        if (!spec) continue; // computed-only state (image id, mountpoint …) is not an input
        const next = newInputs[key];
        if ((next === undefined || next === null) && spec.computed) continue;
        const before = normalize(spec, schemaValue(type, key, stateOutputs[key]));
        const after = normalize(spec, schemaValue(type, key, next));
        if (sameValue(before, after)) continue;
        changed.push(key);
        if (spec.forceNew || replaceOnChanges.includes(key)) replaceKeys.push(key);
    }
    return { changed, replaceKeys };
}

const keyOf = (resource: { type: string; name: string }) => `${resource.type}::${resource.name}`;

function byKey(resources: DeclaredResource[] | undefined): Map<string, DeclaredResource> {
    return new Map((resources ?? []).map((resource) => [keyOf(resource), resource]));
}

const usesDeleteBeforeReplace = (resource: DeclaredResource) => resource.deleteBeforeReplace || resource.type === TYPES.container;

interface Plan extends PreviewResult {
    kinds: Map<string, StepKind>;
    /** For a delete-before-replace root: the dependents its chain deletes first (dependency order). */
    deletedFirst: Map<string, string[]>;
    /** Names (in the new declaration) whose old object a root's chain deletes, so their own step only creates. */
    recreating: Set<string>;
}

/**
 * What `pulumi up` would do (its preview), given the state and the new declaration. `replaceTargets` is
 * `pulumi up --replace`. Pure: nothing runs.
 */
export function plan(state: Declaration | undefined, next: Declaration, replaceTargets: string[] = []): Plan {
    const olds = byKey(state?.resources);
    const news = byKey(next.resources);
    const kinds = new Map<string, StepKind>();
    const changes: Record<string, ResourceDiff> = {};
    for (const resource of next.resources) {
        const old = olds.get(keyOf(resource));
        if (!old) {
            kinds.set(resource.name, "create");
            continue;
        }
        if ((old.provider ?? "") !== (resource.provider ?? "")) {
            throw new Error(`${resource.name}: its provider changes from ${old.provider ?? "the default"} to ${resource.provider ?? "the default"}, which the harness does not model`);
        }
        // The native Image diffs its old checked inputs; the bridged resources diff their state.
        const diff = diffResource(resource.type, resource.type === TYPES.image ? old.inputs : old.outputs, resource.inputs, resource.replaceOnChanges);
        let kind: StepKind = diff.replaceKeys.length > 0 ? "replace" : diff.changed.length > 0 ? "update" : "same";
        if (replaceTargets.includes(resource.name)) kind = "replace";
        // An unchanged resource with init errors gets an empty update, which clears them.
        if (kind === "same" && (old.initErrors ?? []).length > 0) kind = "update";
        kinds.set(resource.name, kind);
        if (kind !== "same") changes[resource.name] = diff;
    }

    // calculateDependentReplacements: resources (in the old state) whose inputs come from a resource being
    // replaced delete-before-replace, and whose Diff with those inputs unknown says "replace".
    const deletedFirst = new Map<string, string[]>();
    const recreating = new Set<string>();
    const oldResources = state?.resources ?? [];
    for (const root of next.resources) {
        if (kinds.get(root.name) !== "replace" || !usesDeleteBeforeReplace(root) || recreating.has(root.name)) continue;
        const replaceSet = new Set([root.name]);
        const chain: string[] = [];
        for (const dependent of dependingOn(oldResources, root.name)) {
            const unknownInputs = Object.entries(dependent.propertyDependencies)
                .filter(([, names]) => names.some((name) => replaceSet.has(name)))
                .map(([key]) => key);
            if (unknownInputs.length === 0) continue;
            // An unknown value differs from anything: the dependent is replaced when one of those inputs forces it.
            const replaces = unknownInputs.some((key) => attributeSpec(dependent.type, key)?.forceNew || dependent.replaceOnChanges.includes(key));
            if (!replaces) continue;
            replaceSet.add(dependent.name);
            chain.push(dependent.name);
            if (news.has(keyOf(dependent))) {
                recreating.add(dependent.name);
                kinds.set(dependent.name, "replace");
                changes[dependent.name] ??= { changed: unknownInputs, replaceKeys: unknownInputs };
            }
        }
        deletedFirst.set(root.name, chain);
    }

    const deleted = oldResources.filter((resource) => !news.has(keyOf(resource))).map((resource) => resource.name);
    const named = (kind: StepKind) => next.resources.filter((resource) => kinds.get(resource.name) === kind).map((resource) => resource.name).sort();
    return {
        created: named("create"),
        updated: named("update"),
        replaced: named("replace"),
        deleted: deleted.sort(),
        untouched: named("same"),
        changes,
        kinds,
        deletedFirst,
        recreating,
    };
}

/** Same as {@link plan}, without the internals: what `pulumi preview` reports. */
export function preview(state: Declaration | undefined, next: Declaration, replaceTargets: string[] = []): PreviewResult {
    return previewOf(plan(state, next, replaceTargets));
}

function previewOf({ created, updated, replaced, deleted, untouched, changes }: Plan): PreviewResult {
    return { created, updated, replaced, deleted, untouched, changes };
}

/** Every resource that depends on `name`, directly or transitively, in dependency order (graph.DependingOn). */
function dependingOn(resources: DeclaredResource[], name: string): DeclaredResource[] {
    const found = new Set<string>([name]);
    const result: DeclaredResource[] = [];
    let grew = true;
    while (grew) {
        grew = false;
        for (const resource of resources) {
            if (found.has(resource.name)) continue;
            if (resource.dependsOn.some((dependency) => found.has(dependency))) {
                found.add(resource.name);
                result.push(resource);
                grew = true;
            }
        }
    }
    return result;
}

/**
 * Runs `run` for every item once all of its dependencies (within `items`) have finished, as many at once as
 * the graph allows. On a failure nothing new starts; the running ones finish and every error is reported.
 */
async function runGraph(items: string[], dependencies: (item: string) => string[], run: (item: string) => Promise<void>): Promise<void> {
    const pending = new Set(items);
    const done = new Set<string>();
    const running = new Map<string, Promise<void>>();
    const errors: Error[] = [];
    const ready = (item: string) => dependencies(item).every((dependency) => !pending.has(dependency) || done.has(dependency));
    for (;;) {
        if (errors.length === 0) {
            for (const item of [...pending]) {
                if (!done.has(item) && !running.has(item) && ready(item)) {
                    running.set(
                        item,
                        run(item).then(
                            () => {
                                done.add(item);
                                running.delete(item);
                            },
                            (error: Error) => {
                                errors.push(error);
                                running.delete(item);
                            },
                        ),
                    );
                }
            }
        }
        if (running.size === 0) break;
        await Promise.race(running.values());
    }
    if (errors.length > 0) {
        throw errors.length === 1 ? errors[0] : new Error(errors.map((error) => error.message).join("\n\n"));
    }
    const stuck = [...pending].filter((item) => !done.has(item));
    if (stuck.length > 0) throw new Error(`Dependency cycle among: ${stuck.join(", ")}`);
}

/** The context whose engine is the one `resource`'s provider (found in `declaration`) talks to. */
function onEngineOf(ctx: HarnessContext, declaration: Declaration | undefined, resource: DeclaredResource): HarnessContext {
    if (!resource.provider) return ctx;
    const provider = declaration?.resources.find((candidate) => candidate.type === TYPES.dockerProvider && candidate.name === resource.provider);
    if (!provider) throw new Error(`${resource.name}: its provider ${resource.provider} is not in the declaration`);
    return { ...ctx, docker: engineClient(ctx.docker, String(provider.inputs.host)) };
}

/** The deployment state as it evolves during one operation; `snapshot()` is what a checkpoint would hold. */
class Deployment {
    private readonly resources = new Map<string, DeclaredResource>();
    constructor(
        initial: Declaration | undefined,
        private readonly stackOutputs: Record<string, unknown> = initial?.stackOutputs ?? {},
        private readonly secretStackOutputs: string[] = initial?.secretStackOutputs ?? [],
    ) {
        for (const resource of initial?.resources ?? []) this.resources.set(keyOf(resource), resource);
    }
    get(resource: { type: string; name: string }) {
        return this.resources.get(keyOf(resource));
    }
    set(resource: DeclaredResource) {
        this.resources.set(keyOf(resource), resource);
    }
    remove(resource: { type: string; name: string }) {
        this.resources.delete(keyOf(resource));
    }
    snapshot(outputs?: { stackOutputs: Record<string, unknown>; secretStackOutputs: string[] }): Declaration {
        return {
            resources: [...this.resources.values()].sort((a, b) => a.urn.localeCompare(b.urn)),
            stackOutputs: outputs?.stackOutputs ?? this.stackOutputs,
            secretStackOutputs: outputs?.secretStackOutputs ?? this.secretStackOutputs,
            warnings: [],
        };
    }
}

/**
 * The state after an update: the plan, keeping the state's value of the attributes the Terraform-bridged
 * provider computes and the program leaves unset. The native Image and the mocked-provider outputs
 * (passwords, image ids) come whole from the new declaration.
 */
function plannedAfterUpdate(old: DeclaredResource, next: DeclaredResource): ProviderState {
    const planned = { ...plannedState(next) };
    if (![TYPES.container, TYPES.network, TYPES.volume].includes(next.type as never)) return planned;
    for (const [key, value] of Object.entries(old.outputs)) {
        const spec = attributeSpec(next.type, key);
        if (!spec || (spec.computed && (next.inputs[key] === undefined || next.inputs[key] === null))) planned[key] = value;
    }
    return planned;
}

export interface ApplyOptions {
    /** `pulumi up --replace <urn>`: replace these resources whatever their diff. */
    replace?: string[];
}

/** `pulumi up` (without --refresh: call {@link refresh} first and declare against its state for that). */
export async function apply(ctx: HarnessContext, state: Declaration | undefined, next: Declaration, options: ApplyOptions = {}): Promise<ApplyResult> {
    validateDeclaration(next);
    const started = Date.now();
    const planned = plan(state, next, options.replace ?? []);
    ctx.log(
        `plan: ${planned.created.length} to create, ${planned.updated.length} to update, ${planned.replaced.length} to replace, ${planned.deleted.length} to delete, ${planned.untouched.length} unchanged` +
            (
                [
                    ["create", planned.created],
                    ["update", planned.updated],
                    ["replace", planned.replaced],
                    ["delete", planned.deleted],
                ] as [string, string[]][]
            )
                .filter(([, names]) => names.length > 0)
                .map(([verb, names]) => `; ${verb} ${names.join(", ")}`)
                .join(""),
    );
    const deployment = new Deployment(state);
    const olds = byKey(state?.resources);
    const timings = new Map<string, ResourceTiming>();
    const stepCtx: HarnessContext = { ...ctx, timings };
    const operations: string[] = [];
    const deletedEarly = new Set<string>();
    const deleteAtEnd: DeclaredResource[] = [];

    const deleteOld = async (old: DeclaredResource) => {
        operations.push(`delete ${old.name}`);
        if (!old.retainOnDelete) await PROVIDERS[old.type].delete(onEngineOf(stepCtx, state, old), old);
        deployment.remove(old);
    };
    const create = async (resource: DeclaredResource) => {
        operations.push(`create ${resource.name}`);
        try {
            const outputs = await PROVIDERS[resource.type].create(onEngineOf(stepCtx, next, resource), resource);
            deployment.set({ ...resource, outputs, initErrors: undefined });
        } catch (error) {
            if (error instanceof PartialCreateError) deployment.set({ ...resource, outputs: error.state, initErrors: [error.message.split("\n")[0]] });
            throw new Error(`${resource.name}: creating failed: ${(error as Error).message}`);
        }
    };

    const byName = new Map(next.resources.map((resource) => [resource.name, resource]));
    try {
        await runGraph(
            next.resources.map((resource) => resource.name),
            (name) => byName.get(name)!.dependsOn,
            async (name) => {
                const resource = byName.get(name)!;
                const old = olds.get(keyOf(resource));
                switch (planned.kinds.get(name)!) {
                    case "same":
                        deployment.set({ ...resource, outputs: old!.outputs, initErrors: old!.initErrors });
                        return;
                    case "create":
                        await create(resource);
                        return;
                    case "update": {
                        operations.push(`update ${name}`);
                        const outputs = await PROVIDERS[resource.type].update(onEngineOf(stepCtx, next, resource), old!, resource, plannedAfterUpdate(old!, resource));
                        deployment.set({ ...resource, outputs, initErrors: undefined });
                        return;
                    }
                    case "replace":
                        if (planned.recreating.has(name) || deletedEarly.has(name)) {
                            await create(resource);
                        } else if (usesDeleteBeforeReplace(resource)) {
                            // Dependents first, in reverse dependency order, then the resource itself.
                            for (const dependentName of [...(planned.deletedFirst.get(name) ?? [])].reverse()) {
                                const dependent = (state?.resources ?? []).find((r) => r.name === dependentName)!;
                                if (deletedEarly.has(dependentName)) continue;
                                deletedEarly.add(dependentName);
                                await deleteOld(dependent);
                            }
                            await deleteOld(old!);
                            await create(resource);
                        } else {
                            await create(resource);
                            deleteAtEnd.push(old!);
                        }
                        return;
                }
            },
        );
        const newKeys = byKey(next.resources);
        const gone = (state?.resources ?? []).filter((resource) => !newKeys.has(keyOf(resource)) && !deletedEarly.has(resource.name));
        await deleteInReverseOrder([...deleteAtEnd, ...gone], deleteOld);
    } catch (error) {
        throw new ApplyError((error as Error).message, deployment.snapshot(), operations);
    }

    for (const [name, entry] of timings) ctx.timings.set(name, entry);
    return {
        ...previewOf(planned),
        state: deployment.snapshot({ stackOutputs: next.stackOutputs, secretStackOutputs: next.secretStackOutputs }),
        timings: Object.fromEntries(timings),
        operations,
        seconds: (Date.now() - started) / 1000,
    };
}

/** Deletes dependents first (a resource goes once nothing left in the set depends on it), independent ones in parallel. */
async function deleteInReverseOrder(resources: DeclaredResource[], remove: (resource: DeclaredResource) => Promise<void>): Promise<void> {
    const byName = new Map(resources.map((resource) => [resource.name, resource]));
    const dependents = (name: string) => resources.filter((resource) => resource.dependsOn.includes(name)).map((resource) => resource.name);
    await runGraph([...byName.keys()], dependents, (name) => remove(byName.get(name)!));
}

/** `pulumi refresh` (also the first half of `pulumi up --refresh`): provider Read of every resource. */
export async function refresh(ctx: HarnessContext, state: Declaration): Promise<RefreshResult> {
    const deployment = new Deployment(state);
    const changed: string[] = [];
    const removed: string[] = [];
    await Promise.all(
        state.resources.map(async (resource) => {
            const outputs = await PROVIDERS[resource.type].read(onEngineOf(ctx, state, resource), resource);
            if (outputs === undefined) {
                removed.push(resource.name);
                deployment.remove(resource);
                return;
            }
            if (!sameValue(outputs, resource.outputs)) changed.push(resource.name);
            deployment.set({ ...resource, outputs, initErrors: undefined });
        }),
    );
    ctx.log(`refresh: ${changed.length} changed${changed.length ? ` (${changed.sort().join(", ")})` : ""}, ${removed.length} gone${removed.length ? ` (${removed.sort().join(", ")})` : ""}`);
    return { state: deployment.snapshot(), changed: changed.sort(), removed: removed.sort() };
}

/** `pulumi destroy`: every resource, dependents first; retainOnDelete resources leave the state but stay. */
export async function destroy(ctx: HarnessContext, state: Declaration): Promise<DestroyResult> {
    const outcome: DestroyResult = { deleted: [], retained: [] };
    await deleteInReverseOrder(state.resources, async (resource) => {
        if (resource.retainOnDelete) {
            outcome.retained.push(resource.name);
            return;
        }
        await PROVIDERS[resource.type].delete(onEngineOf(ctx, state, resource), resource);
        if (resource.type !== TYPES.cluster) outcome.deleted.push(resource.name);
    });
    outcome.deleted.sort();
    outcome.retained.sort();
    return outcome;
}

export function newContext(docker: HarnessContext["docker"], log: HarnessContext["log"] = () => undefined): HarnessContext {
    return { docker, log, timings: new Map() };
}

/**
 * Applies a Declaration to a Docker engine the way `pulumi up` would apply it on top of the previous
 * deployment: diff by name and type, then create, replace and delete only what changed, in dependency
 * order, with independent resources in parallel.
 */
import type { Declaration, DeclaredResource } from "../../support/declaration";
import { TYPES } from "../../support/declaration";
import { dockerName, HANDLERS, HarnessContext, RefreshOutcome, ResourceTiming } from "./resources";
import { ContainerInputs } from "./schema";
import { validateDeclaration } from "./schema";

export interface DiffResult {
    created: string[];
    replaced: string[];
    deleted: string[];
    untouched: string[];
}

export interface ApplyResult extends DiffResult {
    /** Untouched resources found drifted and healed (a stopped container started, a missing one created). */
    refreshed: Record<string, Exclude<RefreshOutcome, "ok">>;
    /** Container timings of this apply, epoch ms. */
    timings: Record<string, ResourceTiming>;
    seconds: number;
}

export interface DestroyResult {
    deleted: string[];
    retained: string[];
    /** Already gone from the engine. */
    absent: string[];
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

const keyOf = (resource: DeclaredResource) => `${resource.type}::${resource.name}`;

function indexByKey(declaration: Declaration | undefined): Map<string, DeclaredResource> {
    return new Map((declaration?.resources ?? []).map((resource) => [keyOf(resource), resource]));
}

/** Docker names a container's inputs point at: its networks and volumes. */
function referencedDockerNames(resource: DeclaredResource): string[] {
    if (resource.type !== TYPES.container) return [];
    const inputs = resource.inputs as unknown as ContainerInputs;
    return [...(inputs.networksAdvanced ?? []).map((n) => n.name), ...(inputs.volumes ?? []).map((v) => v.volumeName)];
}

/**
 * What `pulumi up` would do: same name and type with deep-equal inputs is untouched; any input change is
 * a replacement (every input of Container, Network and Volume forces one); new is created; gone is deleted.
 * A replaced Network or Volume also replaces the containers whose inputs reference it: Docker cannot remove
 * it while they use it, and Pulumi replaces them too (their inputs depend on its outputs).
 */
export function diff(prior: Declaration | undefined, next: Declaration): DiffResult {
    const before = indexByKey(prior);
    const after = indexByKey(next);
    const created: DeclaredResource[] = [];
    const replaced: DeclaredResource[] = [];
    const untouched: DeclaredResource[] = [];
    for (const resource of next.resources) {
        const old = before.get(keyOf(resource));
        if (!old) created.push(resource);
        else if (sameValue(old.inputs, resource.inputs)) untouched.push(resource);
        else replaced.push(resource);
    }
    const deleted = (prior?.resources ?? []).filter((resource) => !after.has(keyOf(resource)));

    const replacedDockerNames = new Set(
        replaced.filter((r) => r.type === TYPES.network || r.type === TYPES.volume).map((r) => dockerName(r)!),
    );
    for (const resource of [...untouched]) {
        if (referencedDockerNames(resource).some((name) => replacedDockerNames.has(name))) {
            untouched.splice(untouched.indexOf(resource), 1);
            replaced.push(resource);
        }
    }
    const names = (list: DeclaredResource[]) => list.map((resource) => resource.name).sort();
    return { created: names(created), replaced: names(replaced), deleted: names(deleted), untouched: names(untouched) };
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

/** Deletes `resources` dependents-first (a resource goes once nothing in the set depends on it). */
async function deleteInReverseOrder(ctx: HarnessContext, resources: DeclaredResource[], outcome?: DestroyResult): Promise<void> {
    const byName = new Map(resources.map((resource) => [resource.name, resource]));
    const dependents = (name: string) => resources.filter((resource) => resource.dependsOn.includes(name)).map((resource) => resource.name);
    await runGraph([...byName.keys()], dependents, async (name) => {
        const resource = byName.get(name)!;
        const result = await HANDLERS[resource.type].remove(ctx, resource);
        if (outcome && result !== "nothing-to-delete") outcome[result === "deleted" ? "deleted" : result === "retained" ? "retained" : "absent"].push(name);
    });
}

function resourcesNamed(declaration: Declaration | undefined, names: string[]): DeclaredResource[] {
    const wanted = new Set(names);
    return (declaration?.resources ?? []).filter((resource) => wanted.has(resource.name));
}

/** Applies `next` on top of `prior` (the last applied declaration, or undefined for a fresh engine). */
export async function apply(ctx: HarnessContext, prior: Declaration | undefined, next: Declaration): Promise<ApplyResult> {
    validateDeclaration(next);
    const started = Date.now();
    const planned = diff(prior, next);
    ctx.log(
        `plan: ${planned.created.length} to create, ${planned.replaced.length} to replace, ${planned.deleted.length} to delete, ${planned.untouched.length} unchanged` +
            [["create", planned.created], ["replace", planned.replaced], ["delete", planned.deleted]]
                .filter(([, names]) => names.length > 0)
                .map(([verb, names]) => `; ${verb} ${(names as string[]).join(", ")}`)
                .join(""),
    );
    const before = indexByKey(prior);
    const after = indexByKey(next);
    const replacedNew = resourcesNamed(next, planned.replaced);
    const oldOf = (resource: DeclaredResource) => before.get(keyOf(resource))!;

    // A replacement deletes first when asked to, or when the new object would clash with the old one's
    // Docker name (a create-before-delete could never succeed for a fixed name).
    const deleteFirst = replacedNew.filter((resource) => resource.deleteBeforeReplace || (dockerName(resource) !== undefined && dockerName(resource) === dockerName(oldOf(resource))));
    await deleteInReverseOrder(ctx, deleteFirst.map(oldOf));

    const createSet = new Set([...planned.created, ...planned.replaced]);
    const refreshed: ApplyResult["refreshed"] = {};
    const timings = new Map<string, ResourceTiming>();
    const applyCtx: HarnessContext = { ...ctx, timings };
    const byName = new Map(next.resources.map((resource) => [resource.name, resource]));
    await runGraph(
        next.resources.map((resource) => resource.name),
        (name) => byName.get(name)!.dependsOn,
        async (name) => {
            const resource = byName.get(name)!;
            const handler = HANDLERS[resource.type];
            if (createSet.has(name)) {
                await handler.create(applyCtx, resource);
            } else {
                const outcome = await handler.refresh(applyCtx, resource);
                if (outcome !== "ok") refreshed[name] = outcome;
            }
        },
    );

    const deleteAfter = replacedNew.filter((resource) => !deleteFirst.includes(resource)).map(oldOf);
    const gone = (prior?.resources ?? []).filter((resource) => !after.has(keyOf(resource)));
    await deleteInReverseOrder(ctx, [...deleteAfter, ...gone]);

    for (const [name, entry] of timings) ctx.timings.set(name, entry);
    return { ...planned, refreshed, timings: Object.fromEntries(timings), seconds: (Date.now() - started) / 1000 };
}

/** Deletes every resource of the declaration, dependents first; volumes with retainOnDelete stay. */
export async function destroy(ctx: HarnessContext, state: Declaration): Promise<DestroyResult> {
    const outcome: DestroyResult = { deleted: [], retained: [], absent: [] };
    await deleteInReverseOrder(ctx, state.resources, outcome);
    for (const list of Object.values(outcome)) list.sort();
    return outcome;
}

/** Deletes the named resources and creates them again from the same declaration (a forced replacement). */
export async function recreate(ctx: HarnessContext, state: Declaration, names: string[]): Promise<void> {
    validateDeclaration(state);
    const resources = resourcesNamed(state, names);
    if (resources.length !== names.length) throw new Error(`Not declared: ${names.filter((n) => !resources.some((r) => r.name === n)).join(", ")}`);
    await deleteInReverseOrder(ctx, resources);
    const byName = new Map(resources.map((resource) => [resource.name, resource]));
    await runGraph(names, (name) => byName.get(name)!.dependsOn, (name) => HANDLERS[byName.get(name)!.type].create(ctx, byName.get(name)!));
}

export function newContext(docker: HarnessContext["docker"], log: HarnessContext["log"] = () => undefined): HarnessContext {
    return { docker, log, timings: new Map() };
}

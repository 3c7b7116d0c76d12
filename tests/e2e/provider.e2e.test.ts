/**
 * The harness's provider model against a real Docker engine, with small containers of the e2e Debian image:
 * each test is a behaviour of the real Docker provider (resources.ts names the source) that the cluster
 * suite and the README rely on. Fails, never skips, without an engine.
 */
import type Docker from "dockerode";
import type { Declaration, DeclaredResource } from "../support/declaration";
import { TYPES } from "../support/declaration";
import { apply, ApplyError, destroy, diffResource, newContext, preview, refresh } from "./harness/apply";
import { connectDocker, ensureEngine } from "./harness/docker";
import { localImageId } from "./harness/providerFake";
import { HarnessContext } from "./harness/resources";
import { ContainerInputs } from "./harness/schema";
import { labelled, removeLabelled } from "./support/cluster";
import { checkImageInputs } from "../support/imageCheck";
import { buildImageV1, ImageBuildInputs } from "./harness/imageBuild";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CLUSTER = "kce2e-provider";
const IMAGE = "keycloak-cluster-e2e/debian:trixie";

let docker: Docker;
let ctx: HarnessContext;
let imageId: string;

function containerResource(name: string, inputs: Partial<ContainerInputs>, options: Partial<DeclaredResource> = {}): DeclaredResource {
    return {
        urn: `urn:pulumi:test::provider::docker:index/container:Container::${name}`,
        type: TYPES.container,
        name,
        parent: "",
        custom: true,
        inputs: {
            name: `${CLUSTER}-${name}`,
            image: imageId,
            command: ["sleep", "600"],
            labels: [{ label: "keycloak-cluster.cluster", value: CLUSTER }],
            destroyGraceSeconds: 1,
            ...inputs,
        },
        secretInputs: [],
        dependsOn: [],
        propertyDependencies: {},
        deleteBeforeReplace: true,
        retainOnDelete: false,
        replaceOnChanges: [],
        outputs: {},
        ...options,
    };
}

const declaration = (...resources: DeclaredResource[]): Declaration => ({ resources, stackOutputs: {}, secretStackOutputs: [], warnings: [] });

beforeAll(async () => {
    docker = connectDocker();
    await ensureEngine(docker);
    imageId = await localImageId(docker, IMAGE);
    ctx = newContext(docker);
    await removeLabelled(docker, CLUSTER);
});

afterAll(async () => {
    if (docker) await removeLabelled(docker, CLUSTER);
});

describe("the Docker provider model on a real engine", () => {
    test("Read writes durations as Go prints them and stores Docker's memorySwap: '180s' and an unset swap show as changes after create", async () => {
        const healthcheck = { tests: ["CMD", "true"], interval: "1s", timeout: "5s", retries: 3, startPeriod: "180s" };
        const loose = declaration(containerResource("loose", { healthcheck, memory: 64 }));
        const created = await apply(ctx, undefined, loose);
        const state = created.state.resources[0].outputs;
        expect(state.healthcheck).toMatchObject({ startPeriod: "3m0s", interval: "1s", startInterval: "0s" });
        expect(state.memorySwap).toBe(128); // Docker's default: twice the memory limit
        expect(preview(created.state, loose)).toMatchObject({ updated: ["loose"], replaced: [] });
        expect(diffResource(TYPES.container, state, loose.resources[0].inputs, []).changed).toEqual(["healthcheck", "memorySwap"]);

        const canonical = declaration(containerResource("canonical", { healthcheck: { ...healthcheck, startPeriod: "3m0s" }, memory: 64, memorySwap: -1 }));
        const settled = await apply(ctx, undefined, canonical);
        expect(settled.state.resources[0].outputs.memorySwap).toBe(-1);
        expect(preview(settled.state, canonical)).toMatchObject({ updated: [], replaced: [], created: [] });
        const reread = await refresh(ctx, settled.state);
        expect(reread.changed).toEqual([]);
        expect(preview(reread.state, canonical)).toMatchObject({ updated: [], replaced: [], created: [] });
        await destroy(ctx, created.state);
        await destroy(ctx, settled.state);
    });

    test("wait polls for healthy only: an unhealthy container that turns healthy in time is created", async () => {
        const slow = declaration(
            containerResource("slow", {
                command: ["bash", "-c", "sleep 4; touch /tmp/ready; sleep 600"],
                healthcheck: { tests: ["CMD", "test", "-f", "/tmp/ready"], interval: "1s", timeout: "1s", retries: 1, startPeriod: "0s" },
                wait: true,
                waitTimeout: 30,
            }),
        );
        const seenUnhealthy = (async () => {
            for (let i = 0; i < 40; i++) {
                const status = await docker
                    .getContainer(`${CLUSTER}-slow`)
                    .inspect()
                    .then((info) => info.State.Health?.Status)
                    .catch(() => undefined);
                if (status === "unhealthy") return true;
                await new Promise((resolve) => setTimeout(resolve, 250));
            }
            return false;
        })();
        const created = await apply(ctx, undefined, slow);
        expect(await seenUnhealthy).toBe(true);
        expect(created.created).toEqual(["slow"]);
        await destroy(ctx, created.state);
    });

    test("wait timing out fails the create, leaves the container, records init errors; the next up only clears them", async () => {
        const never = declaration(
            containerResource("never", { healthcheck: { tests: ["CMD", "false"], interval: "1s", timeout: "1s", retries: 1 }, wait: true, waitTimeout: 3 }),
        );
        const failure = await apply(ctx, undefined, never).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(ApplyError);
        expect((failure as ApplyError).message).toMatch(/^never: creating failed: container failed to be in healthy state/);
        const state = (failure as ApplyError).state;
        expect(state.resources.map((r) => [r.name, r.initErrors])).toEqual([["never", ["container failed to be in healthy state"]]]);
        expect((await docker.getContainer(`${CLUSTER}-never`).inspect()).State.Running).toBe(true);
        const idBefore = (await docker.getContainer(`${CLUSTER}-never`).inspect()).Id;

        const next = await apply(ctx, state, never);
        expect(next).toMatchObject({ updated: ["never"], replaced: [], created: [] });
        expect(next.state.resources[0].initErrors).toBeUndefined();
        expect((await docker.getContainer(`${CLUSTER}-never`).inspect()).Id).toBe(idBefore);
        await destroy(ctx, next.state);
    });

    test("an in-place update (restart policy) calls docker update and never restarts the container", async () => {
        const first = declaration(containerResource("inplace", { restart: "no", memory: 64, memorySwap: -1 }));
        const created = await apply(ctx, undefined, first);
        const before = await docker.getContainer(`${CLUSTER}-inplace`).inspect();
        const changed = declaration(containerResource("inplace", { restart: "unless-stopped", memory: 64, memorySwap: -1 }));
        const updated = await apply(ctx, created.state, changed);
        expect(updated).toMatchObject({ updated: ["inplace"], replaced: [] });
        const after = await docker.getContainer(`${CLUSTER}-inplace`).inspect();
        expect(after.HostConfig.RestartPolicy?.Name).toBe("unless-stopped");
        expect([after.Id, after.State.StartedAt]).toEqual([before.Id, before.State.StartedAt]);
        await destroy(ctx, updated.state);
    });

    test("a rebuilt docker.Image is an in-place update whose state carries the new build's repoDigest", async () => {
        const context = mkdtempSync(join(tmpdir(), "kce2e-image-"));
        writeFileSync(join(context, "Dockerfile"), `FROM ${IMAGE}\nARG MARK\nRUN echo "$MARK" > /mark\n`);
        const declared = async (mark: string): Promise<DeclaredResource> => {
            const inputs = checkImageInputs({
                imageName: `${CLUSTER}-built:test`,
                skipPush: true,
                build: { context, dockerfile: join(context, "Dockerfile"), args: { MARK: mark }, builderVersion: "BuilderV1" },
            });
            const built = await buildImageV1(docker, inputs as unknown as ImageBuildInputs);
            return { ...containerResource("built", {}), type: TYPES.image, urn: "urn:pulumi:test::provider::docker:index/image:Image::built", inputs, outputs: { ...inputs, repoDigest: built.id } };
        };
        try {
            const first = await declared("one");
            const created = await apply(ctx, undefined, declaration(first));
            const second = await declared("two");
            expect(second.outputs.repoDigest).not.toBe(first.outputs.repoDigest);
            const updated = await apply(ctx, created.state, declaration(second));
            expect(updated).toMatchObject({ updated: ["built"], replaced: [] });
            expect(updated.state.resources[0].outputs.repoDigest).toBe(second.outputs.repoDigest);
            expect((await refresh(ctx, updated.state)).changed).toEqual([]);
        } finally {
            await docker.getImage(`${CLUSTER}-built:test`).remove({ force: true }).catch(() => undefined);
            rmSync(context, { recursive: true, force: true });
        }
    });

    test("a container removed behind Pulumi's back: plain up changes nothing, deleting fails until a refresh drops it; refresh + up creates it", async () => {
        const lone = declaration(containerResource("lone", {}));
        const created = await apply(ctx, undefined, lone);
        await docker.getContainer(`${CLUSTER}-lone`).remove({ force: true });
        expect(preview(created.state, lone)).toMatchObject({ created: [], updated: [], replaced: [] });
        await expect(destroy(ctx, created.state)).rejects.toThrow(/Error stopping container kce2e-provider-lone/);
        const reread = await refresh(ctx, created.state);
        expect(reread.removed).toEqual(["lone"]);
        const again = await apply(ctx, reread.state, lone);
        expect(again.created).toEqual(["lone"]);
        await destroy(ctx, again.state);
        expect((await labelled(docker, CLUSTER)).containers).toEqual([]);
    });
});

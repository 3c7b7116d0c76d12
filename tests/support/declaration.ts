/**
 * Runs the Pulumi program under the SDK's mocks and records what it declares: every resource with its
 * inputs (secrets unwrapped, but remembered as secret), its resource options and dependencies, and the
 * stack outputs. Unit tests assert on this; the end-to-end harness applies it to a real Docker engine.
 */
import type * as PulumiModule from "@pulumi/pulumi";
import { randomBytes } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { checkImageInputs } from "./imageCheck";

type Pulumi = typeof PulumiModule;

/** Marker the SDK uses on the wire for secret values. */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface DeclaredResource {
    urn: string;
    type: string;
    name: string;
    /** Name of the parent resource ("" for none). */
    parent: string;
    custom: boolean;
    /** Inputs as the program declared them, secrets unwrapped. */
    inputs: Record<string, unknown>;
    /** Top-level input names whose value was (or contained) a secret. */
    secretInputs: string[];
    /** Names of the resources this one depends on (explicit dependsOn and input dependencies). */
    dependsOn: string[];
    /** Per input, the resources whose outputs it was computed from (Pulumi's propertyDependencies). */
    propertyDependencies: Record<string, string[]>;
    /** Name of the explicit provider resource it is managed by; undefined for the default provider. */
    provider?: string;
    deleteBeforeReplace: boolean;
    retainOnDelete: boolean;
    /** Inputs whose change must replace the resource even where the provider would update it in place. */
    replaceOnChanges: string[];
    /**
     * The resource's state. Under the mocks: what the mocked provider returned. In the harness's deployment
     * state: what the provider model holds (read back from Docker after a create or refresh).
     */
    outputs: Record<string, unknown>;
    /** Set in the harness's state when a create failed after the object was made (Pulumi's InitErrors). */
    initErrors?: string[];
}

export interface Declaration {
    resources: DeclaredResource[];
    stackOutputs: Record<string, unknown>;
    /** Names of stack outputs that are secret. */
    secretStackOutputs: string[];
    /** What the program logged with pulumi.log.warn (shown by `pulumi up`). */
    warnings: string[];
}

/** Provider behaviour the mocks need: values a real provider would compute. */
export interface ProviderFake {
    /** Value of RandomPassword.result for a new password. */
    password(name: string, inputs: Record<string, unknown>): string | Promise<string>;
    /** Image id RemoteImage reports for an image reference; `engine`: the docker.Provider's host, undefined for the default. */
    imageId(imageName: string, engine?: string): string | Promise<string>;
    /**
     * Builds a docker.Image (checked inputs) and returns the local image id, its `repoDigest` when not
     * pushed. The real engine builds when the program registers the image, before the resources that use
     * its outputs register, so a fake that runs the program first has to build here.
     */
    buildImage(inputs: Record<string, unknown>, engine?: string): string | Promise<string>;
}

/** Deterministic fakes for unit tests. */
export const unitProviderFake: ProviderFake = {
    password: (name) => `generated-${name}`,
    imageId: (imageName) => `sha256:fake-${imageName}`,
    buildImage: (inputs) => `sha256:fake-build-${String(inputs.imageName)}`,
};

function unwrapSecrets(value: unknown): { value: unknown; secret: boolean } {
    if (Array.isArray(value)) {
        const items = value.map(unwrapSecrets);
        return { value: items.map((item) => item.value), secret: items.some((item) => item.secret) };
    }
    if (value !== null && typeof value === "object") {
        const record = value as Record<string, unknown>;
        if (record[SIG_KEY] === SECRET_SIG) {
            return { value: unwrapSecrets(record.value).value, secret: true };
        }
        let secret = false;
        const plain: Record<string, unknown> = {};
        for (const [key, child] of Object.entries(record)) {
            const unwrapped = unwrapSecrets(child);
            secret ||= unwrapped.secret;
            plain[key] = unwrapped.value;
        }
        return { value: plain, secret };
    }
    return { value, secret: false };
}

function secret(value: unknown) {
    return { [SIG_KEY]: SECRET_SIG, value };
}

function nameOfUrn(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}

export interface DeclareOptions {
    /** The `@pulumi/pulumi` module instance the program will load (matters under jest's module isolation). */
    pulumi: Pulumi;
    /** Stack config with namespaced keys, e.g. `{ "keycloak-cluster:replicas": "3" }`. */
    config: Record<string, string>;
    /** Namespaced keys whose values were set with `config set --secret` (the engine tells the program which). */
    secretKeys?: string[];
    /** Loads the program (e.g. `() => require("../../index")`) and returns its exports. */
    loadProgram: () => Record<string, unknown>;
    fake?: ProviderFake;
    /**
     * The state of the last deployment: a resource with the same name and inputs keeps its outputs, as
     * the Pulumi engine would keep it untouched (so generated passwords are not regenerated).
     */
    prior?: Declaration;
    project?: string;
    stack?: string;
}

export async function declare(options: DeclareOptions): Promise<Declaration> {
    const { pulumi } = options;
    const fake = options.fake ?? unitProviderFake;
    const priorByUrn = new Map((options.prior?.resources ?? []).map((resource) => [resource.urn, resource]));
    const resources: DeclaredResource[] = [];
    const providerHosts = new Map<string, string>();

    const mocks: PulumiModule.runtime.Mocks = {
        async newResource(args) {
            let inputs = unwrapSecrets(args.inputs).value as Record<string, unknown>;
            // An explicit provider reference is "<urn>::<id>"; its host decides which engine the fakes ask.
            const engine = args.provider ? providerHosts.get(args.provider.slice(args.provider.lastIndexOf("::") + 2)) : undefined;
            if (args.type === TYPES.image) inputs = checkImageInputs(inputs);
            const id = `${args.name}-id`;
            if (args.type === TYPES.dockerProvider) providerHosts.set(id, String(inputs.host));
            const previous = [...priorByUrn.values()].find((resource) => resource.name === args.name && resource.type === args.type);
            if (previous && isDeepStrictEqual(previous.inputs, inputs)) {
                const state = { ...previous.outputs };
                if (args.type === "random:index/randomPassword:RandomPassword") state.result = secret(state.result);
                return { id, state };
            }
            switch (args.type) {
                case "random:index/randomPassword:RandomPassword":
                    return { id, state: { ...args.inputs, result: secret(await fake.password(args.name, inputs)) } };
                case TYPES.randomId: {
                    // resource_id.go Create: byteLength random bytes, keepers and prefix kept as planned.
                    const bytes = randomBytes(Number(inputs.byteLength));
                    return { id, state: { ...args.inputs, hex: bytes.toString("hex"), b64Std: bytes.toString("base64"), b64Url: bytes.toString("base64url"), dec: BigInt(`0x${bytes.toString("hex")}`).toString() } };
                }
                case "docker:index/remoteImage:RemoteImage":
                    return { id, state: { ...args.inputs, imageId: await fake.imageId(String(inputs.name), engine), repoDigest: "" } };
                case TYPES.image: {
                    // image.go Create: outputs imageName, and with skipPush the local image id as repoDigest.
                    const build = inputs.build as Record<string, unknown>;
                    return {
                        id: String(inputs.imageName),
                        state: { ...inputs, repoDigest: await fake.buildImage(inputs, engine), baseImageName: inputs.imageName, context: build.context, dockerfile: build.dockerfile, platform: build.platform, registryServer: "" },
                    };
                }
                default:
                    return { id, state: args.inputs };
            }
        },
        call(args) {
            throw new Error(`The program made an unexpected provider call: ${args.token}`);
        },
    };

    // Everything up to loading the program runs synchronously, so a caller can wrap this call in
    // jest.isolateModules and the program gets that fresh module registry.
    const mocksSet = pulumi.runtime.setMocks(mocks, options.project ?? "keycloak-cluster", options.stack ?? "test", false);
    pulumi.runtime.setAllConfig(options.config, options.secretKeys ?? []);

    const monitor = pulumi.runtime.getMonitor() as unknown as {
        registerResource(request: RegisterResourceRequest, callback: (error: unknown, response: unknown) => void): void;
    };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (request, callback) => {
        register(request, (error, response) => {
            if (!error) {
                const urn = (response as { getUrn(): string }).getUrn();
                const raw = request.getObject().toJavaScript() as Record<string, unknown>;
                let inputs: Record<string, unknown> = {};
                const secretInputs: string[] = [];
                for (const [key, value] of Object.entries(raw)) {
                    const unwrapped = unwrapSecrets(value);
                    inputs[key] = unwrapped.value;
                    if (unwrapped.secret) secretInputs.push(key);
                }
                // The state holds the image's checked inputs (with contextDigest), which its Diff compares.
                if (request.getType() === TYPES.image) inputs = checkImageInputs(inputs);
                const state = unwrapSecrets((response as { getObject(): { toJavaScript(): unknown } }).getObject().toJavaScript());
                resources.push({
                    urn,
                    type: request.getType(),
                    name: request.getName(),
                    parent: request.getParent() ? nameOfUrn(request.getParent()) : "",
                    custom: request.getCustom(),
                    // "<urn>::<id>" of an explicit provider; empty for the default one.
                    ...(request.getProvider() ? { provider: nameOfUrn(request.getProvider().slice(0, request.getProvider().lastIndexOf("::"))) } : {}),
                    inputs,
                    secretInputs: secretInputs.sort(),
                    dependsOn: [...new Set(request.getDependenciesList().map(nameOfUrn))].sort(),
                    propertyDependencies: propertyDependencies(request),
                    deleteBeforeReplace: request.getDeletebeforereplace(),
                    retainOnDelete: request.getRetainondelete() === true,
                    replaceOnChanges: [...request.getReplaceonchangesList()].sort(),
                    outputs: state.value as Record<string, unknown>,
                });
            }
            callback(error, response);
        });
    };

    // Without an engine (under the mocks) pulumi.log.warn writes "warning: [runtime] <message>" to
    // console.warn (sdk/nodejs/log/index.ts); that is where the program's warnings are collected.
    const warnings: string[] = [];
    const consoleWarn = console.warn;
    console.warn = (...args: unknown[]) => {
        const text = args.map(String).join(" ");
        if (text.startsWith("warning: [runtime] ")) warnings.push(text.slice("warning: [runtime] ".length));
        else consoleWarn(...args);
    };
    let exported: Record<string, unknown>;
    try {
        exported = options.loadProgram();
        await mocksSet;
    } catch (error) {
        console.warn = consoleWarn;
        throw error;
    }
    const stackOutputs: Record<string, unknown> = {};
    const secretStackOutputs: string[] = [];
    for (const [key, value] of Object.entries(exported)) {
        if (!pulumi.Output.isInstance(value)) continue;
        stackOutputs[key] = await new Promise((resolve) => value.apply((resolved) => resolve(resolved)));
        if (await pulumi.isSecret(value)) secretStackOutputs.push(key);
    }
    try {
        await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    } finally {
        console.warn = consoleWarn;
    }
    resources.sort((a, b) => a.urn.localeCompare(b.urn));
    return { resources, stackOutputs, secretStackOutputs: secretStackOutputs.sort(), warnings };
}

interface RegisterResourceRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getProvider(): string;
    getObject(): { toJavaScript(): unknown };
    getDependenciesList(): string[];
    getPropertydependenciesMap(): { forEach(callback: (value: { getUrnsList(): string[] }, key: string) => void): void };
    getDeletebeforereplace(): boolean;
    getRetainondelete(): boolean | undefined;
    getReplaceonchangesList(): string[];
}

function propertyDependencies(request: RegisterResourceRequest): Record<string, string[]> {
    const entries: [string, string[]][] = [];
    request.getPropertydependenciesMap().forEach((dependencies, key) => {
        const names = [...new Set(dependencies.getUrnsList().map(nameOfUrn))].sort();
        if (names.length > 0) entries.push([key, names]);
    });
    return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
}

/** Resources of one type, in declaration order. */
export function ofType(declaration: Declaration, type: string): DeclaredResource[] {
    return declaration.resources.filter((resource) => resource.type === type);
}

export const TYPES = {
    container: "docker:index/container:Container",
    network: "docker:index/network:Network",
    volume: "docker:index/volume:Volume",
    remoteImage: "docker:index/remoteImage:RemoteImage",
    image: "docker:index/image:Image",
    randomPassword: "random:index/randomPassword:RandomPassword",
    randomId: "random:index/randomId:RandomId",
    dockerProvider: "pulumi:providers:docker",
    cluster: "keycloak-cluster:index:KeycloakCluster",
} as const;

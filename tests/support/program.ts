/**
 * Runs the real program (index.ts) under the SDK mocks: shared by the unit tests, the e2e suite and the
 * harness CLI. The stack config first goes through the Pulumi CLI's own rules (Pulumi.yaml defaults merged
 * in as plain values, secret and type checks; tests/support/pulumiConfig.ts), so the program sees exactly
 * what `pulumi up` would hand it, and a config the CLI would refuse is refused here too.
 */
import type { Declaration, ProviderFake } from "./declaration";
import { declare, unitProviderFake } from "./declaration";
import { loadProject, mergeStackConfig, StackValue } from "./pulumiConfig";

/** Stack config without the namespace, e.g. `{ replicas: 3 }`. */
export type StackConfig = Record<string, string | number | boolean>;

export interface StackOptions {
    /** Keys (without namespace) set with `pulumi config set --secret`. */
    secretKeys?: string[];
    /** The stack's name, as the CLI names it in its errors. */
    stackName?: string;
}

// Every fresh copy of the Pulumi SDK (one per isolated declaration) adds a process exit listener.
process.setMaxListeners(300);

export function namespaced(config: StackConfig): Record<string, string> {
    return Object.fromEntries(Object.entries(config).map(([key, value]) => [`keycloak-cluster:${key}`, String(value)]));
}

/** What the CLI hands the program for this stack config (throws the CLI's error where it would refuse). */
export function programConfig(config: StackConfig, options: StackOptions = {}): { config: Record<string, string>; secretKeys: string[] } {
    const secret = new Set(options.secretKeys ?? []);
    const stack: Record<string, StackValue> = Object.fromEntries(Object.entries(config).map(([key, value]) => [key, { value: String(value), secure: secret.has(key) }]));
    return mergeStackConfig(loadProject(), options.stackName ?? "test", stack);
}

/**
 * Declares once with the caller's module system: a plain Node process (the harness CLI) declares once;
 * under jest use {@link declareStack}, which gives every declaration a fresh program.
 */
export function declareProgram(config: StackConfig, fake: ProviderFake = unitProviderFake, prior?: Declaration, options: StackOptions = {}): Promise<Declaration> {
    const merged = programConfig(config, options);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pulumi = require("@pulumi/pulumi");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return declare({ pulumi, config: merged.config, secretKeys: merged.secretKeys, fake, prior, stack: options.stackName ?? "test", loadProgram: () => require("../../index") });
}

/** Under jest: declares in a fresh module registry, so each call runs the program anew. */
export async function declareStack(config: StackConfig = {}, fake: ProviderFake = unitProviderFake, prior?: Declaration, options: StackOptions = {}): Promise<Declaration> {
    let declaration: Declaration | undefined;
    await jest.isolateModulesAsync(async () => {
        declaration = await declareProgram(config, fake, prior, options);
    });
    return declaration!;
}

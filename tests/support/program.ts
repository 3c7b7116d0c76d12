/** Runs the real program (index.ts) under the SDK mocks: shared by the unit tests, the e2e suite and the harness CLI. */
import type { Declaration, ProviderFake } from "./declaration";
import { declare, unitProviderFake } from "./declaration";

/** Stack config without the namespace, e.g. `{ replicas: 3 }`. */
export type StackConfig = Record<string, string | number | boolean>;

// Every fresh copy of the Pulumi SDK (one per isolated declaration) adds a process exit listener.
process.setMaxListeners(100);

export function namespaced(config: StackConfig): Record<string, string> {
    return Object.fromEntries(Object.entries(config).map(([key, value]) => [`keycloak-cluster:${key}`, String(value)]));
}

/**
 * Declares once with the caller's module system: a plain Node process (the harness CLI) declares once;
 * under jest use {@link declareStack}, which gives every declaration a fresh program.
 */
export function declareProgram(config: StackConfig, fake: ProviderFake = unitProviderFake, prior?: Declaration): Promise<Declaration> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pulumi = require("@pulumi/pulumi");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return declare({ pulumi, config: namespaced(config), fake, prior, stack: "test", loadProgram: () => require("../../index") });
}

/** Under jest: declares in a fresh module registry, so each call runs the program anew. */
export async function declareStack(config: StackConfig = {}, fake: ProviderFake = unitProviderFake, prior?: Declaration): Promise<Declaration> {
    let declaration: Declaration | undefined;
    await jest.isolateModulesAsync(async () => {
        declaration = await declareProgram(config, fake, prior);
    });
    return declaration!;
}

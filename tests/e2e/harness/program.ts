/** Declares the real program (index.ts) with a stack config, for the harness CLI and the suite. */
import type { Declaration, ProviderFake } from "../../support/declaration";
import { declare } from "../../support/declaration";

/** The stack config the e2e runs use unless told otherwise: the locally built images. */
export const E2E_IMAGES = {
    keycloakImage: "keycloak-cluster-e2e/keycloak:26.7.3",
    postgresImage: "keycloak-cluster-e2e/postgres:17",
    loadBalancerImage: "keycloak-cluster-e2e/haproxy:3.0",
} as const;

export type StackConfig = Record<string, string | number | boolean>;

export function namespaced(config: StackConfig): Record<string, string> {
    return Object.fromEntries(Object.entries(config).map(([key, value]) => [`keycloak-cluster:${key}`, String(value)]));
}

/**
 * Runs index.ts under the SDK mocks. Loads `@pulumi/pulumi` and the program with the caller's module
 * system at call time, so under jest wrap the call in `jest.isolateModulesAsync` for a fresh program
 * per declaration; a plain Node process can declare once.
 */
export function declareProgram(config: StackConfig, fake: ProviderFake, prior?: Declaration): Promise<Declaration> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pulumi = require("@pulumi/pulumi");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return declare({ pulumi, config: namespaced(config), fake, prior, stack: "e2e", loadProgram: () => require("../../../index") });
}

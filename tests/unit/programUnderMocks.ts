import { Declaration, declare } from "../support/declaration";

/** Runs index.ts with this stack config (keys without namespace) in a fresh module registry. */
export function declareStack(config: Record<string, string | number | boolean> = {}): Promise<Declaration> {
    const namespaced = Object.fromEntries(Object.entries(config).map(([key, value]) => [`keycloak-cluster:${key}`, String(value)]));
    let declaration!: Promise<Declaration>;
    jest.isolateModules(() => {
        const pulumi = require("@pulumi/pulumi");
        declaration = declare({ pulumi, config: namespaced, loadProgram: () => require("../../index") });
    });
    return declaration;
}

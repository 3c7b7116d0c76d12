import { Declaration, declare } from "../support/declaration";

// Every fresh copy of the Pulumi SDK adds a process exit listener.
process.setMaxListeners(100);

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

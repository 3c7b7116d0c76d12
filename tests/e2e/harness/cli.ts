/**
 * Brings the program up on the local Docker engine and leaves it running, like `pulumi up` would.
 *
 *   npm run e2e:up                      # declare with the e2e images, apply, save the state
 *   npm run e2e:up -- replicas=3        # change stack config: only the difference is applied
 *   npm run e2e:up -- hostname=         # an empty value removes a key (back to the default)
 *   npm run e2e:down                    # destroy what the saved state holds
 *
 * Config keys are the program's stack-config keys (without the `keycloak-cluster:` namespace); they are
 * remembered in .e2e-state/stack.json (mode 0600: it holds the generated passwords). Secrets are never printed.
 */
import type { Declaration } from "../../support/declaration";
import { apply, destroy, newContext } from "./apply";
import { connectDocker, ensureEngine } from "./docker";
import { declareProgram, StackConfig } from "../../support/program";
import { E2E_IMAGES } from "./images";
import { localProviderFake } from "./providerFake";
import { loadState, removeState, saveState, STATE_FILE } from "./state";

const log = (message: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);

function parseArgs(args: string[]): Record<string, string> {
    const parsed: Record<string, string> = {};
    for (const arg of args) {
        const match = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/s.exec(arg);
        if (!match) throw new Error(`Expected key=value, got "${arg}"`);
        parsed[match[1]] = match[2];
    }
    return parsed;
}

function mergedConfig(saved: StackConfig | undefined, args: Record<string, string>): StackConfig {
    const config: StackConfig = { ...E2E_IMAGES, ...saved };
    for (const [key, value] of Object.entries(args)) {
        if (value === "") delete config[key];
        else config[key] = value;
    }
    return config;
}

/** Everything in `a`, plus what only `b` has (so a failed run's state still lets `down` remove it all). */
function union(a: Declaration, b: Declaration | undefined): Declaration {
    const keys = new Set(a.resources.map((r) => `${r.type}::${r.name}`));
    return { ...a, resources: [...a.resources, ...(b?.resources ?? []).filter((r) => !keys.has(`${r.type}::${r.name}`))] };
}

function printOutputs(declaration: Declaration): void {
    for (const [key, value] of Object.entries(declaration.stackOutputs)) {
        const shown = declaration.secretStackOutputs.includes(key) ? `[secret] (stackOutputs.${key} in ${STATE_FILE})` : JSON.stringify(value);
        process.stdout.write(`  ${key}: ${shown}\n`);
    }
}

async function up(args: string[]): Promise<void> {
    const saved = loadState();
    const config = mergedConfig(saved?.config, parseArgs(args));
    const docker = connectDocker();
    await ensureEngine(docker);
    const declaration = await declareProgram(config, localProviderFake(docker), saved?.declaration);
    try {
        const result = await apply(newContext(docker, log), saved?.declaration, declaration);
        saveState({ config, declaration });
        log(
            `applied in ${result.seconds.toFixed(1)}s: created [${result.created.join(", ")}], replaced [${result.replaced.join(", ")}], ` +
                `deleted [${result.deleted.join(", ")}], ${result.untouched.length} unchanged` +
                (Object.keys(result.refreshed).length > 0 ? `, healed ${JSON.stringify(result.refreshed)}` : ""),
        );
        printOutputs(declaration);
    } catch (error) {
        saveState({ config, declaration: union(declaration, saved?.declaration) });
        throw error;
    }
}

async function down(): Promise<void> {
    const saved = loadState();
    if (!saved) {
        log(`nothing to destroy: no ${STATE_FILE}`);
        return;
    }
    const docker = connectDocker();
    await ensureEngine(docker);
    const result = await destroy(newContext(docker, log), saved.declaration);
    removeState();
    log(`destroyed: deleted [${result.deleted.join(", ")}], already gone [${result.absent.join(", ")}]`);
    for (const name of result.retained) {
        const resource = saved.declaration.resources.find((r) => r.name === name);
        log(`kept ${name} (retainOnDelete): remove it with docker volume rm ${String(resource?.inputs.name)}`);
    }
}

async function main(): Promise<void> {
    const [command, ...args] = process.argv.slice(2);
    if (command === "up") await up(args);
    else if (command === "down" && args.length === 0) await down();
    else throw new Error("usage: cli.ts up [key=value ...] | cli.ts down");
}

main().catch((error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
});

/**
 * Brings the program up on the local Docker engine and leaves it running, playing `pulumi up` with the
 * harness's model of the Pulumi engine and the Docker provider.
 *
 *   npm run e2e:up                              # declare with the e2e images, apply, save the state
 *   npm run e2e:up -- replicas=3                # change stack config: only the difference is applied
 *   npm run e2e:up -- --refresh                 # pulumi up --refresh: read the engine's state first
 *   npm run e2e:up -- --replace=kc-node-2       # pulumi up --replace: replace that resource
 *   npm run e2e:up -- --secret adminPassword=…  # like pulumi config set --secret
 *   npm run e2e:up -- hostname=                 # an empty value removes a key (back to the default)
 *   npm run e2e:preview [-- --refresh]          # what up would do, without doing it
 *   npm run e2e:down                            # destroy what the saved state holds
 *
 * Config keys are the program's stack-config keys (without the `keycloak-cluster:` namespace); they are
 * remembered in .e2e-state/stack.json (mode 0600: it holds the generated passwords). Secrets are never printed.
 */
import { apply, ApplyError, destroy, newContext, preview, refresh } from "./apply";
import { connectDocker, ensureEngine } from "./docker";
import { declareProgram, StackConfig } from "../../support/program";
import type { Declaration } from "../../support/declaration";
import { E2E_IMAGES } from "./images";
import { localProviderFake } from "./providerFake";
import { loadState, removeState, saveState, STATE_FILE } from "./state";

const log = (message: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);

interface Arguments {
    config: Record<string, string>;
    secretKeys: string[];
    refresh: boolean;
    replace: string[];
}

function parseArgs(args: string[]): Arguments {
    const parsed: Arguments = { config: {}, secretKeys: [], refresh: false, replace: [] };
    for (let index = 0; index < args.length; index++) {
        const arg = args[index];
        if (arg === "--refresh") parsed.refresh = true;
        else if (arg.startsWith("--replace=")) parsed.replace.push(arg.slice("--replace=".length));
        else {
            const secret = arg === "--secret";
            const pair = secret ? args[++index] ?? "" : arg;
            const match = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/s.exec(pair);
            if (!match) throw new Error(`Expected key=value, --secret key=value, --refresh or --replace=<name>, got "${pair}"`);
            parsed.config[match[1]] = match[2];
            if (secret) parsed.secretKeys.push(match[1]);
        }
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

function printOutputs(declaration: Declaration): void {
    for (const [key, value] of Object.entries(declaration.stackOutputs)) {
        const shown = declaration.secretStackOutputs.includes(key) ? `[secret] (stackOutputs.${key} in ${STATE_FILE})` : JSON.stringify(value);
        process.stdout.write(`  ${key}: ${shown}\n`);
    }
}

async function up(args: string[], dryRun: boolean): Promise<void> {
    const saved = loadState();
    const parsed = parseArgs(args);
    const config = mergedConfig(saved?.config, parsed.config);
    const secretKeys = [...new Set([...(saved?.secretKeys ?? []), ...parsed.secretKeys])].filter((key) => key in config);
    const docker = connectDocker();
    await ensureEngine(docker);
    const ctx = newContext(docker, log);
    let state = saved?.declaration;
    if (parsed.refresh && state) state = (await refresh(ctx, state)).state;
    const declaration = await declareProgram(config, localProviderFake(docker, log), state, { secretKeys, stackName: "e2e" });
    for (const warning of declaration.warnings) log(`warning: ${warning}`);
    if (dryRun) {
        const planned = preview(state, declaration, parsed.replace);
        log(`preview: create [${planned.created.join(", ")}], update [${planned.updated.join(", ")}], replace [${planned.replaced.join(", ")}], delete [${planned.deleted.join(", ")}], ${planned.untouched.length} unchanged`);
        for (const [name, change] of Object.entries(planned.changes)) log(`  ${name}: changed ${change.changed.join(", ")}${change.replaceKeys.length ? ` (replace: ${change.replaceKeys.join(", ")})` : ""}`);
        return;
    }
    try {
        const result = await apply(ctx, state, declaration, { replace: parsed.replace });
        saveState({ config, secretKeys, declaration: result.state });
        log(
            `applied in ${result.seconds.toFixed(1)}s: created [${result.created.join(", ")}], updated [${result.updated.join(", ")}], replaced [${result.replaced.join(", ")}], ` +
                `deleted [${result.deleted.join(", ")}], ${result.untouched.length} unchanged`,
        );
        printOutputs(result.state);
    } catch (error) {
        if (error instanceof ApplyError) saveState({ config, secretKeys, declaration: error.state });
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
    log(`destroyed: deleted [${result.deleted.join(", ")}]`);
    for (const name of result.retained) {
        const resource = saved.declaration.resources.find((r) => r.name === name);
        log(`kept ${name} (retainOnDelete): remove it with docker volume rm ${String(resource?.inputs.name)}`);
    }
}

async function main(): Promise<void> {
    const [command, ...args] = process.argv.slice(2);
    if (command === "up") await up(args, false);
    else if (command === "preview") await up(args, true);
    else if (command === "down" && args.length === 0) await down();
    else throw new Error("usage: cli.ts up|preview [--refresh] [--replace=<name>] [--secret key=value] [key=value ...] | cli.ts down");
}

main().catch((error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
});

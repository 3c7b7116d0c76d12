/**
 * What pulumi-docker's native `docker.Image` (provider/image.go) does in Check before any diff: it fills in
 * the Dockerfile path and the platform, and stores `build.contextDigest`, a hash over the Dockerfile and
 * every file of the build context (path, mode, content; `hashContext`). Its Diff then compares these checked
 * inputs with the old ones, so a changed file in the context is a change like any input. The digest here is
 * not byte-for-byte the provider's (it ignores .dockerignore, which our context does not have), only as
 * sensitive to the same changes.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** Every file below `directory`, sorted. */
export function filesUnder(directory: string): string[] {
    return readdirSync(directory, { withFileTypes: true })
        .flatMap((entry) => (entry.isDirectory() ? filesUnder(join(directory, entry.name)) : [join(directory, entry.name)]))
        .sort();
}

export function contextDigest(context: string, dockerfile: string): string {
    const hash = createHash("sha256");
    for (const file of [...new Set([dockerfile, ...filesUnder(context)])]) {
        hash.update(relative(context, file)).update(String(statSync(file).mode)).update(createHash("sha256").update(readFileSync(file)).digest("hex"));
    }
    return hash.digest("hex");
}

/** The image inputs after the provider's Check (defaults and contextDigest added). */
export function checkImageInputs(inputs: Record<string, unknown>): Record<string, unknown> {
    const build = { ...((inputs.build as Record<string, unknown> | undefined) ?? {}) };
    const context = String(build.context ?? ".");
    const dockerfile = String(build.dockerfile ?? join(context, "Dockerfile"));
    return {
        ...inputs,
        build: { ...build, context, dockerfile, platform: build.platform ?? "linux/amd64", contextDigest: contextDigest(context, dockerfile) },
    };
}
